/* A pipeline run's page: the step graph (laid out by dagre, drawn as SVG), the step panel, and
   live updates over server-sent events. No framework; the server renders everything else. */
(function () {
  "use strict";
  var dataEl = document.getElementById("graph-data");
  if (!dataEl) return;
  var data = JSON.parse(dataEl.textContent);
  var runId = data.runId;
  var SVG = "http://www.w3.org/2000/svg";
  var graphEl = document.getElementById("graph");
  var panel = document.getElementById("panel");
  var filterEl = document.getElementById("graph-filter");
  var shownEl = document.getElementById("graph-shown");
  var TERMINAL = { Finished: 1, Failed: 1, Canceled: 1, Completed: 1 };
  var byId = {};
  var openStep = null;

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function clip(text, n) { text = text || ""; return text.length > n ? text.slice(0, n - 1) + "…" : text; }
  function nodeLine(s) {
    if (s.state === "reused") return "reused: " + s.reason;
    if (s.state === "failed") return "failed — root cause";
    if (s.state === "canceled") return s.causeName ? "canceled: '" + s.causeName + "' failed" : "canceled";
    if (s.state === "ran") return "ran: " + (s.reason || "");
    return s.state;
  }
  function escapeHtml(t) {
    return String(t == null ? "" : t).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function whyHtml(s) {
    var label = '<span class="state-label">' + escapeHtml(s.state) + "</span>";
    if (s.state === "reused")
      return label + ": " + escapeHtml(s.reason) + ' (<a href="/studio/runs/' + encodeURIComponent(s.reused) + '">run it reused</a>)';
    if (s.state === "failed")
      return '<span class="state-label root-cause">failed — root cause</span>' + (s.error ? ": " + escapeHtml(s.error) : "");
    if (s.state === "canceled" && s.cause)
      return label + ' because step <a class="cause" href="/studio/runs/' + encodeURIComponent(runId) + "/steps/" +
        encodeURIComponent(s.cause) + '">\'' + escapeHtml(s.causeName) + "'</a> failed";
    if (s.state === "canceled") return label + (s.error ? ": " + escapeHtml(s.error) : "");
    return label + (s.reason ? ": " + escapeHtml(s.reason) : "");
  }

  /* -- which steps the graph shows ------------------------------------------------------------ */
  function neighbours() {
    var out = {};
    data.edges.forEach(function (e) {
      (out[e[0]] = out[e[0]] || []).push(e[1]);
      (out[e[1]] = out[e[1]] || []).push(e[0]);
    });
    return out;
  }
  function visibleNodes() {
    var steps = data.steps, limit = data.limit, q = (filterEl && filterEl.value || "").trim().toLowerCase();
    var pick = steps;
    if (q) pick = steps.filter(function (s) { return s.name.toLowerCase().indexOf(q) >= 0 || s.state === q || s.status.toLowerCase() === q; });
    else if (steps.length > limit) {
      var near = neighbours(), chosen = {};
      steps.forEach(function (s) {
        if (s.state !== "ran" && s.state !== "reused") {
          chosen[s.node] = 1;
          (near[s.node] || []).forEach(function (n) { chosen[n] = 1; });
        }
      });
      pick = steps.filter(function (s) { return chosen[s.node]; });
      if (!pick.length) pick = steps;
    }
    var shown = pick.slice(0, limit);
    if (shownEl) shownEl.textContent = shown.length < steps.length ? "showing " + shown.length + " of " + steps.length + " steps" : "";
    return shown;
  }

  /* -- drawing -------------------------------------------------------------------------------- */
  function draw() {
    byId = {};
    var shown = visibleNodes(), keep = {};
    shown.forEach(function (s) { keep[s.node] = s; });
    var narrow = graphEl.clientWidth < 700;
    var g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: narrow ? "TB" : "LR", nodesep: 18, ranksep: 60, edgesep: 10, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(function () { return {}; });
    shown.forEach(function (s) { g.setNode(s.node, { width: 190, height: 46 }); });
    data.edges.forEach(function (e, i) {
      if (keep[e[0]] && keep[e[1]]) g.setEdge(e[0], e[1], { label: e[2], width: e[2] ? Math.min(8 + 6.5 * e[2].length, 140) : 0, height: e[2] ? 14 : 0, labelpos: "c" }, "e" + i);
    });
    dagre.layout(g);
    var size = g.graph();
    var svg = el("svg", { viewBox: "0 0 " + size.width + " " + size.height, role: "img", "aria-label": "Step graph", "data-w": size.width, "data-h": size.height });
    var defs = el("defs", {}, svg);
    var marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);
    g.edges().forEach(function (e) {
      var edge = g.edge(e), pts = edge.points;
      var d = "M" + pts.map(function (p) { return p.x + "," + p.y; }).join(" L");
      var grp = el("g", { class: "edge" + (edge.label ? "" : " control") }, svg);
      el("path", { d: d, "marker-end": "url(#arrow)" }, grp);
      if (edge.label) {
        var t = el("text", { x: edge.x, y: edge.y + 4, "text-anchor": "middle", class: "edge-label" }, grp);
        t.textContent = clip(edge.label, 22);
      }
    });
    shown.forEach(function (s) {
      var n = g.node(s.node);
      var grp = el("g", { class: "node state-" + s.state, transform: "translate(" + (n.x - n.width / 2) + "," + (n.y - n.height / 2) + ")", tabindex: 0, role: "button", "data-step-id": s.id }, svg);
      var title = el("title", {}, grp);
      el("rect", { width: n.width, height: n.height, rx: 6, ry: 6 }, grp);
      var name = el("text", { x: 10, y: 19, class: "node-name" }, grp);
      var line = el("text", { x: 10, y: 36, class: "node-why" }, grp);
      byId[s.id] = { g: grp, name: name, line: line, title: title };
      paintNode(s);
      grp.addEventListener("click", function () { openPanel(s.id, true); });
      grp.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); openPanel(s.id, true); } });
    });
    graphEl.innerHTML = "";
    graphEl.appendChild(svg);
    fit();
    if (openStep) mark(openStep);
  }
  // the graph shrunk to the area's width down to 55 %, scrolled past that
  function fit() {
    var svg = graphEl.querySelector("svg");
    if (!svg) return;
    var w = +svg.getAttribute("data-w"), h = +svg.getAttribute("data-h");
    var scale = Math.max(0.55, Math.min(1, (graphEl.clientWidth - 12) / Math.max(w, 1)));
    svg.setAttribute("width", Math.max(w * scale, 10));
    svg.setAttribute("height", Math.max(h * scale, 10));
  }
  window.addEventListener("resize", fit);
  function paintNode(s) {
    var n = byId[s.id];
    if (!n) return;
    n.g.setAttribute("class", "node state-" + s.state + (s.id === openStep ? " selected" : ""));
    n.name.textContent = clip(s.name, 26);
    n.line.textContent = clip(nodeLine(s), 30);
    n.title.textContent = s.name + " — " + s.status + "\n" + nodeLine(s);
  }
  function mark(stepId) {
    Object.keys(byId).forEach(function (id) { byId[id].g.classList.toggle("selected", id === stepId); });
  }

  /* -- the panel ------------------------------------------------------------------------------ */
  function stepUrl(stepId) { return "/studio/runs/" + encodeURIComponent(runId) + "/steps/" + encodeURIComponent(stepId); }
  function openPanel(stepId, push) {
    openStep = stepId;
    mark(stepId);
    return fetch(stepUrl(stepId) + "?partial=1", { credentials: "same-origin" }).then(function (r) {
      if (r.redirected || !r.ok) { window.location.href = stepUrl(stepId); return; }
      return r.text().then(function (html) {
        if (openStep !== stepId) return;
        panel.innerHTML = html;
        panel.hidden = false;
        panel.parentElement.classList.add("with-panel");
        fit();
        if (push) history.pushState({ step: stepId }, "", stepUrl(stepId));
      });
    });
  }
  function closePanel(push) {
    openStep = null;
    mark(null);
    panel.hidden = true;
    panel.innerHTML = "";
    panel.parentElement.classList.remove("with-panel");
    fit();
    if (push) history.pushState({}, "", "/studio/runs/" + encodeURIComponent(runId));
  }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a");
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
    var m = a.getAttribute("href") && a.getAttribute("href").match(/^\/studio\/runs\/([^/]+)\/steps\/([^/?#]+)$/);
    if (m && decodeURIComponent(m[1]) === runId) { ev.preventDefault(); openPanel(decodeURIComponent(m[2]), true); return; }
    if (a.classList.contains("close") && panel.contains(a)) { ev.preventDefault(); closePanel(true); }
  });
  window.addEventListener("popstate", function () {
    var m = location.pathname.match(/\/steps\/([^/]+)$/);
    if (m) openPanel(decodeURIComponent(m[1]), false); else closePanel(false);
  });
  var initial = panel && panel.querySelector(".step-panel");
  if (initial) openStep = initial.getAttribute("data-step-id");

  /* -- live updates --------------------------------------------------------------------------- */
  function update(next) {
    var old = {};
    data.steps.forEach(function (s) { old[s.id] = s; });
    var structure = next.steps.length !== data.steps.length || next.edges.length !== data.edges.length;
    data = next;
    var statusEl = document.getElementById("run-status");
    statusEl.textContent = next.status;
    statusEl.className = "status status-" + next.status;
    var counts = {};
    next.steps.forEach(function (s) {
      counts[s.state] = (counts[s.state] || 0) + 1;
      var before = old[s.id];
      if (before && before.state === s.state && before.status === s.status && before.reason === s.reason && before.cause === s.cause) return;
      paintNode(s);
      var row = document.querySelector('#step-table tr[data-step-id="' + s.id + '"]');
      if (row) {
        row.className = "state-" + s.state;
        var badge = row.querySelector(".status");
        badge.textContent = s.status;
        badge.className = "status status-" + s.status;
        row.querySelector(".why").innerHTML = whyHtml(s);
        row.querySelector(".started").textContent = (s.started || "").replace("T", " ").slice(0, 19);
      }
      if (s.id === openStep) openPanel(s.id, false);
    });
    document.getElementById("counts").innerHTML = Object.keys(counts).sort().map(function (k) {
      return '<span class="count state-' + k + '">' + counts[k] + " " + k + "</span>";
    }).join(" ");
    if (structure) draw();
  }
  function listen() {
    if (TERMINAL[data.status] || !window.EventSource) return;
    var source = new EventSource("/studio/api/runs/" + encodeURIComponent(runId) + "/events");
    source.addEventListener("steps", function (ev) { update(JSON.parse(ev.data)); });
    source.addEventListener("end", function () { source.close(); });
  }

  var timer = null;
  if (filterEl) filterEl.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(draw, 250); });
  function start() {
    if (!window.dagre) { setTimeout(start, 20); return; }
    try { draw(); } catch (err) { graphEl.innerHTML = '<p class="error">The graph could not be drawn: ' + escapeHtml(err.message) + "</p>"; }
    listen();
  }
  setTimeout(start, 0);
})();
