"""The node-exporter textfile: parsed back with prometheus_client, sample by sample."""
import os

import pytest

prometheus_parser = pytest.importorskip("prometheus_client.parser")

from virtnat.report.prometheus import prometheus_text, write_prometheus  # noqa: E402


def check(id_, outcome, subject=None, message=""):
    return {"id": id_, "title": "t", "impact": "critical", "subject": subject, "outcome": outcome,
            "message": message, "remediation": "fix"}


def host(name, checks):
    summary = {o: sum(c["outcome"] == o for c in checks) for o in ("passed", "failed", "skipped", "error", "waived")}
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
    parsed = samples(prometheus_text(HEALTHY, detail=True))
    assert value(parsed, "virtnat_check_passed", host="hv1", check="NET-07", subject="") == 1
    assert value(parsed, "virtnat_check_passed", host="hv1", check="VM-02", subject="g:vnet0") == 1
    assert value(parsed, "virtnat_check_outcome", host="hv1", check="NET-07", subject="", outcome="passed") == 1
    assert value(parsed, "virtnat_host_checks", host="hv1", outcome="passed") == 3
    assert value(parsed, "virtnat_host_checks", host="hv1", outcome="failed") == 0
    assert value(parsed, "virtnat_audit_success") == 1
    assert value(parsed, "virtnat_audit_duration_seconds") == 2
    assert value(parsed, "virtnat_audit_timestamp_seconds") == 1795817999  # 2026-11-27T22:19:59Z


def test_faulty_audit():
    parsed = samples(prometheus_text(FAULTY, detail=True))
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


def test_by_default_only_the_checks_that_did_not_pass_have_series():
    """A fleet's textfile stays small: per host its counts, and the checks that did not pass."""
    healthy = samples(prometheus_text(HEALTHY))
    assert not [k for k in healthy if k[0] in ("virtnat_check_passed", "virtnat_check_outcome")]
    assert value(healthy, "virtnat_host_checks", host="hv1", outcome="passed") == 3
    assert value(healthy, "virtnat_audit_success") == 1
    faulty, full = samples(prometheus_text(FAULTY)), samples(prometheus_text(FAULTY, detail=True))
    named = {k for k in faulty if k[0] in ("virtnat_check_passed", "virtnat_check_outcome")}
    assert {(k[0], dict(k[1])["host"], dict(k[1])["check"]) for k in named} == {
        (family, "hv1", check) for family in ("virtnat_check_passed", "virtnat_check_outcome")
        for check in ("NET-07", "VM-02", "VM-03")}  # failed, failed, error: hv1's skipped and hv2's passed are counted only
    assert all(faulty[k] == full[k] for k in faulty)
    assert {k for k in full if k not in faulty} == {k for k in full if k[0] in ("virtnat_check_passed", "virtnat_check_outcome")
                                                   and k not in named}
    waived = document(host("hv1", [check("NET-07", "waived"), check("NET-06", "passed")]))
    assert value(samples(prometheus_text(waived)), "virtnat_check_outcome", host="hv1", check="NET-07", subject="",
                 outcome="waived") == 1


def test_help_and_type_lines():
    text = prometheus_text(HEALTHY, detail=True)
    for name in ("virtnat_check_passed", "virtnat_check_outcome", "virtnat_host_checks",
                 "virtnat_audit_timestamp_seconds", "virtnat_audit_duration_seconds", "virtnat_audit_success"):
        assert f"# HELP {name} " in text
        assert f"# TYPE {name} gauge\n" in text


def test_broken_profile_document_is_a_failed_audit():
    parsed = samples(prometheus_text(document(error="profile site.toml: not valid TOML"), detail=True))
    assert value(parsed, "virtnat_audit_success") == 0
    assert not [k for k in parsed if k[0] == "virtnat_check_outcome"]


def test_label_values_are_escaped():
    nasty = 'h"1\\x\nend'
    parsed = samples(prometheus_text(document(host(nasty, [check("NET-07", "failed", subject='g"\\:\nvnet0')])), detail=True))
    assert value(parsed, "virtnat_check_passed", host=nasty, check="NET-07", subject='g"\\:\nvnet0') == 0
    assert value(parsed, "virtnat_host_checks", host=nasty, outcome="failed") == 1


def test_duplicate_check_keeps_the_worse_outcome():
    doc = document(host("hv1", [check("VM-01", "passed", "g:vnet0"), check("VM-01", "failed", "g:vnet0")]))
    parsed = samples(prometheus_text(doc, detail=True))  # would raise on a duplicate series
    assert value(parsed, "virtnat_check_passed", host="hv1", check="VM-01", subject="g:vnet0") == 0


def test_unparseable_times_leave_out_time_metrics():
    doc = {**HEALTHY, "started": "soon", "finished": None}
    parsed = samples(prometheus_text(doc, detail=True))
    assert not [k for k in parsed if k[0].startswith(("virtnat_audit_timestamp", "virtnat_audit_duration"))]
    assert value(parsed, "virtnat_audit_success") == 1


def test_write_is_atomic_and_readable(tmp_path):
    target = tmp_path / "textfile" / "virtnat.prom"
    write_prometheus(target, HEALTHY)
    write_prometheus(str(target), FAULTY)  # replaces, accepts str
    assert target.read_text() == prometheus_text(FAULTY)
    write_prometheus(target, FAULTY, detail=True)
    assert target.read_text() == prometheus_text(FAULTY, detail=True) != prometheus_text(FAULTY)
    assert os.stat(target).st_mode & 0o777 == 0o644  # node_exporter runs as another user
    assert [p.name for p in target.parent.iterdir()] == ["virtnat.prom"]  # no temporary left


# The whole textfile of FAULTY, line for line: node_exporter serves the HELP and TYPE lines and the
# samples as written, and alert rules match the exact names, labels and values.
FAULTY_TEXT = """\
# HELP virtnat_check_passed 1 if the check passed, 0 if it failed or could not be carried out (skipped and waived checks are absent).
# TYPE virtnat_check_passed gauge
virtnat_check_passed{host="hv1",check="HOST-01",subject=""} 1
virtnat_check_passed{host="hv1",check="NET-07",subject=""} 0
virtnat_check_passed{host="hv1",check="VM-02",subject="g:vnet0"} 0
virtnat_check_passed{host="hv1",check="VM-03",subject="g:vnet0"} 0
virtnat_check_passed{host="hv2",check="NET-07",subject=""} 1
# HELP virtnat_check_outcome Outcome of each check: passed, failed, skipped, error or waived (always 1).
# TYPE virtnat_check_outcome gauge
virtnat_check_outcome{host="hv1",check="HOST-01",subject="",outcome="passed"} 1
virtnat_check_outcome{host="hv1",check="HOST-02",subject="",outcome="skipped"} 1
virtnat_check_outcome{host="hv1",check="NET-07",subject="",outcome="failed"} 1
virtnat_check_outcome{host="hv1",check="VM-02",subject="g:vnet0",outcome="failed"} 1
virtnat_check_outcome{host="hv1",check="VM-03",subject="g:vnet0",outcome="error"} 1
virtnat_check_outcome{host="hv2",check="NET-07",subject="",outcome="passed"} 1
# HELP virtnat_host_checks Number of checks per host by outcome.
# TYPE virtnat_host_checks gauge
virtnat_host_checks{host="hv1",outcome="passed"} 1
virtnat_host_checks{host="hv1",outcome="failed"} 2
virtnat_host_checks{host="hv1",outcome="skipped"} 1
virtnat_host_checks{host="hv1",outcome="error"} 1
virtnat_host_checks{host="hv1",outcome="waived"} 0
virtnat_host_checks{host="hv2",outcome="passed"} 1
virtnat_host_checks{host="hv2",outcome="failed"} 0
virtnat_host_checks{host="hv2",outcome="skipped"} 0
virtnat_host_checks{host="hv2",outcome="error"} 0
virtnat_host_checks{host="hv2",outcome="waived"} 0
# HELP virtnat_audit_timestamp_seconds When the audit finished, in unix seconds.
# TYPE virtnat_audit_timestamp_seconds gauge
virtnat_audit_timestamp_seconds 1795817999.0
# HELP virtnat_audit_duration_seconds How long the audit took, in seconds.
# TYPE virtnat_audit_duration_seconds gauge
virtnat_audit_duration_seconds 2.0
# HELP virtnat_audit_success 1 if no host has a failed or error check and the audit ran, else 0.
# TYPE virtnat_audit_success gauge
virtnat_audit_success 0
"""


def test_faulty_audit_textfile_line_for_line():
    assert prometheus_text(FAULTY, detail=True) == FAULTY_TEXT


@pytest.mark.parametrize("first, second, kept", [
    ("passed", "skipped", "skipped"), ("skipped", "passed", "skipped"), ("skipped", "error", "error"),
    ("error", "skipped", "error"), ("error", "failed", "failed"), ("failed", "error", "failed"),
    ("passed", "unknown", "unknown"), ("unknown", "error", "unknown"), ("unknown", "failed", "failed"),
    ("error", "unknown", "error"), ("failed", "unknown", "failed"),
])
def test_a_duplicate_keeps_the_worse_outcome_in_order_passed_skipped_error_failed(first, second, kept):
    doc = document(host("hv1", [check("VM-01", first, "g:vnet0"), check("VM-01", second, "g:vnet0")]))
    parsed = samples(prometheus_text(doc, detail=True))
    assert [labels for name, labels in parsed if name == "virtnat_check_outcome"] == [
        frozenset({"host": "hv1", "check": "VM-01", "subject": "g:vnet0", "outcome": kept}.items())]


def test_the_same_check_on_two_subjects_or_hosts_is_two_series():
    doc = document(host("hv1", [check("VM-01", "passed", "a:vnet0"), check("VM-01", "failed", "b:vnet1")]),
                   host("hv2", [check("VM-01", "passed", "a:vnet0")]))
    parsed = samples(prometheus_text(doc, detail=True))
    assert value(parsed, "virtnat_check_passed", host="hv1", check="VM-01", subject="a:vnet0") == 1
    assert value(parsed, "virtnat_check_passed", host="hv1", check="VM-01", subject="b:vnet1") == 0
    assert value(parsed, "virtnat_check_passed", host="hv2", check="VM-01", subject="a:vnet0") == 1


def test_without_a_summary_the_checks_are_counted():
    doc = document({"checks": [check("NET-07", "failed"), check("NET-08", "error"), check("NET-09", "passed")]})
    parsed = samples(prometheus_text(doc, detail=True))
    counts = {dict(labels)["outcome"]: v for (name, labels), v in parsed.items() if name == "virtnat_host_checks"}
    assert counts == {"passed": 1, "failed": 1, "skipped": 0, "error": 1, "waived": 0}
    assert {dict(labels)["host"] for name, labels in parsed if name == "virtnat_host_checks"} == {"?"}
    assert value(parsed, "virtnat_audit_success") == 0


def test_a_summary_missing_outcomes_counts_them_zero_and_its_failures_fail_the_audit():
    doc = document({"host": "hv1", "summary": {"failed": "2"}, "checks": []})
    parsed = samples(prometheus_text(doc, detail=True))
    assert value(parsed, "virtnat_host_checks", host="hv1", outcome="failed") == 2
    assert value(parsed, "virtnat_host_checks", host="hv1", outcome="passed") == 0
    assert value(parsed, "virtnat_audit_success") == 0


@pytest.mark.parametrize("summary", [{"error": 1}, {"failed": 1}])
def test_a_summary_with_a_bad_outcome_fails_the_audit_even_when_its_checks_pass(summary):
    doc = document({"host": "hv1", "summary": summary, "checks": [check("NET-07", "passed")]})
    assert value(samples(prometheus_text(doc, detail=True)), "virtnat_audit_success") == 0


def test_an_error_check_alone_fails_the_audit_whatever_the_summary_says():
    doc = document({"host": "hv1", "summary": {"passed": 1}, "checks": [check("NET-07", "error")]})
    assert value(samples(prometheus_text(doc, detail=True)), "virtnat_audit_success") == 0


def test_a_check_without_id_or_outcome_still_gives_its_series():
    parsed = samples(prometheus_text(document({"host": "hv1", "checks": [{}]}), detail=True))
    assert value(parsed, "virtnat_check_passed", host="hv1", check="", subject="") == 0
    assert value(parsed, "virtnat_check_outcome", host="hv1", check="", subject="", outcome="") == 1


def test_an_empty_document_is_a_successful_audit_without_series():
    text = prometheus_text({}, detail=True)
    assert text.endswith("# TYPE virtnat_audit_success gauge\nvirtnat_audit_success 1\n")
    assert "virtnat_audit_timestamp_seconds" not in text and "virtnat_host_checks{" not in text


@pytest.mark.parametrize("started, finished, stamp, duration", [
    ("2026-11-27T22:19:57", "2026-11-27T22:19:59", "1795817999.0", "2.0"),  # no zone: UTC
    ("2026-11-27T23:19:57+01:00", "2026-11-27T22:19:59.500000+00:00", "1795817999.5", "2.5"),
    ("2026-11-27T22:20:09+00:00", "2026-11-27T22:19:59+00:00", "1795817999.0", "0.0"),  # a clock stepped back
    (None, "2026-11-27T22:19:59+00:00", "1795817999.0", None),
])
def test_times_in_any_zone_are_unix_seconds(started, finished, stamp, duration):
    text = prometheus_text({**HEALTHY, "started": started, "finished": finished}, detail=True)
    assert f"\nvirtnat_audit_timestamp_seconds {stamp}\n" in text
    if duration is None:
        assert "virtnat_audit_duration_seconds" not in text
    else:
        assert f"\nvirtnat_audit_duration_seconds {duration}\n" in text


def test_label_escaping_exactly_as_the_text_format_says():
    text = prometheus_text(document(host('a\\b"c\nd', [check("NET-07", "passed", subject=None)])), detail=True)
    assert 'virtnat_check_passed{host="a\\\\b\\"c\\nd",check="NET-07",subject=""} 1' in text


def test_a_subject_none_and_empty_are_one_series():
    doc = document(host("hv1", [check("VM-01", "failed", None), check("VM-01", "passed", "")]))
    assert samples(prometheus_text(doc, detail=True))[("virtnat_check_passed", frozenset({"host": "hv1", "check": "VM-01", "subject": ""}.items()))] == 0


def test_a_time_without_zone_is_utc_whatever_the_local_zone(monkeypatch):
    import time
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        text = prometheus_text({**HEALTHY, "finished": "2026-11-27T22:19:59"}, detail=True)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert "\nvirtnat_audit_timestamp_seconds 1795817999.0\n" in text


def test_a_waived_check_is_neither_pass_nor_fail_and_the_audit_still_succeeds():
    parsed = samples(prometheus_text(document(host("hv1", [check("HOST-03", "waived"), check("NET-07", "passed")])), detail=True))
    assert ("virtnat_check_passed", frozenset({"host": "hv1", "check": "HOST-03", "subject": ""}.items())) not in parsed
    assert value(parsed, "virtnat_check_outcome", host="hv1", check="HOST-03", subject="", outcome="waived") == 1
    assert value(parsed, "virtnat_host_checks", host="hv1", outcome="waived") == 1
    assert value(parsed, "virtnat_audit_success") == 1


def test_of_a_check_listed_twice_the_failure_outranks_the_waiver():
    doc = document(host("hv1", [check("HOST-03", "waived"), check("HOST-03", "failed"), check("HOST-03", "skipped")]))
    parsed = samples(prometheus_text(doc, detail=True))
    assert [k for k in parsed if k[0] == "virtnat_check_outcome"] == [
        ("virtnat_check_outcome", frozenset({"host": "hv1", "check": "HOST-03", "subject": "", "outcome": "failed"}.items()))]
