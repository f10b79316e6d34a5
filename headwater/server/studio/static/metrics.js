// Line charts (uPlot) for elements with data-chart = {"title", "x": [...], "series": [{"label", "values"}]};
// on the experiment view, the "overlay" checkboxes show and hide runs' series.
(function () {
  "use strict";
  var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  function draw(el) {
    var spec = JSON.parse(el.dataset.chart);
    var width = Math.max(260, Math.min(el.clientWidth || 600, 900));
    var opts = {
      width: width,
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: "logged", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000] }, {}],
      series: [{ label: "n" }].concat(spec.series.map(function (s, i) {
        return { label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, points: { show: spec.x.length < 60 } };
      })),
    };
    var data = [spec.x].concat(spec.series.map(function (s) { return s.values; }));
    var plot = new uPlot(opts, data, el);
    el.dataset.drawn = "true";
    return plot;
  }
  var charts = document.querySelectorAll("[data-chart]");
  charts.forEach(function (el) {
    var plot = draw(el);
    if (el.id !== "compare-chart") return;
    var runs = JSON.parse(el.dataset.runs);
    function sync() {
      document.querySelectorAll("input.overlay").forEach(function (box) {
        var index = runs.indexOf(box.dataset.run);
        if (index >= 0) plot.setSeries(index + 1, { show: box.checked });
      });
    }
    document.querySelectorAll("input.overlay").forEach(function (box) { box.addEventListener("change", sync); });
    sync();
  });
})();
