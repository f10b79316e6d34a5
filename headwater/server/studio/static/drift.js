// Data drift charts (uPlot) for elements with data-chart = {"title", "time", "stepped", "x": [...],
// "series": [{"label", "values", "dash"}]}: the magnitude over time against the threshold, and each
// numeric feature's baseline-vs-target histogram.
(function () {
  "use strict";
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = JSON.parse(el.dataset.chart);
    var width = Math.max(260, Math.min(el.clientWidth || 600, 900));
    var stepped = spec.stepped && uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : null;
    var opts = {
      title: spec.title,
      width: width,
      height: spec.time ? 240 : 180,
      scales: { x: { time: !!spec.time } },
      series: [{ label: spec.time ? "period" : "value" }].concat(spec.series.map(function (s, i) {
        var line = { label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true };
        if (s.dash) { line.dash = [6, 4]; line.points = { show: false }; }
        if (stepped) { line.paths = stepped; line.points = { show: false }; }
        return line;
      })),
    };
    var data = [spec.x].concat(spec.series.map(function (s) { return s.values; }));
    new uPlot(opts, data, el);
    el.dataset.drawn = "true";
  });
})();
