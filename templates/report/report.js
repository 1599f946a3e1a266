(function () {
  "use strict";
  // The page reads without this script: the summary, the waves, the
  // failures and the first rows of each table are in the page. The script
  // draws the long tables a page at a time from the data embedded in
  // #report-data, sorts and filters them, and draws a repository's
  // cutover card when a link opens it. Positions in a repository record
  // mirror reports/htmldata.go.
  var REPO = 0, WAVE = 1, STATE = 2, PATH = 3, OWNER = 4, PR = 5, FLAG = 6, CANARY = 7, LOCKED = 8, TRUST = 9,
    TOKEN = 10, BLOCKED = 11, CRED = 12, PACKAGES = 13, FLAGSINCE = 14, TOKENLEFT = 15, TRUSTED = 16,
    CANARIES = 17, REVOKED = 18, DELETED = 19, CHECKS = 20, MANUAL = 21, FINDINGS = 22, LAST = 23,
    LOCKEDNAMES = 24, FLAGVAR = 25;
  var PAGE = 100;

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null && text !== "") { e.textContent = text; }
    return e;
  }
  function add(parent, child) {
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    return child;
  }
  function safeURL(u) { return /^https?:\/\//i.test(u) ? u : ""; }
  function link(text, url) {
    var u = safeURL(url);
    if (!u) { return document.createTextNode(text); }
    var a = el("a", "", text);
    a.href = u;
    return a;
  }
  function compare(x, y) {
    if (typeof x === "number" && typeof y === "number") { return x - y; }
    x = String(x); y = String(y);
    if (x !== "" && y !== "" && !isNaN(x) && !isNaN(y)) { return Number(x) - Number(y); }
    return x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
  }

  // Sorting of the small tables drawn in the page.
  function cellValue(row, i) {
    var c = row.cells[i];
    if (!c) { return ""; }
    var v = c.getAttribute("data-v");
    return v !== null ? v : c.textContent.trim();
  }
  function sortButtons(table, onSort) {
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
        each(heads, function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir);
        onSort(i, dir === "ascending" ? 1 : -1);
      });
    });
  }
  each(document.querySelectorAll("table.sortable:not([data-src])"), function (table) {
    sortButtons(table, function (i, sign) {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, c) { return sign * compare(cellValue(a, i), cellValue(c, i)); });
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(r); });
      body.appendChild(frag);
    });
  });

  var node = document.getElementById("report-data");
  if (!node) { return; }
  var D = JSON.parse(node.textContent);
  var S = D.s;
  function s(i) { return S[i] || ""; }
  function L(i) { return D.l[i] || []; }
  function label(st) { return D.labels[st] || st; }

  // A table drawn from data: columns give each cell and its sort key.
  function DataTable(table, rows, columns, onDraw) {
    var self = this;
    this.table = table;
    this.all = rows.map(function (r, i) { return { r: r, i: i }; });
    this.rows = this.all.slice();
    this.columns = columns;
    this.page = 0;
    this.onDraw = onDraw;
    var pager = el("div", "pager");
    this.prev = add(pager, el("button", "", "Previous"));
    this.info = add(pager, el("span", "", ""));
    this.next = add(pager, el("button", "", "Next"));
    this.prev.type = this.next.type = "button";
    this.info.setAttribute("aria-live", "polite");
    this.prev.addEventListener("click", function () { self.go(self.page - 1); });
    this.next.addEventListener("click", function () { self.go(self.page + 1); });
    table.parentNode.parentNode.insertBefore(pager, table.parentNode.nextSibling);
    this.pager = pager;
    sortButtons(table, function (i, sign) {
      var key = columns[i].key;
      self.rows.sort(function (a, b) { return sign * compare(key(a.r), key(b.r)) || a.i - b.i; });
      self.go(0);
    });
    var more = table.parentNode.parentNode.querySelector(".more");
    if (more) { more.hidden = true; }
  }
  DataTable.prototype.setRows = function (rows) { this.rows = rows; this.go(0); };
  DataTable.prototype.go = function (p) {
    var pages = Math.max(1, Math.ceil(this.rows.length / PAGE));
    this.page = Math.max(0, Math.min(p, pages - 1));
    var from = this.page * PAGE, to = Math.min(this.rows.length, from + PAGE);
    var body = document.createElement("tbody");
    for (var k = from; k < to; k++) {
      var row = this.rows[k], tr = document.createElement("tr");
      for (var c = 0; c < this.columns.length; c++) {
        var col = this.columns[c], td = document.createElement(c === 0 ? "th" : "td");
        if (c === 0) { td.scope = "row"; }
        if (col.cls) { td.className = col.cls; }
        col.cell(td, row.r, row.i);
        tr.appendChild(td);
      }
      if (this.rowAttr) { this.rowAttr(tr, row.r); }
      body.appendChild(tr);
    }
    this.table.replaceChild(body, this.table.tBodies[0]);
    this.info.textContent = this.rows.length ? "rows " + (from + 1) + "–" + to + " of " + this.rows.length + ", page " + (this.page + 1) + " of " + pages : "no rows";
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
    this.pager.hidden = pages < 2;
    if (this.onDraw) { this.onDraw(); }
  };

  function text(f) { return function (td, r) { td.textContent = f(r); }; }
  function cardLink(td, name, i) {
    if (i < 0) { td.textContent = name; return; }
    var a = el("a", "", name);
    a.href = "#r" + i;
    td.appendChild(a);
  }
  function prText(r) {
    var p = r[PR];
    if (!p) { return ""; }
    var t = (p[1] ? "#" + p[0] : p[0] ? "#" + p[0] : "branch") + " " + s(p[3]);
    if (s(p[3]) === "open" && s(p[5]) !== "none") { t += ", checks " + s(p[5]); }
    return t;
  }

  // The repository table, with its filter.
  var repoTable = document.getElementById("repo-table");
  var q = document.getElementById("filter-text");
  var st = document.getElementById("filter-state");
  var shown = document.getElementById("filter-shown");
  var repos = D.r;
  if (repoTable && q && st && shown) {
    var hay = repos.map(function (r) {
      var b = r[BLOCKED];
      return [s(r[REPO]), r[WAVE] < 0 ? "" : r[WAVE], label(s(r[STATE])), s(r[PATH]), s(r[OWNER]), prText(r),
        s(r[FLAG]), s(r[CANARY]), b ? s(b[0]) : ""].join(" ").toLowerCase();
    });
    var repoCols = [
      { key: function (r) { return s(r[REPO]); }, cell: function (td, r, i) { cardLink(td, s(r[REPO]), i); } },
      { key: function (r) { return r[WAVE] < 0 ? 1e9 : r[WAVE]; }, cell: text(function (r) { return r[WAVE] < 0 ? "—" : String(r[WAVE]); }) },
      { key: function (r) { return D.ranks[s(r[STATE])] || 0; }, cell: function (td, r) { td.appendChild(el("span", "badge b-" + s(r[STATE]), label(s(r[STATE])))); } },
      { key: function (r) { return s(r[PATH]); }, cell: text(function (r) { return s(r[PATH]); }) },
      { key: function (r) { return s(r[OWNER]); }, cell: text(function (r) { return s(r[OWNER]); }) },
      { key: function (r) { return r[PR] ? r[PR][0] : -1; }, cell: function (td, r) {
        var p = r[PR];
        if (!p) { return; }
        var t = prText(r), sp = t.indexOf(" ");
        td.appendChild(link(t.slice(0, sp), s(p[1])));
        td.appendChild(document.createTextNode(t.slice(sp)));
      } },
      { key: function (r) { return s(r[FLAG]); }, cell: text(function (r) { return s(r[FLAG]); }) },
      { key: function (r) { return s(r[CANARY]); }, cell: text(function (r) { return s(r[CANARY]); }) },
      { key: function (r) { return r[LOCKED]; }, cls: "n", cell: function (td, r) {
        td.textContent = r[LOCKED] + "/" + r[TRUST];
        if (r[LOCKEDNAMES].length) { td.title = r[LOCKEDNAMES].map(s).join(", "); }
      } },
      { key: function (r) { return r[TOKEN]; }, cell: text(function (r) { return r[TOKEN] ? "yes" : "no"; }) },
      { key: function (r) { return r[BLOCKED] ? s(r[BLOCKED][0]) : ""; }, cell: text(function (r) { return r[BLOCKED] ? s(r[BLOCKED][0]) : ""; }) }
    ];
    var rt = new DataTable(repoTable, repos, repoCols, null);
    rt.rowAttr = function (tr, r) { tr.setAttribute("data-state", s(r[STATE])); };
    var filter = function () {
      var t = q.value.trim().toLowerCase(), state = st.value, out = [];
      for (var i = 0; i < rt.all.length; i++) {
        var x = rt.all[i];
        if ((!state || s(x.r[STATE]) === state) && (!t || hay[x.i].indexOf(t) >= 0)) { out.push(x); }
      }
      var sorted = repoTable.querySelector("th[aria-sort]");
      if (sorted) {
        var idx = Array.prototype.indexOf.call(sorted.parentNode.cells, sorted);
        var sign = sorted.getAttribute("aria-sort") === "ascending" ? 1 : -1, key = repoCols[idx].key;
        out.sort(function (a, b) { return sign * compare(key(a.r), key(b.r)) || a.i - b.i; });
      }
      rt.setRows(out);
      shown.textContent = out.length + " of " + repos.length + " repositories match";
    };
    each(document.querySelectorAll(".controls"), function (c) { c.hidden = false; });
    q.addEventListener("input", filter);
    st.addEventListener("change", filter);
    filter();
  }

  // The revoked tokens and the verified canaries.
  var revTable = document.getElementById("revoked-table");
  if (revTable) {
    new DataTable(revTable, D.t, [
      { key: function (r) { return s(r[0]); }, cell: function (td, r) { td.appendChild(el("code", "key", s(r[0]))); } },
      { key: function (r) { return s(r[1]); }, cell: function (td, r) { td.appendChild(el("code", "", s(r[1]))); } },
      { key: function (r) { return s(r[2]); }, cell: text(function (r) { return s(r[2]); }) },
      { key: function (r) { return s(r[3]); }, cell: function (td, r) { cardLink(td, s(r[3]), r[6]); } },
      { key: function (r) { return s(r[4]); }, cell: text(function (r) { return s(r[4]); }) },
      { key: function (r) { return s(r[5]); }, cell: text(function (r) { return s(r[5]); }) }
    ], null).go(0);
  }
  var canTable = document.getElementById("canary-table");
  if (canTable) {
    new DataTable(canTable, D.c, [
      { key: function (r) { return s(r[0]); }, cell: function (td, r) { td.appendChild(link(s(r[0]), s(r[1]))); } },
      { key: function (r) { return s(r[2]); }, cell: function (td, r) { cardLink(td, s(r[2]), r[8]); } },
      { key: function (r) { return s(r[3]); }, cell: function (td, r) { td.appendChild(el("code", "", s(r[3]))); } },
      { key: function (r) { return s(r[4]); }, cell: text(function (r) { return s(r[4]); }) },
      { key: function (r) { return r[5]; }, cls: "n", cell: text(function (r) { return r[5] + "/" + r[6]; }) },
      { key: function (r) { return s(r[7]); }, cell: text(function (r) { return s(r[7]); }) }
    ], null).go(0);
  }

  // Cutover cards, drawn when opened.
  var cardList = document.getElementById("card-list");
  function dd(dl, term, content) {
    add(dl, el("dt", "", term));
    var d = add(dl, el("dd", "", ""));
    if (typeof content === "string") { d.textContent = content; } else { d.appendChild(content); }
    return d;
  }
  function frag() { return document.createDocumentFragment(); }
  function list(parent, title, items, fill) {
    if (!items || !items.length) { return; }
    add(parent, el("h3", "", title));
    var ul = add(parent, el("ul", "plain", ""));
    items.forEach(function (x) { fill(add(ul, el("li", "", "")), x); });
  }
  function trustClass(t) { return t === "configured" ? "pass" : t === "missing" || t === "mismatch" ? "fail" : "pending"; }
  function sevClass(t) { return t === "error" ? "fail" : t === "warning" ? "warn" : "skipped"; }
  function drawCard(i) {
    var r = repos[i];
    var d = el("details", "", "");
    d.id = "r" + i;
    var sum = add(d, el("summary", "", s(r[REPO]) + " "));
    add(sum, el("span", "badge b-" + s(r[STATE]), label(s(r[STATE]))));
    var dl = add(d, el("dl", "", ""));
    dd(dl, "Wave", r[WAVE] < 0 ? "—" : String(r[WAVE]));
    dd(dl, "Owner", s(r[OWNER]) || "unknown");
    dd(dl, "Path", s(r[PATH]) + (s(r[CRED]) ? " (detected: " + s(r[CRED]) + ")" : ""));
    var b = r[BLOCKED];
    if (b) {
      var bd = dd(dl, "Blocked", s(b[0]) + (s(b[3]) ? " (step " + s(b[3]) + ")" : "") + (s(b[4]) ? " since " + s(b[4]) : ""));
      bd.className = "fail";
      if (s(b[2])) { add(bd, el("br")); add(bd, el("code", "", s(b[2]))); }
    }
    var pk = frag();
    r[PACKAGES].forEach(function (p, k) {
      if (k) { add(pk, ", "); }
      add(pk, (p[1] & 2) ? link(s(p[0]), s(p[2])) : document.createTextNode(s(p[0])));
      if (p[1] & 1) { add(pk, " (private)"); } else if (!(p[1] & 2)) { add(pk, " (not publishable)"); }
    });
    dd(dl, "Packages", r[PACKAGES].length ? pk : "none found");
    var p = r[PR];
    if (p) {
      var pf = frag();
      add(pf, link((p[0] ? "#" + p[0] + " " : "") + s(p[2]), s(p[1])));
      add(pf, ": " + s(p[3]) + (p[4] ? " (draft)" : "") + ", checks " + s(p[5]) + (s(p[6]) ? ", playbook " + s(p[6]) : "") + ", branch ");
      add(pf, el("code", "", s(p[7])));
      dd(dl, "Pull request", pf);
    }
    var ff = frag();
    add(ff, el("code", "", s(r[FLAGVAR])));
    add(ff, " " + s(r[FLAG]) + (s(r[FLAGSINCE]) ? " since " + s(r[FLAGSINCE]) : ""));
    dd(dl, "Flag", ff);
    var tl = r[TOKENLEFT];
    if (tl) {
      var tf = frag();
      L(tl[0]).forEach(function (x) {
        add(tf, "secret "); add(tf, el("code", "", s(x[0])));
        add(tf, " (" + s(x[1]) + (s(x[2]) ? " " + s(x[2]) : "") + (s(x[3]) ? ", rotated " + s(x[3]) : "") + "); ");
      });
      L(tl[1]).forEach(function (x) {
        add(tf, "fed as "); add(tf, el("code", "", s(x[0])));
        if (s(x[1])) { add(tf, " from "); add(tf, el("code", "", s(x[1]))); }
        add(tf, " in " + s(x[2]) + (x[3] ? ":" + x[3] : "") + "; ");
      });
      tl[2].forEach(function (x) {
        add(tf, "npm token "); add(tf, el("code", "key", s(x[0])));
        if (s(x[1])) { add(tf, " ("); add(tf, el("code", "", s(x[1]))); add(tf, ")"); }
        add(tf, (s(x[2]) ? " “" + s(x[2]) + "”" : "") + (s(x[3]) ? ", expires " + s(x[3]) : "") +
          (x[4] >= 0 ? ", bypasses 2FA: " + (x[4] ? "yes" : "no") : "") + "; ");
      });
      dd(dl, "Token left", tf);
    }
    list(d, "Trusted publishers", r[TRUSTED], function (li, x) {
      add(li, s(x[0]) + ": ");
      add(li, el("span", trustClass(s(x[4])), s(x[4])));
      add(li, "," + (s(x[1]) !== s(r[REPO]) ? " repository " + s(x[1]) + "," : "") + " workflow " + s(x[2]) +
        (s(x[3]) ? ", environment " + s(x[3]) : "") + (s(x[5]) ? " (" + s(x[5]) + ")" : ""));
      if (s(x[4]) !== "configured" && safeURL(s(x[6]))) { add(li, " "); add(li, link("settings", s(x[6]))); }
    });
    list(d, "Canaries", r[CANARIES], function (li, x) {
      add(li, s(x[0]) + "@"); add(li, el("code", "", s(x[1])));
      add(li, (s(x[2]) ? " (tag " + s(x[2]) + ")" : "") + ": ");
      add(li, el("span", x[3] ? "pass" : "fail", x[3] ? "verified" : "failed"));
      add(li, ", " + x[4] + "/" + x[5] + " checks, " + s(x[6]));
      x[7].forEach(function (f) { add(li, "; "); add(li, el("span", "fail", s(f[0]))); add(li, ": " + s(f[1])); });
    });
    var rd = r[REVOKED].concat(r[DELETED].map(function (x) { return { del: x }; }));
    list(d, "Revoked and deleted", rd, function (li, x) {
      if (x.del) {
        x = x.del;
        add(li, "secret "); add(li, el("code", "", s(x[0])));
        add(li, " (" + s(x[1]) + (s(x[2]) ? " " + s(x[2]) : "") + ") deleted " + s(x[3]) + (s(x[4]) ? " by " + s(x[4]) : ""));
        return;
      }
      add(li, "npm token "); add(li, el("code", "key", s(x[0])));
      if (s(x[1])) { add(li, " ("); add(li, el("code", "", s(x[1]))); add(li, ")"); }
      add(li, " revoked " + s(x[2]) + (s(x[3]) ? " by " + s(x[3]) : ""));
    });
    if (L(r[CHECKS]).length) {
      add(d, el("h3", "", "Checklist"));
      var cp = add(d, el("p", "checks", ""));
      L(r[CHECKS]).forEach(function (x, k) {
        if (k) { add(cp, " "); }
        var st = s(x[1]);
        add(cp, el("span", st, s(x[0]) + ((st === "fail" || st === "pending") && s(x[2]) ? " (" + s(x[2]) + ")" : "")));
      });
    }
    list(d, "Manual steps", r[MANUAL], function (li, x) {
      add(li, s(x[0]));
      if (safeURL(s(x[1]))) { add(li, " "); add(li, link("link", s(x[1]))); }
    });
    list(d, "Findings", L(r[FINDINGS]), function (li, x) {
      add(li, el("span", sevClass(s(x[0])), s(x[0]))); add(li, " "); add(li, el("code", "", s(x[1])));
      add(li, (s(x[2]) ? " " + s(x[2]) : "") + (x[3] ? ":" + x[3] : "") + ": " + s(x[4]));
    });
    if (s(r[LAST])) { add(d, el("p", "meta", "Last step: " + s(r[LAST]))); }
    return d;
  }
  // card returns repository i's card, drawing it if it is not in the page.
  function card(i) {
    var d = document.getElementById("r" + i);
    if (d || !cardList || !(i >= 0 && i < repos.length)) { return d; }
    d = drawCard(i);
    cardList.insertBefore(d, cardList.firstChild);
    return d;
  }
  function openId(id, scroll) {
    var m = /^r(\d+)$/.exec(id || "");
    var d = m ? card(Number(m[1])) : document.getElementById(id);
    if (d && d.tagName === "DETAILS") {
      d.open = true;
      if (scroll && d.scrollIntoView) { d.scrollIntoView(); }
    }
  }
  window.addEventListener("hashchange", function () { openId(decodeURIComponent(location.hash.slice(1)), true); });
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a[href^='#']") : null;
    if (a) { openId(a.getAttribute("href").slice(1), false); }
  });
  openId(decodeURIComponent(location.hash.slice(1)), true);

  // Printing opens the cards of the repositories on the table's page.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    if (repoTable) {
      each(repoTable.querySelectorAll("tbody a[href^='#r']"), function (a) { card(Number(a.getAttribute("href").slice(2))); });
    }
    each(document.querySelectorAll("details:not([open])"), function (d) { d.open = true; opened.push(d); });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();
