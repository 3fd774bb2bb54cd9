// Staff survey pages: copy an invitation link; poll a bulk send's progress.
(function () {
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copyTarget);
      input.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard) { navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); }); }
      else { document.execCommand("copy"); done(); }
    });
  });
  var progress = document.getElementById("send-progress");
  if (progress) {
    var url = progress.dataset.url;
    var tick = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          progress.querySelector("progress").value = job.processed;
          progress.querySelector("progress").max = job.total || 1;
          ["processed", "total", "sent", "skipped", "status_label", "percent"].forEach(function (k) {
            var el = progress.querySelector("[data-field=" + k + "]");
            if (el) { el.textContent = job[k]; }
          });
          var reasons = progress.querySelector("[data-field=reasons]");
          if (reasons) {
            reasons.innerHTML = "";
            job.skipped_reasons.forEach(function (r) {
              var li = document.createElement("li"); li.textContent = r.label + ": " + r.count; reasons.appendChild(li);
            });
          }
          if (job.status === "pending" || job.status === "running") { setTimeout(tick, 1000); }
        })
        .catch(function () { setTimeout(tick, 3000); });
    };
    tick();
  }
})();
