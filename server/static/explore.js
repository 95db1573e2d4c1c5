// Draws the charts of the explore page with Vega-Lite, from the chart data the server sends at
// the same URL with format=json. Each chart has a data table under it for readers without charts.
(function () {
  "use strict";

  const colour = { field: "data_type", type: "nominal", title: "Data type" };
  // Counts are whole numbers, so their axes never show a tick between two of them.
  const whole = { tickMinStep: 1, format: ",d" };

  function spec(id, data, width) {
    // A fixed width taken from the chart's box, so that the page never grows wider than the window.
    const base = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", width: width,
                   autosize: { type: "fit-x", contains: "padding" } };
    const muscles = data.per_muscle;
    switch (id) {
      case "muscle-datasets":
        return { ...base, data: { values: muscles }, mark: "bar", height: { step: 16 },
          encoding: { y: { field: "muscle", type: "nominal", sort: "-x", title: null },
                      x: { aggregate: "sum", field: "datasets", type: "quantitative", title: "Datasets", axis: whole },
                      color: colour, tooltip: [{ field: "muscle" }, { field: "data_type" }, { field: "datasets" }] } };
      case "muscle-images":
        return { ...base, data: { values: muscles }, mark: "bar", height: { step: 16 },
          encoding: { y: { field: "muscle", type: "nominal", sort: "-x", title: null },
                      x: { aggregate: "sum", field: "images", type: "quantitative", title: "Images", axis: whole },
                      color: colour, tooltip: [{ field: "muscle" }, { field: "data_type" }, { field: "images" }] } };
      case "ages":
        return { ...base, height: 180, data: { values: data.ages.map((row) => ({ ...row, band: row.from + " to " + (row.to - 1) })) },
          mark: "bar",
          encoding: { x: { field: "band", type: "ordinal", sort: { field: "from" }, title: "Mean age (years)" },
                      y: { field: "datasets", type: "quantitative", title: "Datasets", axis: whole },
                      tooltip: [{ field: "band", title: "Age" }, { field: "datasets" }] } };
      case "data-types":
        return { ...base, height: 120, data: { values: data.data_types }, mark: "bar",
          encoding: { y: { field: "data_type", type: "nominal", title: null, sort: "-x" },
                      x: { field: "datasets", type: "quantitative", title: "Datasets", axis: whole },
                      color: colour, tooltip: [{ field: "data_type" }, { field: "datasets" }, { field: "images" }] } };
      case "years":
        return { ...base, height: 180, data: { values: data.years }, mark: "bar",
          encoding: { x: { field: "year", type: "ordinal", title: "Year" },
                      y: { field: "datasets", type: "quantitative", title: "Datasets", axis: whole },
                      tooltip: [{ field: "year" }, { field: "datasets" }] } };
      case "devices":
        return { ...base, data: { values: data.devices }, mark: "bar", height: { step: 16 },
          encoding: { y: { field: "device", type: "nominal", sort: "-x", title: null },
                      x: { field: "datasets", type: "quantitative", title: "Datasets", axis: whole },
                      tooltip: [{ field: "device" }, { field: "datasets" }] } };
      case "sample-images":
        // Logarithmic axes, because both figures span several orders of magnitude. A log scale
        // cannot show zero, so datasets without images are left out of this chart.
        return { ...base, height: 260, data: { values: data.sample_vs_images.filter((row) => row.image_count > 0 && row.sample_size > 0) },
          mark: { type: "point", filled: true, opacity: 0.7 },
          encoding: { x: { field: "sample_size", type: "quantitative", scale: { type: "log" }, title: "Participants",
                           axis: { format: "~s", tickCount: 5 } },
                      y: { field: "image_count", type: "quantitative", scale: { type: "log" }, title: "Images",
                           axis: { format: "~s", tickCount: 5 } },
                      color: colour,
                      tooltip: [{ field: "name", title: "Dataset" }, { field: "sample_size", title: "Participants" },
                                { field: "image_count", title: "Images" }] } };
      default:
        return null;
    }
  }

  async function draw() {
    const charts = document.getElementById("charts");
    if (!charts || !window.vega || !window.vegaLite) return;
    let data;
    try {
      const response = await fetch(charts.dataset.source, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      data = await response.json();
    } catch (error) {
      charts.insertAdjacentHTML("afterbegin", '<p class="error-message" role="alert">The charts could not be drawn; the data tables below each title hold the same figures.</p>');
      return;
    }
    for (const element of charts.querySelectorAll(".chart")) {
      const chart = spec(element.dataset.chart, data, Math.max(200, element.clientWidth));
      if (!chart) continue;
      element.replaceChildren();
      if (!chart.data.values.length) {
        // The data table under the chart gives the same message, and an empty chart would only show axes.
        element.textContent = "No data among the matching datasets.";
        element.dataset.drawn = "true";
        continue;
      }
      if (typeof chart.height === "object") {
        // A height per bar cannot be fitted to the box, so the width leaves room for the labels.
        chart.autosize = { type: "pad" };
        chart.width = Math.max(150, element.clientWidth - 230);
      }
      const view = new vega.View(vega.parse(vegaLite.compile(chart).spec), { renderer: "svg", container: element, hover: true });
      await view.runAsync();
      element.dataset.drawn = "true";
    }
    charts.dataset.drawn = "true";
  }

  document.addEventListener("umud:results", draw);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
