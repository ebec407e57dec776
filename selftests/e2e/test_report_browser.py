"""The HTML page in headless Chromium: what an operator sees once its script ran (verdicts, the
picture's states, filters driven from the URL, copy buttons that never throw), and no script error.
Screenshots go to reports/screenshots/ for the README."""
import base64
import hashlib
import re

import pytest

from selftests.browser import CHROMIUM, SHOTS, open_page
from selftests.unit import report_docs as docs
from selftests.unit.html_tree import parse, visible_text
from virtnat.report.page import render_html

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by `make lab-deps`")
PROBE = "virtnat-console-probe"
# The test's own script, after the page's: press every copy button (no clipboard in a headless file:// page).
CLICK = f'document.querySelectorAll("button.copy").forEach(function (b) {{ b.click(); }}); console.log("{PROBE}");'


def with_script(page: str, script: str) -> str:
    """The page with script appended to its body and allowed by its Content-Security-Policy."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    page = page.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    return page.replace("</body>", f"<script>{script}</script></body>", 1)


def show(tmp_path, name: str, pair, query: str = "", script: str = ""):
    """The page's DOM (parsed) after its script ran, and the console's lines but the probe's."""
    page = render_html(*pair)
    path = tmp_path / f"{name}.html"
    path.write_text(with_script(page, script) if script else page, encoding="utf-8")
    dom, console = open_page(path, query, SHOTS / f"{name}.png")
    probed = [line for line in console if PROBE in line]
    assert probed or not script, "the console is not captured"
    return parse(dom), [line for line in console if PROBE not in line]


def shown(tree, tag: str, **attrs):
    """The elements the filters leave shown (none of them or of their ancestors hidden)."""
    return [e for e in tree.iter(tag, **attrs) if "hidden" not in e.attrs and not any("hidden" in a.attrs for a in e.ancestors())]


def test_one_host_with_failures_a_waiver_and_a_guest_named_with_markup(tmp_path):
    tree, console = show(tmp_path, "one-host", docs.one_host_with_failures(), script=CLICK)
    assert console == []
    assert tree.one("html")["data-js"] == "on" and "hidden" not in tree.one("form", id="filters").attrs
    section = tree.one("section", class_="host")
    assert section.one("span", class_="verdict v-failing").text() == "3 failing"
    assert {g["data-piece"]: g["data-state"] for g in section.iter("g", data_piece=True)} == {
        "guests": "failed", "bridge": "failed", "forwarding": "passed", "firewall": "failed", "uplink": "passed",
        "dnsmasq": "passed", "libvirt": "passed", "outside": "none"}
    assert not tree.all("img") and docs.XSS in section.one("article", data_id="VM-03", data_outcome="failed").text()
    buttons = tree.all("button", class_="copy")
    assert len(buttons) == 4 and {b.text() for b in buttons} <= {"copied", "selected: press Ctrl+C"}
    text = visible_text(tree)
    assert not re.search(r"Traceback|AssertionError|0x[0-9a-f]{4,}|\{'", text)


def test_an_unreachable_host_beside_a_healthy_one_and_a_link_into_a_folded_list(tmp_path):
    tree, console = show(tmp_path, "unreachable", docs.unreachable_beside_healthy(), query="#h1-p-bridge")
    assert console == []
    verdicts = {s["data-host"]: s.one("h2").text() for s in tree.iter("section", class_="host")}
    assert verdicts == {"down1": "down1 unreachable", "ok1": "ok1 ok"}
    assert [tr["data-host"] for tr in tree.one("table", class_="hosts").iter("tr", data_h=True)] == ["down1", "ok1"]
    states = {s["data-host"]: {g["data-state"] for g in s.iter("g", data_piece=True)} for s in tree.iter("section", class_="host")}
    assert states == {"down1": {"error", "none"}, "ok1": {"passed", "none"}}
    assert "open" in tree.one("details", id="h1-p-bridge").attrs  # the script opens what a link points into


def test_an_audit_that_did_not_run(tmp_path):
    tree, console = show(tmp_path, "not-run", (docs.document(error="profile site.toml: network.gateway: 'x' is not "
                                                                    "an IPv4 address"), {}), script=f'console.log("{PROBE}");')
    assert console == [] and tree.one("html")["data-js"] == "on"
    assert tree.one("p", class_="banner").text().startswith("Audit not run: profile site.toml")
    assert not tree.all("section", class_="host")


def test_a_hundred_hosts_filtered_from_the_url(tmp_path):
    tree, console = show(tmp_path, "fleet-filtered", docs.fleet(100), query="?outcome=failed&outcome=error&q=net-07")
    assert console == []
    checks = shown(tree, "article", class_=True)
    assert {(c["data-outcome"], c["data-id"]) for c in checks} == {("failed", "NET-07"), ("error", "NET-07")}
    assert len(checks) == 40  # 30 failing hosts, 10 unreachable ones
    assert len(shown(tree, "section", class_="host")) == 40 == len(shown(tree, "tr", data_h=True))
    assert tree.one("output", id="shown").text() == "40 of 3260 checks shown"


def test_a_thousand_hosts_open_with_their_causes_and_a_hosts_detail_one_click_away(tmp_path):
    """Issue 25, done-when 4: the fleet's page, as the finish writes it, in Chromium: the causes
    first (the same failure on 300 hosts is one row), then each host's own page from its link."""
    from virtnat.report.finish import Outputs, write_reports

    page = tmp_path / "fleet.html"
    assert write_reports(*docs.fleet(1000), Outputs(html=page)).problems == []
    dom, console = open_page(page, screenshot=SHOTS / "fleet-causes.png")
    tree = parse(dom)
    assert console == []
    causes = [(row["data-ids"].split()[0], row["data-hosts"], row["data-outcome"]) for row in tree.iter("tr", class_=True)
              if "cause" in row["class"].split()]
    assert causes == [("NET-07", "300", "failed"), ("HOST-01", "100", "error"), ("VM-03", "300", "failed")]
    links = {a.text(): a["href"] for a in tree.iter("a", href=True) if a["href"].startswith("fleet/")}
    assert len(links) == 1000 and links["hv000"] == "fleet/hv000.html"
    detail, console = open_page(tmp_path / links["hv000"])
    host = parse(detail)
    assert console == []
    failed = {(a["data-id"], a["data-outcome"]) for a in host.iter("article", class_=True) if a["data-outcome"] == "failed"}
    assert failed == {("NET-07", "failed"), ("VM-03", "failed")}
    assert "virbr0 is DOWN" in visible_text(host)
