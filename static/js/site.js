// Filters of the overview, the products page and the alerts pages. Without JavaScript the
// forms stay hidden and everything shows.
(function () {
  "use strict";
  function count(form, shown, all) {
    var c = form.querySelector("[data-filter-count]");
    if (c) c.textContent = shown + " of " + all + " shown";
  }

  // Products: a search over name, id and group, and a status (or "not operational").
  // The items are looked up at every apply: live.js may have replaced them (portfolioSite.refresh).
  var appliers = [];
  window.portfolioSite = { refresh: function () { appliers.forEach(function (f) { f(); }); } };

  function products(form) {
    function apply() {
      var items = document.querySelectorAll("[data-search]");
      var groups = document.querySelectorAll("[data-group]");
      var none = document.querySelector("[data-filter-empty]");
      var q = form.querySelector('input[name="q"]').value.trim().toLowerCase();
      var st = form.querySelector('select[name="status"]').value;
      var shown = 0;
      items.forEach(function (it) {
        var s = it.getAttribute("data-status");
        var ok = (q === "" || it.getAttribute("data-search").toLowerCase().indexOf(q) >= 0) &&
          (st === "" || s === st || (st === "!operational" && s !== "operational"));
        it.hidden = !ok;
        if (ok) shown++;
      });
      groups.forEach(function (g) { g.hidden = !g.querySelector("[data-search]:not([hidden])"); });
      if (none) none.hidden = shown > 0;
      count(form, shown, items.length);
    }
    appliers.push(apply);
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.hidden = false;
    apply();
  }

  // Alerts: severities and a product.
  function alerts(form) {
    function apply() {
      var items = document.querySelectorAll(".alert-item[data-severity]");
      var groups = document.querySelectorAll("[data-severity-group]");
      var sev = {};
      form.querySelectorAll('input[name="severity"]').forEach(function (c) { sev[c.value] = c.checked; });
      var product = form.querySelector('select[name="product"]').value;
      var shown = 0;
      items.forEach(function (it) {
        var ok = sev[it.getAttribute("data-severity")] !== false &&
          (product === "" || it.getAttribute("data-product") === product);
        it.hidden = !ok;
        if (ok) shown++;
      });
      groups.forEach(function (g) { g.hidden = sev[g.getAttribute("data-severity-group")] === false; });
      count(form, shown, items.length);
    }
    appliers.push(apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.hidden = false;
    apply();
  }

  function start() {
    var p = document.querySelector("[data-product-filter]");
    if (p) products(p);
    var a = document.querySelector("[data-filters]");
    if (a) alerts(a);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
