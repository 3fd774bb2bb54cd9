/* Rapport reports: draws the charts from json_script data with the locally served Chart.js,
   switches segments, and follows a running recompute. No network access beyond this site. */
(function () {
  "use strict";

  var PALETTE = ["#2457d6", "#d97706", "#137a3a", "#b3261e", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f"];

  function chartConfig(spec) {
    var stacked = !!spec.stacked;
    var datasets = spec.datasets.map(function (ds, i) {
      var colour = ds.color || PALETTE[i % PALETTE.length];
      return {
        label: ds.label,
        data: ds.data,
        borderColor: colour,
        backgroundColor: spec.type === "line" ? colour : colour + "cc",
        borderWidth: 2,
        pointRadius: 3,
        spanGaps: false,
        tension: 0.2
      };
    });
    var y = spec.y || {};
    var valueAxis = {
      stacked: stacked,
      suggestedMin: y.min,
      suggestedMax: y.max,
      title: { display: !!y.title, text: y.title || "" }
    };
    var categoryAxis = { stacked: stacked, ticks: { autoSkip: !spec.horizontal, maxRotation: 0 } };
    return {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          title: { display: false }
        },
        indexAxis: spec.horizontal ? "y" : "x",
        scales: spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis }
      }
    };
  }

  function drawCharts() {
    if (typeof window.Chart === "undefined") {
      document.querySelectorAll(".chart-box").forEach(function (box) {
        box.innerHTML = '<p class="muted">The chart library did not load; the figures are in the data table.</p>';
      });
      return;
    }
    document.querySelectorAll("canvas.report-chart").forEach(function (canvas) {
      var id = canvas.id.replace(/^chart-/, "");
      var script = document.getElementById("chart-data-" + id);
      if (!script) { return; }
      var spec = JSON.parse(script.textContent);
      canvas.chart = new window.Chart(canvas, chartConfig(spec));
    });
  }

  // Charts are redrawn at paper width when printing, and back afterwards.
  function resizeCharts() {
    if (typeof window.Chart === "undefined") { return; }
    Object.values(window.Chart.instances || {}).forEach(function (chart) { chart.resize(); });
  }

  function segmentSwitch() {
    var select = document.getElementById("segment-select");
    if (!select) { return; }
    select.addEventListener("change", function () {
      window.location.href = select.dataset.urlTemplate.replace("SLUG", encodeURIComponent(select.value));
    });
  }

  function followRecompute() {
    var box = document.getElementById("freshness");
    if (!box) { return; }
    var url = box.dataset.statusUrl;
    var status = box.querySelector(".run-status");
    var label = box.querySelector(".run-label");
    var bar = box.querySelector(".run-progress");
    var button = box.querySelector(".recompute-form button");
    var form = box.querySelector(".recompute-form");
    var wasActive = button && button.disabled;
    var timer = null;

    function show(run) {
      if (!run) { return; }
      status.hidden = false;
      label.textContent = "Last recompute: " + run.status_label + (run.active ? " (" + run.progress_percent + " %)"
        : run.dead ? ", stopped at " + run.progress_percent + " %: no progress for a while, so a new recompute may start" : "");
      bar.hidden = !run.active;
      bar.value = run.progress_percent;
      bar.textContent = run.progress_percent + " %";
      if (button) { button.disabled = run.active; }
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          show(data.run);
          if (data.run && data.run.active) {
            wasActive = true;
            timer = window.setTimeout(poll, 2000);
          } else if (wasActive && data.run && data.run.status === "done") {
            label.textContent += " — reload the page to see the new figures.";
            var link = document.createElement("a");
            link.href = window.location.href;
            link.textContent = " Reload";
            label.appendChild(link);
          }
        })
        .catch(function () { timer = window.setTimeout(poll, 10000); });
    }

    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
        button.disabled = true;
        fetch(form.action, {
          method: "POST",
          headers: { Accept: "application/json", "X-CSRFToken": token },
          body: new FormData(form),
          credentials: "same-origin"
        })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            show(data.run);
            wasActive = true;
            if (timer) { window.clearTimeout(timer); }
            timer = window.setTimeout(poll, 1000);
          })
          .catch(function () { form.submit(); });
      });
    }
    if (wasActive) { poll(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    segmentSwitch();
    followRecompute();
  });
  // The Print button (no inline handler: the Content-Security-Policy allows no inline script).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });
  window.addEventListener("beforeprint", resizeCharts);
  window.addEventListener("afterprint", resizeCharts);
})();
