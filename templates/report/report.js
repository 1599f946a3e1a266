(function () {
  "use strict";
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function value(row, i) {
    var c = row.cells[i];
    if (!c) { return ""; }
    var v = c.getAttribute("data-v");
    return v !== null ? v : c.textContent.trim();
  }
  function compare(x, y) {
    if (x !== "" && y !== "" && !isNaN(x) && !isNaN(y)) { return Number(x) - Number(y); }
    return x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
  }
  each(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead.rows[0].cells;
    each(heads, function (th, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "sort";
      b.textContent = th.textContent.trim();
      b.title = "Sort by " + b.textContent;
      th.textContent = "";
      th.appendChild(b);
      b.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        var sign = dir === "ascending" ? 1 : -1;
        each(heads, function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, c) { return sign * compare(value(a, i), value(c, i)); });
        var frag = document.createDocumentFragment();
        rows.forEach(function (r) { frag.appendChild(r); });
        body.appendChild(frag);
      });
    });
  });
  var table = document.getElementById("repo-table");
  var q = document.getElementById("filter-text");
  var st = document.getElementById("filter-state");
  var shown = document.getElementById("filter-shown");
  function filter() {
    var text = q.value.trim().toLowerCase();
    var state = st.value;
    var rows = table.tBodies[0].rows;
    var n = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (!state || r.getAttribute("data-state") === state) &&
        (!text || r.textContent.toLowerCase().indexOf(text) >= 0);
      r.hidden = !ok;
      if (ok) { n++; }
    }
    shown.textContent = n + " of " + rows.length + " repositories shown";
  }
  if (table && q && st && shown) {
    each(document.querySelectorAll(".controls"), function (c) { c.hidden = false; });
    q.addEventListener("input", filter);
    st.addEventListener("change", filter);
    filter();
  }
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a[href^='#']") : null;
    var el = a && document.getElementById(a.getAttribute("href").slice(1));
    if (el && el.tagName === "DETAILS") { el.open = true; }
  });
  openTarget();
  var opened = [];
  window.addEventListener("beforeprint", function () {
    each(document.querySelectorAll("details:not([open])"), function (d) { d.open = true; opened.push(d); });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();
