// Draws every chart of the page: each <div class="chart" data-option="ID"> gets the ECharts
// option held in <script type="application/json" id="ID">. No inline script: the CSP allows
// scripts from the site only. Charts follow the colour scheme and the page's range switch.
(function () {
  "use strict";
  var registry = [];
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");

  function themed(option) {
    var isDark = dark && dark.matches;
    var fg = isDark ? "#d5dae1" : "#2b2f36";
    var grid = isDark ? "#3a404a" : "#e3e6ea";
    option.backgroundColor = "transparent";
    option.textStyle = { color: fg };
    option.useUTC = true; // times are on the site's wall clock already
    (option.legend || {}).textStyle = { color: fg };
    [].concat(option.xAxis || [], option.yAxis || []).forEach(function (ax) {
      ax.axisLabel = Object.assign({}, ax.axisLabel, { color: fg, hideOverlap: true });
      // The unit above a y axis starts at the axis, so a long one is not cut at the edge.
      ax.nameTextStyle = { color: fg, align: "left" };
      ax.axisLine = { lineStyle: { color: grid } };
      ax.splitLine = Object.assign({}, ax.splitLine, { lineStyle: { color: grid } });
    });
    return option;
  }

  function init(el) {
    var src = document.getElementById(el.getAttribute("data-option"));
    if (!src || typeof echarts === "undefined") return;
    var option = themed(JSON.parse(src.textContent));
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    registry.push({ el: el, chart: chart, option: option, range: el.hasAttribute("data-range") });
  }

  // hasDataIn reports whether any series has a value between min and max (ms).
  function hasDataIn(option, min, max) {
    return (option.series || []).some(function (s) {
      return (s.data || []).some(function (d) {
        var v = Array.isArray(d) ? d : d && d.value;
        return Array.isArray(v) && v[1] !== null && v[0] >= min && v[0] <= max;
      });
    });
  }

  // setRange shows the last ms milliseconds before now on every chart that follows the switch.
  function setRange(now, ms) {
    registry.forEach(function (r) {
      if (!r.range) return;
      var min = now - ms;
      r.chart.setOption({ xAxis: [{ min: min, max: now }] });
      var empty = !hasDataIn(r.option, min, now);
      var note = r.el.nextElementSibling;
      r.el.classList.toggle("is-empty", empty);
      if (note && note.classList.contains("range-empty")) note.hidden = !empty;
    });
  }

  function start() {
    document.querySelectorAll(".chart[data-option]").forEach(init);
    var resize = function () { registry.forEach(function (r) { r.chart.resize(); }); };
    window.addEventListener("resize", resize);
    if (dark && dark.addEventListener) {
      dark.addEventListener("change", function () {
        registry.forEach(function (r) { r.chart.setOption(themed(r.option)); });
      });
    }
    var sw = document.querySelector("[data-range-switch]");
    if (!sw) return;
    var now = Number(sw.getAttribute("data-now"));
    var buttons = sw.querySelectorAll("button[data-range-ms]");
    buttons.forEach(function (btn) {
      btn.addEventListener("click", function () {
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", b === btn ? "true" : "false"); });
        setRange(now, Number(btn.getAttribute("data-range-ms")));
      });
    });
    sw.hidden = false;
    var pressed = sw.querySelector('button[aria-pressed="true"]');
    if (pressed) setRange(now, Number(pressed.getAttribute("data-range-ms")));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
