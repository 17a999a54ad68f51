// Draws every chart of the page: each <div class="chart" data-option="ID"> gets the ECharts
// option held in <script type="application/json" id="ID">. No inline script: the CSP allows
// scripts from the site only. Charts follow the colour scheme and the page's range switch.
//
// A chart on the range switch also has data-ranges: per range, the x axis, the value axis
// fitted to that range's data, and whether the threshold lies within it (else a note says where
// it is). Its data (one bucket width across the range) are in the page, or, for a product's
// charts, in the product's chart files that the page's "chart-data" document names: one file
// per day or week that is over (named by its content's hash, cached forever) and a current
// file. The page's generator decides all of it; this script only fetches and applies it.
//
// window.portfolioCharts.ready is a promise that settles when every chart shows its range;
// portfolioCharts.refresh() redraws the charts whose option or data changed after live.js
// updated the page (and draws new ones), keeping each on the range the switch shows.
(function () {
  "use strict";
  var registry = [];
  var chartData = null; // the page's "chart-data" document
  var chartDataText = "";
  var files = {};       // URL → promise of the file's JSON
  var api = window.portfolioCharts = { ready: Promise.resolve() };
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");

  // Colours of text and lines drawn on the canvas, per scheme: text 4.5:1 and lines 3:1
  // against the page's background (WCAG AA). Series colours suit both schemes as they are.
  function colours() {
    return dark && dark.matches
      ? { fg: "#d5dae1", grid: "#3a404a", axis: "#8b949e", threshold: "#ff7b72" }
      : { fg: "#2b2f36", grid: "#e3e6ea", axis: "#6e7781", threshold: "#b42318" };
  }

  function themed(option) {
    var c = colours();
    option.backgroundColor = "transparent";
    option.textStyle = { color: c.fg };
    option.useUTC = true; // times are on the site's wall clock already
    if (option.tooltip) option.tooltip.confine = true; // never wider than the chart (a phone)
    if (option.legend) {
      option.legend.textStyle = { color: c.fg };
      option.legend.pageTextStyle = { color: c.fg };
      option.legend.pageIconColor = c.fg;
      option.legend.pageIconInactiveColor = c.axis;
    }
    [].concat(option.xAxis || [], option.yAxis || []).forEach(function (ax) {
      ax.axisLabel = Object.assign({}, ax.axisLabel, { color: c.fg, hideOverlap: true });
      // The unit above a y axis starts at the axis, so a long one is not cut at the edge.
      ax.nameTextStyle = { color: c.fg, align: "left" };
      ax.axisLine = { lineStyle: { color: c.axis } };
      ax.splitLine = Object.assign({}, ax.splitLine, { lineStyle: { color: c.grid } });
    });
    (option.series || []).forEach(function (s) {
      if (!s.markLine) return;
      s.markLine.label = Object.assign({}, s.markLine.label, { color: c.threshold });
    });
    return option;
  }

  var esc = function (s) { return echarts.format.encodeHTML(String(s)); };
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  var days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function when(ms) {
    var d = new Date(ms);
    return days[d.getUTCDay()] + " " + d.getUTCDate() + " " + months[d.getUTCMonth()] + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  // tooltip lists the values at the pointer: a band as "low–high", deployments only near the
  // pointer (ECharts offers the nearest one however far), values with the axis's unit.
  function tooltip(r, params) {
    if (!Array.isArray(params) || !params.length) return "";
    var at = params[0].axisValue;
    var width = r.current ? r.current.w : 0;
    var unit = (r.option.yAxis && r.option.yAxis[0] && r.option.yAxis[0].name) || "";
    // A bucket's time is its start: the header names the bucket; at a deployment, its time.
    var bucket = params.some(function (p) { return !/^deploy/.test(p.seriesId || ""); });
    var head = when(at) + (width && bucket ? "–" + when(at + width).slice(-5) : "");
    if (bucket && width >= 864e5) head = when(at).slice(0, -6); // a day: its date
    var lines = [esc(head)];
    params.forEach(function (p) {
      var v = p.value || p.data;
      if (!Array.isArray(v)) v = [p.axisValue, v];
      var id = p.seriesId || "";
      if (id.indexOf("band_low") === 0) return;
      if (id.indexOf("deploy") === 0) {
        if (Math.abs(v[0] - at) > Math.max(width, 60000) / 2) return;
        lines.push(p.marker + esc(p.seriesName) + ": " + esc(v[2]).replace(/\n/g, "<br>")); // a suspect's regressions, a line each
        return;
      }
      if (v[1] === null || v[1] === undefined) return;
      if (id.indexOf("band") === 0) {
        lines.push(p.marker + esc(p.seriesName) + ": " + esc(round(v[2] - v[1])) + "–" + esc(round(v[2])) + " " + esc(unit));
        return;
      }
      lines.push(p.marker + esc(p.seriesName) + ": " + esc(round(v[1])) + " " + esc(unit));
    });
    return lines.join("<br>");
  }
  function round(v) { return Math.round(v * 1000) / 1000; }

  function init(el) {
    if (!document.getElementById(el.getAttribute("data-option")) || typeof echarts === "undefined") return;
    var r = { el: el, chart: echarts.init(el, null, { renderer: "canvas" }) };
    registry.push(r);
    return setup(r);
  }

  // sources is the text of a chart's option and ranges, and of the chart-data document.
  function sources(el) {
    var src = document.getElementById(el.getAttribute("data-option"));
    var rsrc = el.hasAttribute("data-ranges") && document.getElementById(el.getAttribute("data-ranges"));
    return { option: src ? src.textContent : "", ranges: rsrc ? rsrc.textContent : "", data: chartDataText };
  }

  // setup (re)draws a chart from its option, on the range the switch shows.
  function setup(r) {
    var s = sources(r.el);
    r.src = s.option + "\n" + s.ranges + "\n" + s.data;
    var option = r.option = themed(JSON.parse(s.option));
    r.ranges = s.ranges ? JSON.parse(s.ranges) : null;
    r.current = null;
    if (option.tooltip && r.ranges) option.tooltip.formatter = function (params) { return tooltip(r, params); };
    // The deployment markers, from the file the page's chart document names.
    var murl = r.el.hasAttribute("data-markers") && chartData && chartData.markers;
    var markers = murl ? load(murl).catch(function () { return []; }) : Promise.resolve([]);
    return markers.then(function (m) {
      option.series = (option.series || []).concat(m);
      r.chart.setOption(option, true);
      return r.ranges ? apply(r, shown(r)) : null;
    });
  }

  // shown is the range the switch shows (the default before the switch is used).
  function shown(r) {
    var b = document.querySelector('[data-range-switch] button[aria-pressed="true"]');
    var key = b && b.getAttribute("data-range");
    return key && r.ranges.ranges[key] ? key : r.ranges.default;
  }

  // refresh follows an update of the page: charts gone are disposed, new ones drawn, and those
  // whose option, ranges or chart files changed drawn again.
  api.refresh = function () {
    readChartData();
    var jobs = [];
    registry = registry.filter(function (r) {
      if (document.documentElement.contains(r.el)) return true;
      r.chart.dispose();
      return false;
    });
    Array.prototype.forEach.call(document.querySelectorAll(".chart[data-option]"), function (el) {
      var r = registry.filter(function (x) { return x.el === el; })[0];
      if (!r) { jobs.push(init(el)); return; }
      var s = sources(el);
      if (s.option + "\n" + s.ranges + "\n" + s.data !== r.src) jobs.push(setup(r));
    });
    api.ready = Promise.all(jobs);
    return api.ready;
  };

  function readChartData() {
    var cd = document.getElementById("chart-data");
    chartDataText = cd ? cd.textContent : "";
    chartData = cd ? JSON.parse(chartDataText) : null;
  }

  // load fetches a chart file once.
  function load(url) {
    if (!files[url]) {
      files[url] = fetch(url, { credentials: "same-origin" }).then(function (res) {
        if (!res.ok) throw new Error(url + ": HTTP " + res.status);
        return res.json();
      }).catch(function (err) {
        delete files[url]; // asked again at the next draw
        throw err;
      });
    }
    return files[url];
  }

  // rowsOf reads the rows of one range from the range's files: [time in ms, a value per
  // column], the times made absolute, rows before the range's first bucket left out.
  function rowsOf(key) {
    var d = chartData.ranges[key];
    return Promise.all(d.files.map(load)).then(function (docs) {
      var out = [];
      docs.forEach(function (doc) {
        var rows = doc.rows || (doc.ranges && doc.ranges[key]) || [];
        var t = 0;
        rows.forEach(function (row, k) {
          t = k === 0 ? row[0] : t + row[0] * 1000;
          if (t >= d.from) out.push([t].concat(row.slice(1)));
        });
      });
      return out;
    });
  }

  // fileSeries turns the rows into the chart's series: [time, value], a column drawn at its
  // bucket's end ("budget$") at the end, and a band [time, height, top] stacked on its bottom.
  function fileSeries(r, rows, p) {
    var cols = chartData.cols;
    var idx = r.ranges.cols.map(function (c) { return cols.indexOf(c.replace(/\$$/, "")) + 1; });
    return r.ranges.cols.map(function (c, i) {
      var end = /\$$/.test(c);
      var id = (r.option.series[i] && r.option.series[i].id) || "";
      var band = id.indexOf("band_low") !== 0 && id.indexOf("band") === 0;
      return rows.map(function (row) {
        var t = end ? Math.min(row[0] + p.w, p.x[1]) : row[0];
        var v = row[idx[i]];
        if (band) {
          var lo = row[idx[i - 1]];
          return v === null || lo === null ? [t, null, null] : [t, v - lo, v];
        }
        return [t, v];
      });
    });
  }

  // apply shows one range of a chart: its data, axes, threshold and note.
  function apply(r, key) {
    var p = r.ranges.ranges[key];
    if (!p) return Promise.resolve();
    r.want = key;
    var data = r.ranges.cols && chartData
      ? rowsOf(key).then(function (rows) { return fileSeries(r, rows, p); })
      : r.ranges.file
        ? load(r.ranges.file).then(function (doc) { return columns(r, (doc.ranges && doc.ranges[key]) || []); })
        : Promise.resolve(columns(r, p.rows || []));
    return data.then(function (series) {
      if (r.want !== key) return; // another range was asked for meanwhile
      r.current = p;
      var patch = {
        xAxis: [{ min: p.x[0], max: p.x[1] }],
        yAxis: [{ min: p.y.min, max: p.y.max, interval: p.y.interval }],
        series: series.map(function (d) { return { data: d }; })
      };
      if (r.ranges.threshold) patch.series[0].markLine = { data: p.mark ? [r.ranges.threshold] : [] };
      r.chart.setOption(patch);
      r.el.classList.toggle("is-empty", !!p.empty);
      r.el.setAttribute("data-drawn", key);
      var box = r.el.parentNode;
      var empty = box.querySelector(".range-empty");
      if (empty) empty.hidden = !p.empty;
      var note = box.querySelector("[data-note]");
      if (note) {
        note.textContent = p.note || "";
        note.hidden = !p.note || !!p.empty;
      }
    }, function (err) {
      r.el.setAttribute("data-drawn", "error");
      var box = r.el.parentNode;
      var note = box.querySelector("[data-note]");
      if (note) {
        note.textContent = "The chart's data could not be loaded; the table of every day has them.";
        note.hidden = false;
      }
      if (window.console) console.warn(err);
    });
  }

  // columns turns a range's rows ([time, value per series…], the first time in ms, the next
  // ones in seconds after the row before) into each series' data: [time, value], and for a
  // band [time, height, top] stacked on the band's bottom, the series before it.
  function columns(r, rows) {
    var n = (r.option.series || []).filter(function (s) { return !/^deploy/.test(s.id || ""); }).length;
    var out = [], t = 0, i, k;
    for (i = 0; i < n; i++) out.push([]);
    for (k = 0; k < rows.length; k++) {
      t = k === 0 ? rows[k][0] : t + rows[k][0] * 1000;
      for (i = 0; i < n; i++) {
        var v = rows[k][i + 1];
        var id = r.option.series[i].id || "";
        if (id.indexOf("band_low") !== 0 && id.indexOf("band") === 0) {
          var lo = rows[k][i];
          out[i].push(v === null || lo === null ? [t, null, null] : [t, v - lo, v]);
        } else {
          out[i].push([t, v]);
        }
      }
    }
    return out;
  }

  // setRange shows the range key on every chart that has ranges.
  function setRange(key) {
    api.ready = Promise.all(registry.map(function (r) { return r.ranges ? apply(r, key) : null; }));
  }

  function start() {
    readChartData();
    api.ready = Promise.all(Array.prototype.map.call(document.querySelectorAll(".chart[data-option]"), init));
    var resize = function () { registry.forEach(function (r) { r.chart.resize(); }); };
    window.addEventListener("resize", resize);
    if (dark && dark.addEventListener) {
      dark.addEventListener("change", function () {
        registry.forEach(function (r) { r.chart.setOption(themed(r.option)); if (r.ranges && r.current) apply(r, keyOf(r)); });
      });
    }
    var sw = document.querySelector("[data-range-switch]");
    if (!sw) return;
    var buttons = sw.querySelectorAll("button[data-range]");
    buttons.forEach(function (btn) {
      btn.addEventListener("click", function () {
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", b === btn ? "true" : "false"); });
        setRange(btn.getAttribute("data-range"));
      });
    });
    sw.hidden = false;
  }

  function keyOf(r) {
    var keys = Object.keys(r.ranges.ranges);
    for (var i = 0; i < keys.length; i++) if (r.ranges.ranges[keys[i]] === r.current) return keys[i];
    return r.ranges.default;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
