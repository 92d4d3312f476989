/* Draws the dashboard's plotly figures (JSON embedded by templates/monitoring/_charts.html). */
document.querySelectorAll("script[data-chart]").forEach(function (source) {
  var figure = JSON.parse(source.textContent);
  var target = document.getElementById(source.dataset.chart);
  if (!target || !window.Plotly) return;
  if (target.clientWidth < 500) {
    // A phone: fewer, level time labels instead of crowded, slanted ones.
    figure.layout.xaxis.nticks = 4;
    figure.layout.xaxis.tickangle = 0;
  }
  window.Plotly.newPlot(target, figure.data, figure.layout, {
    responsive: true,
    displayModeBar: false,
    scrollZoom: false,
  });
});
