"""The HTML page's inline style and script, and the Content-Security-Policy that allows only them.

The script only enhances: it shows the filters and the copy buttons (hidden without it), applies
the filters (also from the URL: ?outcome=failed&outcome=error&q=NET-07), and opens the folded
<details> a link points into. Without it every check and fact is on the page, folded or not."""
from __future__ import annotations

import base64
import hashlib

CSS = """
:root{--red:#b71c1c;--red-bg:#fdecea;--amber:#8a5300;--amber-bg:#fff4d6;--grey:#616161;--grey-bg:#eeeeee;
--green:#1b5e20;--green-bg:#e6f4ea;--line:#d0d0d0}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;margin:0 auto;max-width:1240px;padding:0 16px 48px}
h1{margin:16px 0 4px;font-size:24px}h2{font-size:19px;margin:0 0 4px}h3{font-size:15px;margin:14px 0 6px}
a{color:#0b57d0}[hidden]{display:none!important}
.meta,.totals{margin:2px 0;color:#333}.totals b{font-size:15px}
.banner{background:var(--red-bg);border:2px solid var(--red);color:var(--red);padding:10px 14px;font-weight:600;border-radius:6px;margin:12px 0}
table{border-collapse:collapse;margin:8px 0 16px;width:100%}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;white-space:nowrap}
.v-ok{background:var(--green-bg);color:var(--green)}.v-failing{background:var(--red-bg);color:var(--red)}
.v-unreachable{background:var(--red);color:#fff}.v-unchecked{background:var(--grey-bg);color:var(--grey)}
.filters{position:sticky;top:0;z-index:2;background:#fafafa;border:1px solid var(--line);border-radius:6px;padding:6px 10px;margin:8px 0 16px}
.filters fieldset{display:inline;border:0;margin:0;padding:0}.filters label{margin-right:10px}.filters output{color:#555;margin-left:8px}
.host{border-top:3px solid var(--line);padding-top:12px;margin-top:24px}.reason{margin:4px 0 8px}.counts{color:#444;margin:0 0 6px}
svg.path{width:100%;max-width:1160px;height:auto;display:block;font-size:11px;font-family:system-ui,sans-serif}
.piece rect{stroke-width:2}.piece .label{font-weight:700;font-size:13px}.piece .status{font-weight:600}
.piece a:hover rect,.piece a:focus rect{stroke-width:4}
.s-failed rect,.s-error rect{fill:var(--red-bg);stroke:var(--red)}.s-failed .status,.s-error .status{fill:var(--red)}
.s-waived rect{fill:var(--amber-bg);stroke:#c77d00}.s-waived .status{fill:var(--amber)}
.s-skipped rect{fill:var(--grey-bg);stroke:#8d8d8d}.s-skipped .status{fill:var(--grey)}
.s-passed rect{fill:var(--green-bg);stroke:#2e7d32}.s-passed .status{fill:var(--green)}
.s-none rect{fill:#fff;stroke:#9e9e9e;stroke-dasharray:5 3}
.g-failed,.g-error{fill:var(--red)}.g-waived{fill:var(--amber)}.fact.unknown{fill:#777;font-style:italic}
.flow{stroke:#555;stroke-width:2;fill:none}.head{fill:#555}.side{stroke:#888;stroke-width:1.5;stroke-dasharray:4 3;fill:none}.note{fill:#555;font-size:10px}
.legend{font-size:12px;color:#444;margin:2px 0 8px}
.legend i{display:inline-block;width:11px;height:11px;border:2px solid;margin:0 3px 0 10px;vertical-align:-1px}
.legend .s-failed{background:var(--red-bg);border-color:var(--red)}.legend .s-waived{background:var(--amber-bg);border-color:#c77d00}
.legend .s-skipped{background:var(--grey-bg);border-color:#8d8d8d}.legend .s-passed{background:var(--green-bg);border-color:#2e7d32}
.legend .s-none{background:#fff;border:2px dashed #9e9e9e}
.piecelists{display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 8px}.piecelists ul{margin:4px 0 8px;padding-left:20px}
.piecelist>summary{cursor:pointer}
:target{outline:3px solid #0b57d0;outline-offset:2px}
.check{border-left:5px solid var(--line);padding:4px 10px;margin:6px 0;background:#fff}
.check p{margin:2px 0}.check .head{font-weight:600}.check .title{font-weight:400}
.o-failed,.o-error{border-left-color:var(--red)}.o-waived{border-left-color:#c77d00}.o-skipped{border-left-color:#9e9e9e}.o-passed{border-left-color:#2e7d32}
.badge{display:inline-block;min-width:54px;text-align:center;border-radius:3px;padding:0 5px;font-size:12px;font-weight:700}
.b-failed,.b-error{background:var(--red);color:#fff}.b-waived{background:#c77d00;color:#fff}.b-skipped{background:var(--grey-bg);color:var(--grey)}
.b-passed{background:var(--green-bg);color:var(--green)}
.impact{font-size:12px;color:#555;font-weight:400}.i-critical{color:var(--red);font-weight:700}.subject{font-family:ui-monospace,monospace;font-weight:400}
.waiver{color:var(--amber)}
.fix{display:flex;gap:6px;align-items:flex-start;margin:4px 0}
pre{background:#f5f5f5;border:1px solid var(--line);border-radius:4px;padding:6px 8px;margin:2px 0;white-space:pre-wrap;overflow-wrap:anywhere;max-height:480px;overflow:auto}
.fix pre{flex:1}button.copy{font-size:12px;padding:2px 8px}
details>summary{cursor:pointer}.fold>summary,.facts>summary{font-weight:600;margin:6px 0}
.profile .differs{background:var(--amber-bg)}.profile .mark{color:var(--amber);font-weight:700}
.causes h2,.since h2,h2.hosts{margin:18px 0 4px}table.causes td:nth-child(2){min-width:220px}.causes .id{font-weight:700;white-space:nowrap}
.causes td:last-child{min-width:110px;max-width:360px}.causes details.on[open]{overflow-wrap:anywhere}.back{margin:10px 0 0}
"""

JS = """
(function () {
  "use strict";
  var d = document;
  d.documentElement.setAttribute("data-js", "on");
  function each(sel, f) { Array.prototype.forEach.call(d.querySelectorAll(sel), f); }
  function openTo(id) {
    for (var e = id ? d.getElementById(id) : null; e; e = e.parentElement) {
      if (e.tagName === "DETAILS") e.open = true;
    }
  }
  function fromHash() {
    try { openTo(decodeURIComponent(location.hash.slice(1))); } catch (e) { /* a malformed fragment opens nothing */ }
  }
  function select(code) {
    try {
      var r = d.createRange(); r.selectNodeContents(code);
      var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
      return d.execCommand("copy");
    } catch (e) { return false; }
  }
  function copy(button) {
    var code = button.parentElement.querySelector("code");
    if (!code) return;
    function say(ok) { button.textContent = ok ? "copied" : "selected: press Ctrl+C"; }
    try {
      navigator.clipboard.writeText(code.textContent).then(function () { say(true); }, function () { say(select(code)); });
    } catch (e) { say(select(code)); }
  }
  d.addEventListener("click", function (ev) {
    var t = ev.target.closest ? ev.target : ev.target.parentElement;
    var a = t && t.closest("a"), b = t && t.closest("button.copy");
    var href = a && a.getAttribute("href");
    if (href && href.charAt(0) === "#") openTo(href.slice(1));
    if (b) copy(b);
  });
  window.addEventListener("hashchange", fromHash);
  each("button.copy", function (b) { b.hidden = false; });
  fromHash();

  var form = d.getElementById("filters");
  if (!form) return;
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=outcome]"));
  var q = form.querySelector("input[name=q]"), shown = d.getElementById("shown");
  var checks = Array.prototype.slice.call(d.querySelectorAll(".check"));
  function apply() {
    var on = {}, seen = {}, n = 0, words = q.value.trim().toLowerCase();
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    var active = words !== "" || boxes.some(function (b) { return !b.checked; });
    checks.forEach(function (c) {
      var hay = [c.getAttribute("data-id"), c.getAttribute("data-subject"), c.getAttribute("data-host")].join(" ").toLowerCase();
      var ok = on[c.getAttribute("data-outcome")] !== false && (words === "" || hay.indexOf(words) >= 0);
      c.hidden = !ok;
      if (ok) { n += 1; seen["h" + c.getAttribute("data-h")] = true; }
    });
    each(".host, .hosts tbody tr", function (h) { h.hidden = active && !seen["h" + h.getAttribute("data-h")]; });
    each(".group", function (g) {
      var any = g.querySelector(".check:not([hidden])") !== null;
      g.hidden = active && !any;
      if (active && any && g.tagName === "DETAILS") g.open = true;
    });
    d.documentElement.setAttribute("data-filtered", active ? "yes" : "no");
    shown.textContent = active ? n + " of " + checks.length + " checks shown" : "";
  }
  var params = new URLSearchParams(location.search), wanted = params.getAll("outcome");
  if (wanted.length) boxes.forEach(function (b) { b.checked = wanted.indexOf(b.value) >= 0; });
  if (params.get("q")) q.value = params.get("q");
  form.hidden = false;
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    apply();
    try { history.replaceState(null, "", "?" + new URLSearchParams(new FormData(form)) + location.hash); } catch (e) { /* file:// */ }
  });
  apply();
}());
"""


def _sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


# Nothing loads from anywhere, and only this script runs: an attribute like onerror=... that
# escaping missed would still not.
def csp() -> str:
    """The page's Content-Security-Policy: nothing but its own inline style and script (by their
    hashes) and data: images."""
    return f"default-src 'none'; style-src {_sha256(CSS)}; script-src {_sha256(JS)}; img-src data:; base-uri 'none'"
