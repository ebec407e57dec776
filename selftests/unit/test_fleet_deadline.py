"""A fleet of three where one host hangs (issue 8): the plugin, run in-process, audits hv1 and
hv2 (loopback SSH servers answering the probe as the libvirt 9 lab's healthy host did) to the
end, reports hv3 (logged in, never answers) with one line, and writes every report, all within
the deadline plus a few seconds."""
import json
import time
import xml.etree.ElementTree as ET

import pytest

from selftests.unit.checkrun import DATA
from selftests.unit.loopback_ssh import LoopbackSSH, never, probe_answer
from virtnat.state import CHECKS_DIR

HEALTHY = DATA / "libvirt9" / "healthy.txt"
TIMEOUTS = ("--command-timeout=1", "--connect-timeout=1")  # the client waits 2 s at most
MARGIN = 4  # seconds for the checks and reports, on a loaded machine


@pytest.fixture
def fleet(tmp_path, monkeypatch):
    """hv1, hv2 healthy and hv3 silent, each its own server, named in an ssh config with their
    keys in a known_hosts of their own; the client key as a file."""
    monkeypatch.setenv("HOME", str(tmp_path))  # nothing of this machine's ~/.ssh
    answer = probe_answer(HEALTHY.read_text())
    servers = {"hv1": LoopbackSSH(answer), "hv2": LoopbackSSH(answer), "hv3": LoopbackSSH(never)}
    key = servers["hv1"].client_key
    known, config = tmp_path / "known_hosts", tmp_path / "ssh_config"
    known.write_text("".join(s.known_hosts_line() for s in servers.values()))
    config.write_text("".join(f"Host {name}\n  HostName 127.0.0.1\n  Port {s.port}\n  User audit\n  UserKnownHostsFile {known}\n"
                              for name, s in servers.items()))
    for server in servers.values():
        server.client_key = key  # one key for the fleet, as an audit would have
    yield servers, config, servers["hv1"].client_key_file(tmp_path)
    for server in servers.values():
        server.close()


def test_one_hanging_host_costs_its_deadline_and_the_others_complete(pytester, fleet):
    servers, config, key = fleet
    reports = pytester.path / "reports"
    start = time.monotonic()
    result = pytester.runpytest_inprocess(
        str(CHECKS_DIR), "-p", "no:cacheprovider", f"--report-dir={reports}", "--hosts=paramiko://hv1,paramiko://hv2,paramiko://hv3",
        f"--ssh-config={config}", f"--ssh-identity-file={key}", *TIMEOUTS)
    seconds = time.monotonic() - start
    assert 2 <= seconds < 2 + MARGIN
    assert result.ret == 1
    assert [len(s.commands) for s in servers.values()] == [1, 1, 1]  # one probe each, hv3's unanswered

    [document] = [json.loads(p.read_text()) for p in reports.glob("3-hosts-*.json")]
    hosts = {h["host"]: h for h in document["hosts"]}
    assert list(hosts) == ["hv1", "hv2", "hv3"]
    for name in ("hv1", "hv2"):  # as the same recording audited from a file: everything passes
        assert hosts[name]["summary"] == {"passed": 36, "failed": 0, "skipped": 2, "error": 0, "waived": 0}  # NET-17, HOST-12: an older recording
    hung = hosts["hv3"]["checks"]
    assert {c["outcome"] for c in hung} == {"error"} and len(hung) == 38
    assert {c["message"] for c in hung} == {"hv3: probe did not finish within 1 s"}

    suffixes = sorted(p.suffix for p in reports.glob("3-hosts-*") if p.is_file())
    assert suffixes == [".html", ".json", ".xml"] and (reports / "latest.json").exists()
    [folder] = [p for p in reports.glob("3-hosts-*") if p.is_dir()]  # the hosts' pages
    assert sorted(p.name for p in folder.iterdir()) == ["hv1.html", "hv2.html", "hv3.html"]
    cases = list(ET.parse(next(reports.glob("3-hosts-*.xml"))).getroot().iter("testcase"))
    assert len(cases) == 3 * 38
    assert "hv3: probe did not finish within 1 s" in next(reports.glob("3-hosts-*.html")).read_text()
