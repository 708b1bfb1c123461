// Points-over-time chart on the dashboard and the members-by-status chart of the admin report.
// Data comes from json_script elements (no inline script: CSP).
(function () {
  "use strict";

  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function pointsChart() {
    var canvas = document.getElementById("points-chart");
    var data = readJSON("points-chart-data");
    if (!canvas || !data || typeof Chart === "undefined") { return; }
    var target = data.labels.map(function () { return data.target; });
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.names.verified, data: data.verified, borderColor: "#146c2e", backgroundColor: "rgba(20,108,46,.15)", fill: true, tension: 0 },
          { label: data.names.total, data: data.total, borderColor: "#7fb38f", borderDash: [6, 4], fill: false, tension: 0 },
          { label: data.names.pace, data: data.pace, borderColor: "#1b2430", borderWidth: 1.5, pointRadius: 0, fill: false },
          { label: data.names.target, data: target, borderColor: "#b3261e", borderWidth: 1, borderDash: [2, 3], pointRadius: 0, fill: false }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  function statusChart() {
    var canvas = document.getElementById("status-chart");
    var data = readJSON("status-chart-data");
    if (!canvas || !data || typeof Chart === "undefined") { return; }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: data.title, data: data.counts, backgroundColor: data.colors }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { display: false } }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    pointsChart();
    statusChart();
  });
})();
