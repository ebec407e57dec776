"""Issue 3, done-when 2 and 4: a fleet run over three names of the lab host and one address
where nothing listens, with -n 2; and the scheduled-audit tools on real reports."""
import json
import subprocess
import sys
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from .labhost import ADDRS, NOLISTEN, RESULT_COUNT, ROOT


def test_fleet_with_a_dead_host(lab, tmp_path):
    cfg = lab.ssh_config(tmp_path / "config")
    hosts = ",".join(f"ssh://{a}" for a in [*ADDRS[:3], NOLISTEN])
    start = time.monotonic()
    run = lab.audit(f"--hosts={hosts}", f"--ssh-config={cfg}", "-n", "2", inside=False)
    elapsed = time.monotonic() - start
    assert run.rc == 1, run.stdout
    entries = {h["host"]: h for h in run.doc["hosts"]}
    assert sorted(entries) == sorted([*ADDRS[:3], NOLISTEN])
    for name in ADDRS[:3]:
        assert entries[name]["summary"] == {"passed": RESULT_COUNT, "failed": 0, "skipped": 0, "error": 0, "waived": 0}, name
    dead = entries[NOLISTEN]
    assert {c["outcome"] for c in dead["checks"]} == {"error"}
    assert all("Connection refused" in c["message"] for c in dead["checks"]), dead["checks"][0]
    assert elapsed < 10 + 30, f"the run took {elapsed:.0f} s"
    html = next(p for p in run.report_dir.glob("*.html") if p.name != "latest.html").read_text()
    assert all(name in html for name in entries)


def virtnat(*args, cwd=ROOT):
    exe = Path(sys.executable).parent / "virtnat"  # the console script, as users run it
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_scheduled_audit_diff_and_prometheus(lab, tmp_path):
    cfg = lab.ssh_config(tmp_path / "config")
    reports = tmp_path / "reports"
    common = [f"--hosts=ssh://{ADDRS[0]}", f"--ssh-config={cfg}", f"--report-dir={reports}"]
    healthy = virtnat("audit", *common, f"--prometheus={tmp_path / 'virtnat.prom'}", "--prometheus-detail", cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    (tmp_path / "healthy.json").write_text((reports / "latest.json").read_text())
    families = {f.name: f for f in text_string_to_metric_families((tmp_path / "virtnat.prom").read_text())}
    passed = families["virtnat_check_passed"].samples
    assert len(passed) == RESULT_COUNT and all(s.value == 1 for s in passed)
    assert families["virtnat_audit_success"].samples[0].value == 1
    assert {"virtnat_audit_timestamp_seconds", "virtnat_audit_duration_seconds"} <= set(families)

    both = ("virsh -r net-info default | grep -Eq '^Autostart:[[:space:]]+no' && "
            "ip -o link show virbr0 | grep -vq '[<,]UP[,>]' && echo in-place")
    lab.sh("virsh net-autostart --disable default && ip link set virbr0 down")
    try:
        before = lab.sh(both, check=False)
        time.sleep(1.1)  # a new report name: the names carry the time to the second
        faulty = virtnat("audit", *common, "--keep", "1", cwd=tmp_path)
        after = lab.sh(both, check=False)
    finally:
        lab.sh("virsh net-autostart default && ip link set virbr0 up")
    assert "in-place" in before and "in-place" in after, "both faults were not in place all through the audit"
    assert faulty.returncode == 1
    messages = {c["id"]: c["message"] for c in json.loads((reports / "latest.json").read_text())["hosts"][0]["checks"]}
    assert "network 'default': autostart is off, expected on" in messages["NET-03"]
    assert "virbr0 is administratively DOWN" in messages["NET-07"]
    assert len([p for p in reports.glob("*.json") if p.name != "latest.json"]) == 1, "--keep 1 pruned the older run"

    diff = virtnat("diff", str(tmp_path / "healthy.json"), str(reports / "latest.json"))
    assert diff.returncode == 1, diff.stdout + diff.stderr
    broke = {line.split()[0] for line in diff.stdout.splitlines() if "passed -> failed" in line}
    # a bridge that is down has no route: the guests' replies have nowhere to go (PATH-01..03),
    # and its ports are disabled: the guests cannot reach each other (PATH-05)
    assert broke == {"NET-03", "NET-07", "PATH-01", "PATH-02", "PATH-03", "PATH-05"}, diff.stdout
    same = virtnat("diff", str(tmp_path / "healthy.json"), str(tmp_path / "healthy.json"))
    assert same.returncode == 0 and "no changes" in same.stdout
    assert json.loads((reports / "latest.json").read_text())["hosts"][0]["host"] == ADDRS[0]
    assert lab.wait_healthy().rc == 0


def test_filtered_host_times_out_within_the_connect_timeout(lab, tmp_path):
    """A host that drops the connection attempt (here: the lab drops SYNs to port 2222)
    costs its connect timeout, then its checks ERROR saying so; nothing hangs."""
    cfg = lab.ssh_config(tmp_path / "config")
    lab.sh("iptables -I INPUT -p tcp --dport 2222 -j DROP")
    try:
        for connection in ("ssh", "paramiko"):
            start = time.monotonic()
            run = lab.audit(f"--hosts={connection}://root@{ADDRS[0]}:2222", f"--ssh-config={cfg}",
                            "--connect-timeout=2", inside=False)
            elapsed = time.monotonic() - start
            checks = run.doc["hosts"][0]["checks"]
            assert run.rc == 1 and {c["outcome"] for c in checks} == {"error"}, run.stdout
            assert "timed out" in checks[0]["message"] and "--connect-timeout" in checks[0]["message"], checks[0]
            assert elapsed < 2 + 10, f"{connection}: {elapsed:.1f} s"
    finally:
        lab.sh("iptables -D INPUT -p tcp --dport 2222 -j DROP")
