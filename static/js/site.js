// Filters of the alerts center. Without JavaScript the form stays hidden and everything shows.
(function () {
  "use strict";
  function start() {
    var form = document.querySelector("[data-filters]");
    if (!form) return;
    var items = document.querySelectorAll(".alert-item[data-severity]");
    var groups = document.querySelectorAll("[data-severity-group]");
    var count = form.querySelector("[data-filter-count]");
    function apply() {
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
      if (count) count.textContent = shown + " of " + items.length + " shown";
    }
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.hidden = false;
    apply();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
