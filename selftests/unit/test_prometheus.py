"""The node-exporter textfile: parsed back with prometheus_client, sample by sample."""
import os

import pytest

prometheus_parser = pytest.importorskip("prometheus_client.parser")

from virtnat.report.prometheus import prometheus_text, write_prometheus  # noqa: E402


def check(id_, outcome, subject=None, message=""):
    return {"id": id_, "title": "t", "impact": "critical", "subject": subject, "outcome": outcome,
            "message": message, "remediation": "fix"}


def host(name, checks):
    summary = {o: sum(c["outcome"] == o for c in checks) for o in ("passed", "failed", "skipped", "error")}
    return {"host": name, "summary": summary, "checks": checks}


def document(*hosts, **extra):
    return {"tool": "virtnat", "version": "0.1.0", "started": "2026-11-27T22:19:57+00:00",
            "finished": "2026-11-27T22:19:59+00:00", "profile": None, "hosts": list(hosts), **extra}


HEALTHY = document(host("hv1", [check("HOST-01", "passed"), check("NET-07", "passed"),
                                check("VM-02", "passed", "g:vnet0")]))
FAULTY = document(
    host("hv1", [check("HOST-01", "passed"), check("HOST-02", "skipped"), check("NET-07", "failed", message="virbr0 is DOWN"),
                 check("VM-02", "failed", "g:vnet0"), check("VM-03", "error", "g:vnet0")]),
    host("hv2", [check("NET-07", "passed")]),
)


def samples(text):
    """{(metric name, frozenset of labels): value}, via prometheus_client's own parser."""
    out = {}
    for family in prometheus_parser.text_string_to_metric_families(text):
        assert family.type == "gauge"
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate series {key}"
            out[key] = s.value
    return out


def value(parsed, name, **labels):
    return parsed[(name, frozenset(labels.items()))]


def test_healthy_audit():
    parsed = samples(prometheus_text(HEALTHY))
    assert value(parsed, "virtnat_check_passed", host="hv1", check="NET-07", subject="") == 1
    assert value(parsed, "virtnat_check_passed", host="hv1", check="VM-02", subject="g:vnet0") == 1
    assert value(parsed, "virtnat_check_outcome", host="hv1", check="NET-07", subject="", outcome="passed") == 1
    assert value(parsed, "virtnat_host_checks", host="hv1", outcome="passed") == 3
    assert value(parsed, "virtnat_host_checks", host="hv1", outcome="failed") == 0
    assert value(parsed, "virtnat_audit_success") == 1
    assert value(parsed, "virtnat_audit_duration_seconds") == 2
    assert value(parsed, "virtnat_audit_timestamp_seconds") == 1795817999  # 2026-11-27T22:19:59Z


def test_faulty_audit():
    parsed = samples(prometheus_text(FAULTY))
    assert value(parsed, "virtnat_check_passed", host="hv1", check="NET-07", subject="") == 0
    assert value(parsed, "virtnat_check_passed", host="hv1", check="VM-02", subject="g:vnet0") == 0
    assert value(parsed, "virtnat_check_passed", host="hv1", check="VM-03", subject="g:vnet0") == 0
    assert value(parsed, "virtnat_check_passed", host="hv2", check="NET-07", subject="") == 1
    # skipped: no pass/fail sample, but its outcome is there
    assert ("virtnat_check_passed", frozenset({"host": "hv1", "check": "HOST-02", "subject": ""}.items())) not in parsed
    assert value(parsed, "virtnat_check_outcome", host="hv1", check="HOST-02", subject="", outcome="skipped") == 1
    assert value(parsed, "virtnat_check_outcome", host="hv1", check="VM-03", subject="g:vnet0", outcome="error") == 1
    outcomes = [k for k in parsed if k[0] == "virtnat_check_outcome"]
    assert len(outcomes) == 6  # one per check, naming its outcome
    assert value(parsed, "virtnat_host_checks", host="hv1", outcome="failed") == 2
    assert value(parsed, "virtnat_host_checks", host="hv1", outcome="error") == 1
    assert value(parsed, "virtnat_host_checks", host="hv2", outcome="passed") == 1
    assert value(parsed, "virtnat_audit_success") == 0


def test_help_and_type_lines():
    text = prometheus_text(HEALTHY)
    for name in ("virtnat_check_passed", "virtnat_check_outcome", "virtnat_host_checks",
                 "virtnat_audit_timestamp_seconds", "virtnat_audit_duration_seconds", "virtnat_audit_success"):
        assert f"# HELP {name} " in text
        assert f"# TYPE {name} gauge\n" in text


def test_broken_profile_document_is_a_failed_audit():
    parsed = samples(prometheus_text(document(error="profile site.toml: not valid TOML")))
    assert value(parsed, "virtnat_audit_success") == 0
    assert not [k for k in parsed if k[0] == "virtnat_check_outcome"]


def test_label_values_are_escaped():
    nasty = 'h"1\\x\nend'
    parsed = samples(prometheus_text(document(host(nasty, [check("NET-07", "failed", subject='g"\\:\nvnet0')]))))
    assert value(parsed, "virtnat_check_passed", host=nasty, check="NET-07", subject='g"\\:\nvnet0') == 0
    assert value(parsed, "virtnat_host_checks", host=nasty, outcome="failed") == 1


def test_duplicate_check_keeps_the_worse_outcome():
    doc = document(host("hv1", [check("VM-01", "passed", "g:vnet0"), check("VM-01", "failed", "g:vnet0")]))
    parsed = samples(prometheus_text(doc))  # would raise on a duplicate series
    assert value(parsed, "virtnat_check_passed", host="hv1", check="VM-01", subject="g:vnet0") == 0


def test_unparseable_times_leave_out_time_metrics():
    doc = {**HEALTHY, "started": "soon", "finished": None}
    parsed = samples(prometheus_text(doc))
    assert not [k for k in parsed if k[0].startswith(("virtnat_audit_timestamp", "virtnat_audit_duration"))]
    assert value(parsed, "virtnat_audit_success") == 1


def test_write_is_atomic_and_readable(tmp_path):
    target = tmp_path / "textfile" / "virtnat.prom"
    write_prometheus(target, HEALTHY)
    write_prometheus(str(target), FAULTY)  # replaces, accepts str
    assert target.read_text() == prometheus_text(FAULTY)
    assert os.stat(target).st_mode & 0o777 == 0o644  # node_exporter runs as another user
    assert [p.name for p in target.parent.iterdir()] == ["virtnat.prom"]  # no temporary left
