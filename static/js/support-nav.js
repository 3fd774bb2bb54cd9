// The navigation's counts (my open work, unread notifications), fetched after the page loads so
// rendering a page never runs the counts.
(function () {
  var script = document.currentScript;
  var url = script && script.dataset.countsUrl;
  if (!url || !window.fetch) return;
  fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (counts) {
      if (!counts) return;
      document.querySelectorAll("[data-nav-count]").forEach(function (el) {
        var n = counts[el.dataset.navCount] || 0;
        el.textContent = n > 99 ? "99+" : String(n);
        el.hidden = n === 0;
        if (el.dataset.navCount === "unread") el.title = n + " unread";
      });
    })
    .catch(function () {});
})();
