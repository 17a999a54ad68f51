// The live layer: an open page follows new runs of the report without a reload.
//
// Every minute while the page is visible it asks api/version.json (a line: the newest data's
// time, the portfolio's status, a hash of the whole site). When the hash changed it fetches
// the page itself again and updates what differs in place: figures, statuses, incidents,
// alerts, tables, and, through charts.js, the charts. Elements the reader works with stay as
// they are: open <details>, the filters, the range switch, focus and the scroll position.
// The server's HTML stays the one source of what a page shows; this script only moves it in.
//
// Hidden pages do not poll (Page Visibility API): a page that comes back asks at once when its
// last question is a minute old. Offline pages wait for the network; failures back off
// exponentially up to 15 minutes; prefers-reduced-data turns polling off. Beside that,
// "Data as of" ticks as a relative time, a banner says when the newest data is older than 3
// run intervals, status changes are announced (aria-live), and the favicon takes the
// portfolio's status colour. Without JavaScript nothing of this happens and the page is as
// built.
//
// window.portfolioLive: check() polls now and resolves when any update is drawn; every(ms)
// sets the interval (tests); polls and updates count what happened.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.fetch || !window.DOMParser || !document.querySelector) return;
  var versionURL = me.getAttribute("data-version");
  var icons = me.getAttribute("data-icons"); // the folder of <status>.svg
  var MAX = 15 * 60000;
  var interval = 60000;
  var reduced = !!((window.matchMedia && window.matchMedia("(prefers-reduced-data: reduce)").matches) ||
    (navigator.connection && navigator.connection.saveData)); // the browser's data saver
  var st = { hash: null, dataAsOf: 0, status: null, failures: 0, timer: 0, last: 0, busy: null, stale: false, gone: false };
  // A page the browser took from its cache (pages are cached 5 minutes) may be older than the
  // version it first sees: it asks for itself again at once (a revalidation, 304 when equal).
  var nav = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
  if (nav && nav.transferSize === 0 && nav.decodedBodySize > 0) st.hash = "";
  var api = window.portfolioLive = { polls: 0, updates: 0 };

  // Elements the reader or another script owns: never rewritten (charts.js redraws .chart).
  var KEEP = "form, [data-range-switch], .chart, [data-note], .range-empty, noscript";

  // ---- polling ----
  function offline() { return navigator.onLine === false; }

  function schedule(ms) {
    clearTimeout(st.timer);
    st.timer = 0;
    if (reduced || st.gone || document.hidden || offline()) return; // visibilitychange and online resume
    st.timer = setTimeout(poll, Math.max(0, ms));
  }

  function delay() {
    var d = st.failures ? Math.min(interval * Math.pow(2, st.failures), Math.max(MAX, interval)) : interval;
    return d * (0.9 + Math.random() * 0.2); // tabs opened together drift apart
  }

  function poll() {
    st.timer = 0;
    if (st.busy) return st.busy;
    if (document.hidden || offline()) return Promise.resolve(false);
    st.last = Date.now();
    api.polls++;
    st.busy = fetch(versionURL, { cache: "no-store", credentials: "same-origin" }).then(function (res) {
      if (!res.ok) throw new Error(versionURL + ": HTTP " + res.status);
      return res.json();
    }).then(seen).then(function (updated) {
      st.failures = 0;
      return updated;
    }, function (err) {
      st.failures++;
      if (window.console) console.warn("live: " + err);
      return false;
    }).then(function (updated) {
      st.busy = null;
      schedule(delay());
      return updated;
    });
    return st.busy;
  }

  // seen takes a version document: the icon, the clock, and the page when the site changed.
  function seen(v) {
    if (v.data_as_of) st.dataAsOf = Date.parse(v.data_as_of) || st.dataAsOf;
    setIcon(v.status);
    var before = st.status;
    st.status = v.status;
    tick();
    if (st.hash === null || v.hash === st.hash) {
      st.hash = v.hash;
      return false;
    }
    return refresh().then(function () {
      st.hash = v.hash; // only once the page shows it: a failed fetch is tried again
      if (before !== v.status && !document.querySelector("[data-live-status]")) {
        announce("Portfolio status: " + label(v.status) + ".");
      }
      return true;
    });
  }

  // ---- the page ----
  function refresh() {
    return fetch(location.pathname + location.search, { cache: "no-cache", credentials: "same-origin" }).then(function (res) {
      if (res.status === 404 || res.status === 410) return null;
      if (!res.ok) throw new Error(location.pathname + ": HTTP " + res.status);
      return res.text();
    }).then(function (html) {
      if (html === null) return gone();
      var doc = new DOMParser().parseFromString(html, "text/html");
      if (assets(doc) !== assets(document)) {
        location.reload(); // a new version of the site's code: its scripts and styles
        return;
      }
      var was = statuses();
      // What the reader looks at stays in place. Chromium and Firefox anchor the scroll
      // themselves; elsewhere (Safari) this makes up for content above that grew or shrank.
      var view = anchor();
      ["header", "main", "footer"].forEach(function (sel) {
        var a = document.querySelector("body > " + sel), b = doc.querySelector("body > " + sel);
        if (a && b) morph(a, b);
      });
      if (window.portfolioSite && window.portfolioSite.refresh) window.portfolioSite.refresh(); // the filters
      hold(view);
      var y = window.scrollY;
      var charts = window.portfolioCharts && window.portfolioCharts.refresh ? window.portfolioCharts.refresh() : null;
      tick();
      var now = statuses(), said = [];
      Object.keys(now).forEach(function (k) { if (was[k] !== undefined && was[k] !== now[k]) said.push(now[k]); });
      if (said.length) announce(said.join(". ") + ".");
      api.updates++;
      // Charts may show or hide their notes once drawn: hold again, unless the reader scrolled.
      return Promise.resolve(charts).then(function () { if (window.scrollY === y) hold(view); });
    });
  }

  // anchor is the first block that starts inside the viewport, with where it starts: what
  // the reader looks at.
  function anchor() {
    var els = document.querySelectorAll("main h1, main h2, main h3, main p, main li, main tr, main figure, main details, main .fig");
    for (var i = 0; i < els.length; i++) {
      var r = els[i].getBoundingClientRect();
      if (r.top >= 0 && r.height > 0) return { el: els[i], top: r.top };
    }
    return null;
  }

  // gone: the new site has no such page (a product removed from the config): the page says so
  // and stops asking.
  function gone() {
    st.gone = true;
    clearTimeout(st.timer);
    var banner = document.querySelector("[data-live-stale]");
    if (banner) {
      banner.textContent = "This page is no longer part of the report: what it shows is its last data.";
      banner.hidden = false;
      banner.setAttribute("data-live-gone", "");
      announce(banner.textContent);
    }
  }

  function hold(a) {
    if (!a || !document.documentElement.contains(a.el)) return;
    var moved = a.el.getBoundingClientRect().top - a.top;
    if (Math.abs(moved) >= 1) window.scrollBy(0, moved);
  }

  function assets(doc) {
    return Array.prototype.map.call(doc.querySelectorAll('script[src], link[rel="stylesheet"]'), function (e) {
      return e.getAttribute("src") || e.getAttribute("href");
    }).join(" ");
  }

  // statuses reads the page's status lines ([data-live-status]): a product's name and status,
  // the overview's headline, the alerts page's count.
  function statuses() {
    var out = {};
    Array.prototype.forEach.call(document.querySelectorAll("[data-live-status]"), function (el, i) {
      var parts = Array.prototype.map.call(el.children, function (c) { return norm(c.textContent); }).filter(Boolean);
      out[i] = parts.length > 1 ? parts.join(": ") : norm(el.textContent);
    });
    return out;
  }
  function norm(s) { return String(s || "").replace(/\s+/g, " ").trim(); }

  // morph makes the element `to` of the new page out of `from` of this one, keeping every
  // node that stays: children are matched by id, else in order by their tag.
  function morph(from, to) {
    if (from.matches && from.matches(KEEP)) return;
    attrs(from, to);
    var olds = Array.prototype.slice.call(from.childNodes);
    var news = Array.prototype.slice.call(to.childNodes);
    var byID = {}, used = [], next = 0, out = [];
    olds.forEach(function (o) { if (o.id) byID[o.id] = o; });
    news.forEach(function (n) {
      var o = null;
      if (n.id) {
        o = byID[n.id] || null;
        if (o && (o.nodeName !== n.nodeName || used.indexOf(o) >= 0)) o = null;
      } else {
        while (next < olds.length && (used.indexOf(olds[next]) >= 0 || olds[next].id)) next++;
        if (next < olds.length && olds[next].nodeName === n.nodeName) o = olds[next++];
      }
      if (o) {
        used.push(o);
        if (o.nodeType === 1) morph(o, n);
        else if (o.nodeValue !== n.nodeValue) o.nodeValue = n.nodeValue;
        out.push(o);
      } else {
        out.push(document.importNode(n, true));
      }
    });
    olds.forEach(function (o) { if (used.indexOf(o) < 0) from.removeChild(o); });
    out.forEach(function (node, i) {
      if (from.childNodes[i] !== node) from.insertBefore(node, from.childNodes[i] || null);
    });
  }

  // attrs copies the attributes of `to` onto `from`, but a <details>' open: the reader's.
  function attrs(from, to) {
    var keepOpen = from.nodeName === "DETAILS";
    Array.prototype.slice.call(from.attributes).forEach(function (a) {
      if (keepOpen && a.name === "open") return;
      if (!to.hasAttributeNS(a.namespaceURI, a.localName)) from.removeAttributeNS(a.namespaceURI, a.localName);
    });
    Array.prototype.forEach.call(to.attributes, function (a) {
      if (keepOpen && a.name === "open") return;
      if (from.getAttributeNS(a.namespaceURI, a.localName) !== a.value) from.setAttributeNS(a.namespaceURI, a.name, a.value);
    });
  }

  // ---- time, staleness, icon, announcements ----
  function ago(ms) {
    var m = Math.floor(ms / 60000);
    if (m < 1) return "just now";
    if (m < 60) return m + " min ago";
    var h = Math.floor(m / 60);
    if (h < 48) return h + " h" + (h < 10 && m % 60 ? " " + (m % 60) + " min" : "") + " ago";
    return Math.floor(h / 24) + " days ago";
  }

  // tick writes each "(4 min ago)" and shows or hides the stale banner.
  function tick() {
    var now = Date.now();
    var newest = st.dataAsOf;
    Array.prototype.forEach.call(document.querySelectorAll("[data-live-ago]"), function (el) {
      var t = el.previousElementSibling;
      var at = t && t.nodeName === "TIME" ? Date.parse(t.getAttribute("datetime")) : NaN;
      if (isNaN(at)) return;
      el.textContent = " (" + ago(now - at) + ")";
      // Without a version document (prefers-reduced-data), the page's own "Data as of".
      if (!st.dataAsOf && /\bpage-(overview|product|dora|alerts)\b/.test(document.body.className)) newest = Math.max(newest, at);
    });
    var banner = document.querySelector("[data-live-stale]");
    if (!banner || !newest || st.gone) return;
    var limit = parseInt(banner.getAttribute("data-live-stale"), 10) * 1000;
    var stale = limit > 0 && now - newest > limit;
    if (stale) {
      banner.textContent = "Stale: the newest data is " + ago(now - newest).replace(" ago", " old") +
        ", and the report runs every " + banner.getAttribute("data-run-interval") + ". What this page shows may be out of date.";
    }
    banner.hidden = !stale;
    if (stale && !st.stale) announce(banner.textContent);
    st.stale = stale;
  }

  function setIcon(status) {
    var link = document.querySelector('link[rel="icon"]');
    if (!link || !icons || !labels[status]) return;
    var href = icons + status + ".svg";
    if (link.getAttribute("href") !== href) link.setAttribute("href", href);
  }

  var labels = { operational: "Operational", degraded: "Degraded", partial_outage: "Partial outage",
    major_outage: "Major outage", maintenance: "Under maintenance", unknown: "Unknown" };
  function label(s) { return labels[s] || s; }

  function announce(text) {
    var el = document.querySelector("[data-live-announce]");
    if (el && text) el.textContent = text;
  }

  // ---- start ----
  api.check = function () { clearTimeout(st.timer); return poll(); };
  api.every = function (ms) { interval = ms; schedule(interval); };

  function start() {
    tick();
    setInterval(function () { if (!document.hidden) tick(); }, 15000);
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) {
        clearTimeout(st.timer);
        st.timer = 0;
        return;
      }
      tick();
      schedule(st.last + interval - Date.now());
    });
    window.addEventListener("online", function () { schedule(0); });
    window.addEventListener("offline", function () { clearTimeout(st.timer); st.timer = 0; });
    schedule(0);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
