"""Whatever a host is called, its audit's reports are written (under a safe, short file name of
its own), and a report that cannot be written leaves no earlier run's latest copy behind."""
import json
import re

import pytest

from selftests.unit import probe_edits
from selftests.unit.checkrun import DATA
from virtnat.collectors.bundle import bundle_bytes
from virtnat.state import CHECKS_DIR

HEALTHY = (DATA / "libvirt9" / "healthy.txt").read_text()


def _audit(pytester, host: str, *args):
    bundle = pytester.path / "hv.facts"
    bundle.write_bytes(bundle_bytes(host, "2026-12-07T10:00:00+00:00", HEALTHY))
    reports = pytester.path / "reports"
    result = pytester.runpytest_inprocess(str(CHECKS_DIR), "-p", "no:cacheprovider", f"--report-dir={reports}",
                                          f"--facts={bundle}", *args)
    return result, reports


@pytest.mark.parametrize("host", ["h" * 300, "hv1\x00evil", "../../../tmp/x", ".hv1", "hv 1;rm -rf ~", "é" * 200],
                         ids=["300 characters", "a NUL", "dot-dot slashes", "a leading dot", "spaces and ;", "200 é"])
def test_any_host_name_gets_its_reports(pytester, host):
    result, reports = _audit(pytester, host)
    assert result.ret == 0, result.stdout.str()
    names = sorted(p.name for p in reports.iterdir())
    stamped = [n for n in names if not n.startswith("latest")]
    assert {n.rsplit(".", 1)[1] for n in stamped} == {"json", "html", "xml"} and "latest.json" in names
    assert all(len(n) < 100 and "/" not in n and "\x00" not in n and not n.startswith(".") for n in names)
    assert json.loads((reports / "latest.json").read_text())["hosts"][0]["host"] == host
    assert [p for p in pytester.path.parent.iterdir() if p.name == "x"] == []


def test_a_report_that_cannot_be_written_leaves_no_earlier_latest(pytester, monkeypatch):
    """The earlier run passed. This run's JSON and page cannot be written (something else holds
    their names): latest.json and latest.html go, the terminal says why, and the exit is 1."""
    import datetime as dt

    from virtnat import state

    result, reports = _audit(pytester, "hv1")
    assert result.ret == 0 and (reports / "latest.json").exists() and (reports / "latest.html").exists()
    monkeypatch.setattr(state, "utc_now", lambda: dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc))
    for suffix in ("json", "html"):
        (reports / f"hv1-20261207T100000Z.{suffix}").mkdir()
    again, _ = _audit(pytester, "hv1")
    assert again.ret == 1
    assert not (reports / "latest.json").exists() and not (reports / "latest.html").exists()
    out = again.stdout.str()
    assert f"virtnat: removed {reports / 'latest.json'}: it showed an earlier run" in out
    assert f"virtnat: removed {reports / 'latest.html'}: it showed an earlier run" in out


FORGED = "HOST-01 PASSED  everything fine"
CONTROLS = ["hv1\nHOST-01 PASSED  everything fine", "hv1\x1b]0;owned\x07\x1b[2J", "hv1\r" + FORGED, "hv1\x85\u2028" + FORGED,
            "hv1\x00\x08\x7f", "hv\u202eevil", "hv1\x9b31m"]


@pytest.mark.parametrize("host", CONTROLS, ids=["newline", "OSC and clear", "carriage return", "NEL and LS", "NUL BS DEL",
                                                "right-to-left override", "C1 CSI"])
@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["quiet", "-v"])
def test_a_host_name_with_controls_is_inert_in_the_terminal_and_junit(pytester, host, verbose):
    """The name reaches the terminal and the JUnit file escaped: no control character is
    printed, no line is forged, the XML is well-formed; the JSON keeps the name as it is."""
    import xml.etree.ElementTree as ET

    from virtnat.report.inert import inert

    result, reports = _audit(pytester, host, *verbose)
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == 0
    assert not any(ord(c) < 32 and c != "\n" or 0x7f <= ord(c) <= 0x9f or c in "\u2028\u202e" for c in out), repr(out[-400:])
    assert not any(line.startswith(FORGED) for line in out.splitlines())
    assert f"virtnat: {inert(host)}" in out
    [junit] = [p for p in reports.iterdir() if p.suffix == ".xml"]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("name") == inert(host)
    assert json.loads((reports / "latest.json").read_text())["hosts"][0]["host"] == host


@pytest.mark.parametrize("rules, says", [
    ('{"rules": []}', "ip -j rule: not what iproute2 prints: a JSON dict, not a list"),
    ('["0: from all lookup local"]', "ip -j rule: not a rule as iproute2 prints it: 0: from all lookup local"),
    ("[" * 5000, "ip -j rule: not JSON: "),
], ids=["a dict", "a list of text", "nested deeply"])
def test_a_rules_section_of_the_wrong_shape_leaves_the_packet_path_unchecked(pytester, rules, says):
    """Policy rules that are not iproute2's list are no "no rules": the checks that walk the
    packet path, which follows them, are not checked and say why; the others run."""
    bundle = pytester.path / "hv.facts"
    bundle.write_text(probe_edits.with_body(HEALTHY, "route-rules", rules))
    reports = pytester.path / "reports"
    result = pytester.runpytest_inprocess(str(CHECKS_DIR), "-p", "no:cacheprovider", f"--report-dir={reports}", f"--facts={bundle}")
    assert result.ret == 1
    checks = {c["id"]: c for c in json.loads((reports / "latest.json").read_text())["hosts"][0]["checks"]}
    walked = {"HOST-09", "NET-16", "PATH-01", "PATH-02", "PATH-03", "PATH-04", "PATH-05"}  # the checks that take the packet path
    assert {i for i, c in checks.items() if c["outcome"] == "error"} == walked
    assert all(checks[i]["message"].startswith(f"policy routing rules could not be read: {says}") for i in walked)
    assert {c["outcome"] for i, c in checks.items() if i not in walked} <= {"passed", "skipped"}


def test_titles_and_fixes_name_the_profiles_network_not_the_defaults(pytester):
    """A site whose network is nat0 on virbr7 at 10.7.0.1/16: no check's title or fix in the
    report names libvirt's stock virbr0, 192.168.122.x or network default."""
    profile = pytester.path / "site.toml"
    profile.write_text('[network]\nname = "nat0"\nbridge = "virbr7"\ngateway = "10.7.0.1/16"\n'
                       'dhcp_start = "10.7.0.10"\ndhcp_end = "10.7.0.200"\n')
    result, reports = _audit(pytester, "hv1", f"--profile={profile}")
    assert result.ret == 1
    checks = json.loads((reports / "latest.json").read_text())["hosts"][0]["checks"]
    assert len(checks) >= 37
    for check in checks:
        for field in ("title", "remediation"):
            text = check[field] or ""
            assert "virbr0" not in text and "192.168.122" not in text, (check["id"], field, text)
            assert "'default'" not in text and not re.search(r"net-[a-z]+ default\b", text), (check["id"], field, text)
    titles = {c["id"]: c["title"] for c in checks}
    assert titles["NET-07"] == "virbr7 is administratively UP, and carries traffic when ports are attached"
    assert titles["NET-11"] == "NAT masquerade for 10.7.0.0/16 is in place"


@pytest.mark.parametrize("edit, says", [
    (lambda text: probe_edits.with_body(text, "sockets", "sh: 1: ss: not found", rc=127),
     "listening sockets could not be read: sockets: sh: 1: ss: not found"),
    (lambda text: text.replace('users:(("dnsmasq",pid=', 'users:(("dnsmasq",pod='),
     "the socket's process is not visible: needs root: run with --sudo, or audit as root"),
], ids=["sockets unreadable", "processes hidden"])
def test_sockets_that_could_not_be_read_leave_net15_not_checked(pytester, edit, says):
    """NET-15 cannot tell who holds the ports: ERROR (not checked), never FAILED."""
    bundle = pytester.path / "hv.facts"
    bundle.write_text(edit(HEALTHY))
    reports = pytester.path / "reports"
    pytester.runpytest_inprocess(str(CHECKS_DIR), "-p", "no:cacheprovider", f"--report-dir={reports}", f"--facts={bundle}")
    net15 = next(c for c in json.loads((reports / "latest.json").read_text())["hosts"][0]["checks"] if c["id"] == "NET-15")
    assert net15["outcome"] == "error" and says in net15["message"]
