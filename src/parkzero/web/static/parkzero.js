/* parkzero dashboard: draws the charts of a page from its #page-data JSON and runs the upload form.
   ECharts is served from /static (no CDN). Instances are kept in window.parkzeroCharts by element id. */
(function () {
  "use strict";
  var dataEl = document.getElementById("page-data");
  var data = dataEl ? JSON.parse(dataEl.textContent) : {};
  var charts = (window.parkzeroCharts = {});
  var COLORS = {
    grid: "#6b7a90", pv: "#f2a900", battery_discharge: "#2e9e6b", battery_charge: "#2e9e6b",
    park: "#1f3b57", export: "#8e6cc0", ev: "#17a2b8", other: "#b9c2cc"
  };
  var TENANT_COLORS = ["#2b6cb0", "#3182ce", "#4299e1", "#63b3ed", "#2c7a7b", "#38a169", "#805ad5", "#d69e2e"];
  var FONT = '-apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 1 }) + " kWh";
  }

  var builders = {
    sankey: function (d) {
      var i = 0;
      var nodes = d.sankey.nodes.map(function (n) {
        var color = COLORS[n.name] || TENANT_COLORS[i++ % TENANT_COLORS.length];
        return { name: n.name, label_text: n.label, itemStyle: { color: color, borderColor: color } };
      });
      var labels = {};
      d.sankey.nodes.forEach(function (n) { labels[n.name] = n.label; });
      return {
        textStyle: { fontFamily: FONT },
        tooltip: {
          trigger: "item",
          formatter: function (p) {
            if (p.dataType === "edge") return labels[p.data.source] + " → " + labels[p.data.target] + "<br>" + fmt(p.data.value);
            return labels[p.name] + "<br>" + fmt(p.value);
          }
        },
        series: [{
          type: "sankey", data: nodes, links: d.sankey.links, left: 8, right: 160, top: 12, bottom: 12,
          nodeWidth: 16, nodeGap: 20, draggable: false, emphasis: { focus: "adjacency" },
          lineStyle: { color: "gradient", curveness: 0.5, opacity: 0.35 },
          label: {
            color: "#1a202c", fontSize: 12,
            formatter: function (p) { return labels[p.name] + "\n{v|" + fmt(p.value) + "}"; },
            rich: { v: { color: "#718096", fontSize: 11 } }
          }
        }]
      };
    },
    tenants: function (d) {
      return {
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis", valueFormatter: fmt },
        grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", axisLabel: { hideOverlap: true, formatter: function (v) {
          return new Intl.NumberFormat(undefined, { notation: "compact" }).format(v); } } },
        yAxis: { type: "category", inverse: true, data: d.tenants.labels,
                 axisLabel: { width: 150, overflow: "truncate" } },
        series: [{ type: "bar", data: d.tenants.values, itemStyle: { color: "#3182ce", borderRadius: [0, 3, 3, 0] }, barMaxWidth: 22 }]
      };
    },
    pv_monthly: function (d) {
      return {
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis", valueFormatter: fmt },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.pv_monthly.labels, axisLabel: { fontSize: 11 } },
        yAxis: { type: "value", name: "kWh", axisLabel: { formatter: function (v) { return Number(v).toLocaleString(); } } },
        series: [{ type: "bar", data: d.pv_monthly.values, itemStyle: { color: COLORS.pv, borderRadius: [3, 3, 0, 0] }, barMaxWidth: 28 }]
      };
    },
    comparison: function (d) {
      var c = d.comparison;
      return {
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis", valueFormatter: fmt },
        legend: { top: 0, data: [c.current_name, c.previous_name] },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: c.labels },
        yAxis: { type: "value", axisLabel: { formatter: function (v) { return Number(v).toLocaleString(); } } },
        series: [
          { name: c.current_name, type: "bar", data: c.current, itemStyle: { color: "#2b6cb0" }, barMaxWidth: 26 },
          { name: c.previous_name, type: "bar", data: c.previous, itemStyle: { color: "#b9c2cc" }, barMaxWidth: 26 }
        ]
      };
    },
    carbon_monthly: function (d) {
      var colours = ["#2f855a", "#3182ce", "#805ad5", "#dd6b20", "#718096"];
      return {
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis", valueFormatter: fmt },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.carbon_monthly.labels },
        yAxis: { type: "value", name: d.carbon_monthly.unit },
        series: d.carbon_monthly.series.map(function (s, i) {
          return { name: s.name, type: "bar", data: s.values, barMaxWidth: 24, itemStyle: { color: colours[i % colours.length] } };
        })
      };
    },
    // energy pages: a category axis of steps or names, lines or bars, an optional second axis (axis: 1) and
    // optional bands ({name, from, to, colour} on the category labels, e.g. the tariff's TOU periods)
    series: function (d, el) {
      var c = d[el.getAttribute("data-key")];
      var palette = ["#1f3b57", "#f2a900", "#c05621", "#2e9e6b", "#805ad5"];
      var axes = [{ type: "value", name: c.unit }];
      if (c.unit2) axes.push({ type: "value", name: c.unit2, splitLine: { show: false } });
      return {
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: c.labels },
        yAxis: axes,
        series: c.series.map(function (s, i) {
          var one = {
            name: s.name, type: s.type || "line", data: s.values, yAxisIndex: s.axis || 0, step: s.step ? "start" : false,
            showSymbol: false, barMaxWidth: 24, itemStyle: { color: palette[i % palette.length] }
          };
          if (i === 0 && c.bands) {  // time-of-use periods behind the first series
            one.markArea = {
              silent: true,
              label: { position: "insideTop", fontSize: 10, color: "#4a5568" },
              data: c.bands.map(function (b) {
                return [{ name: b.name, xAxis: b.from, itemStyle: { color: b.colour } }, { xAxis: b.to }];
              })
            };
          }
          return one;
        })
      };
    },
    tradeoff: function (d, el) {
      var c = d[el.getAttribute("data-key")];
      return {
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 48, bottom: 28, containLabel: true },
        xAxis: { type: "value", name: c.x, scale: true, nameLocation: "middle", nameGap: 24 },
        yAxis: [
          { type: "value", name: c.y, scale: true, nameTextStyle: { align: "left" } },
          { type: "value", name: c.y2, scale: true, splitLine: { show: false }, nameTextStyle: { align: "right" } }
        ],
        series: [
          { name: c.cost_name, type: "line", data: c.points, itemStyle: { color: "#1f3b57" } },
          { name: c.co2_name, type: "line", data: c.co2, yAxisIndex: 1, itemStyle: { color: "#2e9e6b" } }
        ]
      };
    },
    curve: function (d, el) {
      var c = d[el.getAttribute("data-key")];
      return {
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis" },
        grid: { left: 8, right: 16, top: 32, bottom: 28, containLabel: true },
        xAxis: { type: "value", name: c.x, nameLocation: "middle", nameGap: 24 },
        yAxis: { type: "value", name: c.y, max: 100, nameTextStyle: { align: "left" } },
        series: [{ name: c.name, type: "line", step: "end", data: c.points, showSymbol: false, itemStyle: { color: "#c05621" } }]
      };
    },
    trend: function (d) {
      return {
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis", valueFormatter: fmt },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.trend.labels },
        yAxis: { type: "value", name: "kWh" },
        series: [{ name: d.trend.name, type: "bar", data: d.trend.values, itemStyle: { color: "#3182ce" }, barMaxWidth: 24 }]
      };
    }
  };

  if (window.echarts) {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var build = builders[el.getAttribute("data-chart")];
      if (!build) return;
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(build(data, el));
      charts[el.id] = chart;
    });
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    });
  }

  // -- upload ------------------------------------------------------------------------------------
  var form = document.getElementById("upload-form");
  if (!form) return;
  var T = data.i18n || {};
  function tr(key, values) {
    var s = T[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.replace("{" + k + "}", values[k]); });
    return s;
  }
  var result = document.getElementById("upload-result");
  var status = document.getElementById("upload-status");
  var report = document.getElementById("upload-report");
  var issues = document.getElementById("upload-issues");
  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
  }
  function show(kind, message) {
    result.hidden = false;
    status.className = "alert alert-" + kind;
    status.textContent = message;
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var fileInput = document.getElementById("upload-file");
    if (!fileInput.files.length) { show("error", tr("upload.no_file")); return; }
    var body = new FormData();
    body.append("file", fileInput.files[0]);
    var mapping = document.getElementById("upload-mapping").value;
    var zone = document.getElementById("upload-timezone").value.trim();
    if (mapping) body.append("mapping", mapping);
    if (zone) body.append("timezone", zone);
    report.hidden = true; issues.hidden = true;
    report.tBodies[0].textContent = ""; issues.tBodies[0].textContent = "";
    show("info", tr("upload.sending"));
    var button = document.getElementById("upload-submit");
    button.disabled = true;
    fetch("/api/v1/parks/" + encodeURIComponent(form.dataset.park) + "/uploads", {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (json) { return { ok: resp.ok, json: json }; });
    }).then(function (r) {
      result.dataset.state = r.ok ? "ok" : "rejected";
      if (r.ok) {
        show("ok", tr("upload.ok", r.json));
        ["file", "layout", "rows", "readings", "channels", "inserted", "unchanged", "revised", "batch_id"].forEach(function (k) {
          if (!(k in r.json)) return;
          var row = report.tBodies[0].insertRow();
          row.dataset.field = k;
          cell(row, tr("upload.report." + k));
          cell(row, r.json[k], "num");
        });
        report.hidden = false;
      } else {
        show("error", tr("upload.failed") + " " + (r.json.detail || r.json.title || ""));
        (r.json.issues || []).forEach(function (i) {
          var row = issues.tBodies[0].insertRow();
          cell(row, i.file); cell(row, i.row, "num"); cell(row, i.column); cell(row, i.reason); cell(row, i.value, "code");
        });
        issues.hidden = !(r.json.issues || []).length;
      }
    }).catch(function () {
      result.dataset.state = "error";
      show("error", tr("upload.network_error"));
    }).finally(function () { button.disabled = false; });
  });
})();
