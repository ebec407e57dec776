"""The HTML page an operator reads, parsed: verdicts first, failures first with their fixes and
evidence, the picture, the profile, every name escaped, every link leading somewhere."""
import base64
import hashlib
import re

import pytest

from selftests.unit import report_docs as docs
from selftests.unit.html_tree import parse
from virtnat.report.page import duration, render_html
from virtnat.report.page_assets import CSS, JS
from virtnat.report.page_profile import flatten, profile_html
from virtnat.report.verdict import counts, host_verdict, totals


def check(id_, outcome="passed", impact="high", message="", subject=None, **more):
    return {"id": id_, "title": f"title of {id_}", "impact": impact, "subject": subject, "outcome": outcome,
            "message": message, "remediation": f"fix {id_}", **more}


@pytest.fixture(scope="module")
def one():
    return parse(render_html(*docs.one_host_with_failures()))


def verdict_of(*checks):
    return host_verdict({"host": "hv1", "checks": list(checks)})


def test_a_host_fails_on_its_most_severe_failure_and_waivers_do_not_fail_it():
    v = verdict_of(check("HOST-01", "error", message="no uri"), check("NET-09", "failed", "low", "stp off"),
                   check("NET-07", "failed", "critical", "down"), check("PATH-03", "failed", "critical", "drop"))
    assert (v.state, v.label) == ("failing", "3 failing, 1 error")
    assert v.reason == "NET-07 (critical): title of NET-07: down"
    assert verdict_of(check("NET-01"), check("VM-01", "error", subject="vm1:vnet0", message="no tap")).reason == (
        "VM-01[vm1:vnet0] could not be checked: no tap")
    ok = verdict_of(check("NET-01"), check("NET-09", "waived"), check("VM-01", "skipped"))
    assert (ok.state, ok.label, ok.reason) == ("ok", "ok · 1 waived", "Nothing failing: 1 passed, 1 skipped, 1 waived.")


def test_one_cause_for_every_check_is_unreachable_several_are_not_checked():
    down = verdict_of(*(check(i, "error", message="ssh: timed out") for i in ("HOST-01", "NET-01")))
    assert (down.state, down.label, down.reason) == ("unreachable", "unreachable", "ssh: timed out")
    mixed = verdict_of(check("HOST-01", "error", message="a"), check("NET-01", "error", message="b"))
    assert (mixed.state, mixed.label, mixed.reason) == ("unchecked", "not checked",
                                                        "No check could be carried out: HOST-01 could not be checked: a")
    assert host_verdict({"host": "x", "checks": []}).state == "unchecked"


def test_counts_come_from_the_checks_or_an_old_summary_without_waived():
    assert counts({"summary": {"passed": 3, "failed": 1, "skipped": 0, "error": 0, "waived": 0}}) == {
        "failed": 1, "error": 0, "waived": 0, "skipped": 0, "passed": 3}
    assert counts({"summary": {"passed": 9}, "checks": [check("X-1", "bogus")]})["error"] == 1
    hosts = [docs.host("a"), docs.unreachable("b"), docs.host("c", {"NET-07": {"outcome": "failed"}})]
    assert totals(hosts)[0] == {"failing": 1, "unreachable": 1, "unchecked": 0, "ok": 1}


def test_the_header_says_what_ran_when_and_the_totals(one):
    assert one.one("h1").text() == "virtnat audit"
    assert one.one("p", class_="meta").text() == ("virtnat 0.1.0 · started 2026-11-28T10:00:00+00:00 · "
                                                  "finished 2026-11-28T10:00:01.400000+00:00 (1.4 s)")
    totals_ = one.one(id="totals")
    assert {k: totals_[f"data-{k}"] for k in ("ok", "failing", "failed", "waived", "passed")} == {
        "ok": "0", "failing": "1", "failed": "3", "waived": "1", "passed": "36"}
    assert duration("x", None) == "" and duration("2026-11-28T10:00:00", "2026-11-28T10:03:00") == "3.0 min"
    assert duration("2026-11-28T10:00:00", "2026-11-28T11:00:00") == "60.0 min"
    assert duration("2026-11-28T10:00:00", "2026-11-28T10:02:30") == "2.5 min" and duration("2026-11-28T10:00:00", "2026-11-28T10:01:59") == "119.0 s"


def test_one_host_gets_its_verdict_reason_and_picture_without_a_hosts_table(one):
    assert not one.all("table", class_="hosts")
    section = one.one("section", class_="host")
    assert (section["id"], section["data-verdict"]) == ("h0", "failing")
    assert section.one("span", class_="verdict v-failing").text() == "3 failing"
    assert section.one("p", class_="reason").text() == (
        "NET-07 (critical): virbr0 is administratively UP: virbr0 is DOWN, expected UP")
    states = {g["data-piece"]: g["data-state"] for g in section.iter("g", data_piece=True)}
    assert states == {"guests": "failed", "bridge": "failed", "forwarding": "passed", "firewall": "failed",
                      "uplink": "passed", "dnsmasq": "passed", "libvirt": "passed", "outside": "none"}
    assert [t.text() for t in section.one("g", data_piece="bridge").iter("text")] == [
        "bridge", "1 failing · 1 waived", "br-nat · DOWN"]


def test_failures_come_first_with_fix_and_evidence_then_waived_then_the_rest_folded(one):
    articles = one.all("article", class_=True)
    order = [(a["data-outcome"], a["data-id"]) for a in articles]
    assert order[:4] == [("failed", "NET-07"), ("failed", "PATH-03"), ("failed", "VM-03"), ("waived", "NET-09")]
    assert {o for o, _ in order[4:]} == {"passed", "skipped"} and len(order) == 41
    fold = [a for a in articles if a["data-outcome"] == "passed"][0].parent
    assert fold.tag == "details" and "open" not in fold.attrs and fold.one("summary").text() == "36 passed, 1 skipped"
    net07 = articles[0]
    assert net07.one("code").text() == "ip link set virbr0 up"
    assert "hidden" in net07.one("button", class_="copy").attrs  # the script shows it
    assert net07.one("p", class_="msg").text() == "virbr0 is DOWN, expected UP"
    walk = articles[1].one("details", class_="evidence")
    assert walk.one("pre").text() == "virbr0 -> FORWARD rule 7: drop <guest traffic>"
    assert [(a["href"], a.text()) for a in walk.iter("a")] == [("#h0-f2", "system"), ("#h0-f1", "links")]
    assert one.one(id="h0-f2").one("pre").text() == "not collected: Permission denied"
    assert '"address": "<52:54:00>"' in one.one(id="h0-f1").one("pre").text()
    waived = articles[3]
    assert waived.one("p", class_="waiver").text() == "waived until 2026-12-31: single-bridge host <ok>"


def test_every_name_is_text_every_id_is_safe_and_every_link_lands(one):
    assert not one.all("img")
    xss = [a for a in one.iter("article") if a["data-subject"] == f"{docs.XSS}:vnet1"]
    assert len(xss) == 4 and xss[0].one("span", class_="subject").text() == f"{docs.XSS}:vnet1"
    ids = [e["id"] for e in one.iter(id=True)]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[A-Za-z0-9-]+", i) for i in ids)
    targets = {e.get("href") for e in one.iter("a", href=True)}
    assert targets and {t[1:] for t in targets} <= set(ids)
    assert "a'b · vnet2" in one.one("g", data_piece="guests").text()


def test_the_profile_marks_what_differs_from_the_defaults(one):
    profile = one.one("details", class_="profile")
    assert profile.one("summary").text() == "Profile: 2 of 9 values differ from the defaults: bridge, source"
    rows = {tr["data-key"]: (tr["data-differs"], [td.text() for td in tr.iter("td")]) for tr in profile.iter("tr", data_key=True)}
    assert rows["bridge"] == ("yes", ["bridge", "br-nat", "virbr0", "differs from the default"])
    assert rows["require_firewalld"] == ("no", ["require_firewalld", "true", "true", ""])
    assert flatten({"network": {"name": "x", "dhcp": {"start": 2}}, "empty": {}}) == {
        "network.name": "x", "network.dhcp.start": 2, "empty": {}}
    nested = parse(profile_html({"network": {"bridge": "br0"}, "extra": [1]}, {"network": {"bridge": "virbr0"}}))
    assert [(tr["data-key"], tr["data-differs"]) for tr in nested.iter("tr", data_key=True)] == [
        ("network.bridge", "yes"), ("extra", "yes")]
    assert nested.one("tr", data_key="extra").all("td")[2].text() == "(none)"
    many = parse(profile_html({f"k{i}": i for i in range(8)}, {"k0": 0}))
    assert many.one("summary").text() == "Profile: 7 of 8 values differ from the defaults: k1, k2, k3, k4, k5, k6, …"
    six = parse(profile_html({f"k{i}": i for i in range(7)}, {"k0": 0}))
    assert six.one("summary").text() == "Profile: 6 of 7 values differ from the defaults: k1, k2, k3, k4, k5, k6"
    same = parse(profile_html({"bridge": "virbr0"}, {"bridge": "virbr0"}))
    assert same.one("summary").text() == "Profile: 0 of 1 values differ from the defaults"
    assert profile_html({"bridge": "br0"}, {}) == profile_html({"bridge": "br0"}, None)  # no defaults known
    assert "none given" in parse(profile_html(None, {"bridge": "virbr0"})).text()
    assert "nothing is marked" in parse(profile_html({"bridge": "br0"}, None)).text()


def test_an_audit_that_did_not_run_says_why_and_lists_no_host():
    doc = docs.document(docs.host("hv1"), error="profile p.toml: network.gateway: 'x' is not an IPv4 address")
    page = parse(render_html(doc, {}))
    assert page.one("p", class_="banner").text() == "Audit not run: profile p.toml: network.gateway: 'x' is not an IPv4 address"
    assert not page.all("section", class_="host") and not page.all("form") and not page.all("svg")
    assert page.one("title").text() == "virtnat audit: not run"


def test_hosts_are_listed_worst_first_and_the_page_stands_without_evidence():
    doc = docs.document(docs.host("ok1"), docs.unreachable("down1"), docs.host("bad", {"NET-07": {"outcome": "failed"}}),
                        {"host": "empty", "checks": []})
    page = parse(render_html(doc, {}))
    assert [(tr["data-host"], tr["data-verdict"]) for tr in page.one("table", class_="hosts").iter("tr", data_h=True)] == [
        ("bad", "failing"), ("down1", "unreachable"), ("empty", "unchecked"), ("ok1", "ok")]
    down = page.one("section", data_host="down1")
    assert {g["data-state"] for g in down.iter("g", data_piece=True)} == {"error", "none"}
    fold = down.one("details", class_="group fold")
    assert fold.one("summary").text() == "29 checks could not be carried out (the cause is above)"
    assert not fold.all("code")  # no fix for a check that was not carried out for one cause
    bridge = page.one("section", data_host="ok1").one("g", data_piece="bridge")
    assert [t.text() for t in bridge.iter("text")] == ["bridge", "ok", "unknown"]
    assert not page.all("details", class_="facts")
    empty = page.one("section", data_host="empty")
    assert empty.one("p", class_="reason").text() == "No check ran on this host." and not empty.all("svg")


def test_a_fleet_opens_with_its_problems_by_cause_then_its_hosts_and_one_host_has_none(one):
    doc, evidence = docs.fleet(30)
    page = parse(render_html(doc, evidence))
    sections = [e for e in page.iter() if e.tag in ("section", "table") and e.get("class") in ("causes", "hosts", "host")]
    assert [e.get("class") for e in sections[:4]] == ["causes", "causes", "hosts", "host"]  # the causes' section, its table
    rows = page.one("table", class_="causes").all("tr", class_=True)
    assert [(r["data-outcome"], r["data-ids"].split()[0], r["data-hosts"]) for r in rows] == [
        ("failed", "NET-07", "9"), ("error", "HOST-01", "3"), ("failed", "VM-03", "9")]  # critical by hosts, then high
    net07 = rows[0]
    assert [td.text() for td in net07.all("td")[:4]] == ["critical", "NET-07 virbr0 is administratively UP", "failed virbr0 is DOWN", "9"]
    hosts = net07.one("details")
    assert "open" not in hosts.attrs and hosts.one("summary").text() == "9 hosts"
    assert [(a["href"], a.text()) for a in hosts.iter("a")] == [(f"#h{i}", f"hv{i:03}") for i in range(0, 30, 3) if i % 10 != 9]  # not the unreachable hv009
    assert rows[1].all("td")[2].text() == "error could not be checked: ssh: connect to host 10.0.0.9 port 22: Connection refused"
    assert rows[1].one("details", class_="more").one("summary").text() == f"and {len(rows[1]['data-ids'].split()) - 2} more checks"
    assert page.one("h2", class_="hosts").text() == "Hosts (30)"
    ids = {e["id"] for e in page.iter(id=True)}
    assert {a["href"][1:] for a in page.one("section", class_="causes").iter("a", href=True)} <= ids
    assert not one.all("section", class_="causes")  # one host: its page as before
    clean = parse(render_html(docs.document(docs.host("ok1"), docs.host("ok2")), {}))
    assert clean.one("section", class_="causes").one("p").text() == "None: on every host every check passed, was skipped or was waived."


def test_new_ids_and_odd_values_render_as_text_never_as_reprs():
    doc = docs.document({"host": "hv1", "checks": [
        check("NET-17", "failed", message={"got": 1}), check("ZZZ-01", "passed", title=None), check("HOST-10", "weird")]})
    page = parse(render_html(doc, {"hosts": {"hv1": {"pieces": ["not", "a", "dict"], "checks": {"NET-17": "text"}}}}))
    assert page.one("article", data_id="NET-17").one("p", class_="msg").text() == '{"got": 1}'
    libvirt = page.one("details", id="h0-p-libvirt")
    assert [a.text() for a in libvirt.iter("a")] == ["NET-17", "HOST-10"] and libvirt["data-state"] == "failed"
    assert [a.text() for a in page.one("details", id="h0-p-other").iter("a")] == ["ZZZ-01"]
    assert page.one("article", data_id="HOST-10")["data-outcome"] == "error"
    for code in page.all("script") + page.all("style"):
        code.children.clear()
    assert not re.search(r"\{'|Traceback|AssertionError|0x[0-9a-f]{6}|None", page.text())


def test_nothing_is_hidden_without_the_script_but_its_filters_and_copy_buttons(one):
    assert {(e.tag, e.get("class")) for e in one.iter(hidden=True)} == {
        ("form", "filters"), ("legend", None), ("button", "copy")}
    form = one.one("form", id="filters")
    assert [i["value"] for i in form.iter("input", name="outcome")] == ["failed", "error", "waived", "skipped", "passed"]
    assert all("checked" in i.attrs for i in form.iter("input", name="outcome"))


def test_only_the_pages_own_script_may_run():
    page = parse(render_html(*docs.one_host_with_failures()))
    assert page.one("script").text() == " ".join(JS.split())
    script, style = (base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() for text in (JS, CSS))
    assert page.one("meta", http_equiv="Content-Security-Policy")["content"] == (
        f"default-src 'none'; style-src 'sha256-{style}'; script-src 'sha256-{script}'; img-src data:; base-uri 'none'")


def test_a_hundred_hosts_stay_small():
    """Its speed is make bench's business (a timed test fails on a busy machine and proves nothing)."""
    doc, evidence = docs.fleet(100)
    page = render_html(doc, evidence)
    assert len(page.encode()) < 3_000_000
    assert page.count('<section class="host"') == 100 and page.count("<tr data-h=") == 100
    assert page.count('<details class="facts">') == 90  # once per host that has facts


def check_of(outcome, **extra):
    return {"id": "NET-02", "title": "t", "impact": "high", "subject": None, "outcome": outcome, "message": "m",
            "remediation": "virsh net-start default", **extra}


def articles_of(checks, evidence=None, one_cause=False):
    from virtnat.report.page_checks import checks_html
    return parse(f"<div>{checks_html(checks, ('hv1', 0), evidence or {}, {'libvirt': 'h0-f-libvirt'}, one_cause)}</div>")


def test_a_checks_evidence_shows_its_text_and_links_only_what_it_has():
    only_kinds = {"checks": {"NET-02": {"text": "", "facts": ["libvirt"]}}}
    failed = articles_of([check_of("failed")], only_kinds).one("details", class_="evidence")
    assert not failed.all("pre") and failed.one("p").text() == "facts judged: libvirt"
    assert failed.text() == "evidencefacts judged: libvirt"  # the summary, then the paragraph
    assert not articles_of([check_of("passed")], only_kinds).all("details", class_="evidence")  # a pass: text only
    only_text = {"checks": {"NET-02": {"text": "net-info: Active: no", "facts": []}}}
    shown = articles_of([check_of("failed")], only_text).one("details", class_="evidence")
    assert shown.one("pre").text() == "net-info: Active: no" and not shown.all("p")
    assert shown.text() == "evidencenet-info: Active: no"


def test_a_waiver_without_an_expiry_says_its_reason_alone():
    page = articles_of([check_of("waived", waiver={"reason": "CHG-1"})])
    assert page.one("p", class_="waiver").text() == "waived: CHG-1"


def test_every_group_shows_whatever_group_is_empty_before_it():
    page = articles_of([check_of("error"), check_of("waived", waiver={"reason": "CHG-1"})])
    assert [h.text() for h in page.all("h3")] == ["Could not be checked (1)", "Waived (1)"]
    folded = articles_of([check_of("error"), check_of("waived", waiver={"reason": "CHG-1"})], one_cause=True)
    assert [h.text() for h in folded.all("h3")] == ["Waived (1)"]
    assert folded.one("details", class_="group fold").one("summary").text() == "1 checks could not be carried out (the cause is above)"


def test_a_verdicts_reason_says_only_the_parts_a_check_has():
    bare = {"id": "NET-02", "outcome": "failed"}
    assert host_verdict({"checks": [bare]}).reason == "NET-02"
    assert host_verdict({"checks": [{**bare, "message": "inactive"}]}).reason == "NET-02: inactive"
    assert host_verdict({"checks": [{**bare, "impact": "high", "title": "t"}]}).reason == "NET-02 (high): t"
    errors = host_verdict({"checks": [{"id": "HOST-01", "outcome": "error", "message": "m"}, {"id": "NET-02", "outcome": "passed"}]})
    assert (errors.state, errors.label) == ("failing", "1 error")
    silent = host_verdict({"checks": [{"id": "HOST-01", "outcome": "error"}, {"id": "NET-02", "outcome": "error"}]})
    assert (silent.state, silent.reason) == ("unchecked", "No check could be carried out: HOST-01 could not be checked: ")
