// The log page: load earlier windows on demand, follow the log live (Server-Sent Events), search
// on the server. The page never holds more than MAX_LINES lines; trimmed lines can be loaded again.
(function () {
  "use strict";
  var MAX_LINES = 20000;
  var log = document.getElementById("log");
  if (!log) return;
  var run = log.dataset.run, file = log.dataset.file;
  var api = "/studio/api/runs/" + encodeURIComponent(run) + "/logs/";
  var earlier = document.getElementById("log-earlier");
  var live = document.getElementById("log-live");
  var encoder = new TextEncoder();
  var source = null;

  function q(params) {
    var parts = ["file=" + encodeURIComponent(file)];
    for (var k in params) if (params[k] !== null && params[k] !== undefined) parts.push(k + "=" + encodeURIComponent(params[k]));
    return "?" + parts.join("&");
  }
  function chunkNode(lines) {
    var span = document.createElement("span");
    span.className = "chunk";
    span.textContent = lines.length ? lines.join("\n") + "\n" : "";
    return span;
  }
  function lineCount() {
    var n = 0;
    log.querySelectorAll("span.chunk").forEach(function (c) { n += c.textContent.split("\n").length - 1; });
    return n;
  }
  function atBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  }
  function trimTop() {
    // drop the oldest windows while the page holds more than MAX_LINES lines (they load again on demand)
    var chunks = log.querySelectorAll("span.chunk");
    var total = lineCount(), start = Number(log.dataset.start);
    for (var i = 0; i < chunks.length - 1 && total > MAX_LINES; i++) {
      total -= chunks[i].textContent.split("\n").length - 1;
      start += encoder.encode(chunks[i].textContent).length;
      log.removeChild(chunks[i]);
      earlier.hidden = false;
    }
    log.dataset.start = String(start);
  }
  function append(lines) {
    if (!lines.length) return;
    var follow = atBottom();
    log.appendChild(chunkNode(lines));
    trimTop();
    if (follow) window.scrollTo(0, document.body.scrollHeight);
  }

  earlier.addEventListener("click", function () {
    fetch(api + "chunk" + q({ end: log.dataset.start }), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (chunk) {
        log.insertBefore(chunkNode(chunk.lines), log.firstChild);
        log.dataset.start = String(chunk.start);
        earlier.hidden = chunk.start === 0;
      });
  });

  function follow() {
    if (log.dataset.live !== "true" || !window.EventSource) return;
    source = new EventSource(api + "stream" + q({ offset: log.dataset.end }));
    source.addEventListener("lines", function (e) {
      var data = JSON.parse(e.data);
      log.dataset.end = String(data.end);
      append(data.lines);
      var empty = document.querySelector("[data-testid=no-logs]");
      if (empty) empty.hidden = true;
    });
    source.addEventListener("end", function () {
      source.close();
      source = null;
      log.dataset.live = "false";
      if (live) live.hidden = true;
      var status = document.querySelector("[data-testid=run-status]");
      if (status) status.textContent = "ended";
    });
  }
  follow();

  // -- search --------------------------------------------------------------------------------------
  var form = document.getElementById("log-search");
  var box = document.getElementById("search-results");
  var hits = document.getElementById("search-hits");
  var summary = document.getElementById("search-summary");
  var more = document.getElementById("search-more");
  var cursor = null, query = "", found = 0;

  function searchFrom(start, line) {
    summary.textContent = "Searching…";
    fetch(api + "search" + q({ q: query, start: start, line: line }), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (result) {
        result.hits.forEach(function (h) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = "#";
          a.className = "hit";
          a.dataset.offset = h.offset;
          var num = document.createElement("span");
          num.className = "lineno";
          num.textContent = h.line + ": ";
          a.appendChild(num);
          a.appendChild(document.createTextNode(h.text));
          li.appendChild(a);
          hits.appendChild(li);
        });
        found += result.hits.length;
        cursor = result.next_offset === null ? null : [result.next_offset, result.next_line];
        more.hidden = cursor === null;
        summary.textContent = found + " matching line" + (found === 1 ? "" : "s") + " for “" + query + "”" +
          (cursor === null ? "" : " so far");
      });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    query = form.elements.q.value;
    if (!query) return;
    hits.textContent = "";
    found = 0;
    box.hidden = false;
    searchFrom(0, 1);
  });
  more.addEventListener("click", function () { if (cursor) searchFrom(cursor[0], cursor[1]); });
  hits.addEventListener("click", function (e) {
    var a = e.target.closest("a.hit");
    if (!a) return;
    e.preventDefault();
    // show the log from the matching line on; the earlier lines load on demand as usual
    fetch(api + "chunk" + q({ start: a.dataset.offset }), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (chunk) {
        if (source) { source.close(); source = null; }
        log.textContent = "";
        log.dataset.start = String(chunk.start);
        log.dataset.end = String(chunk.end);
        var mark = document.createElement("mark");
        mark.className = "chunk hit-line";
        mark.textContent = (chunk.lines[0] || "") + "\n";
        log.appendChild(mark);
        log.appendChild(chunkNode(chunk.lines.slice(1)));
        mark.scrollIntoView();
        earlier.hidden = chunk.start === 0;
      });
  });
})();
