"""Comparing two audits: what changed, and whether it got worse."""
import dataclasses
import json

import pytest

from virtnat.report.diff import JSON_DEPTH, Change, check_document, diff_documents, format_changes, load_document


def check(id_, outcome, subject=None, message=""):
    return {"id": id_, "title": "t", "impact": "critical", "subject": subject, "outcome": outcome,
            "message": message, "remediation": "fix"}


def document(hosts: dict, **extra):
    return {"tool": "virtnat", "version": "0.1.0", "started": "2026-11-27T22:19:57+00:00",
            "finished": "2026-11-27T22:19:59+00:00", "profile": None,
            "hosts": [{"host": h, "summary": {}, "checks": c} for h, c in hosts.items()], **extra}


def healthy_checks():
    return [check("HOST-01", "passed"), check("HOST-02", "skipped"), check("NET-07", "passed"),
            check("VM-02", "passed", "g:vnet0")]


HEALTHY = document({"hv1": healthy_checks(), "hv2": healthy_checks()})


def test_identical_audits_have_no_changes():
    assert diff_documents(HEALTHY, HEALTHY) == []
    assert format_changes([]) == ""


def test_faults_are_worse_and_named_by_check_and_subject():
    faulty = document({"hv1": [check("HOST-01", "passed"), check("HOST-02", "skipped"),
                               check("NET-07", "failed", message="virbr0 is administratively DOWN"),
                               check("VM-02", "failed", "g:vnet0", message="vnet0 is not on virbr0")]})
    changes = diff_documents(HEALTHY, faulty)
    hv1 = [c for c in changes if c.host == "hv1"]
    assert hv1 == [
        Change("hv1", "NET-07", None, "passed", "failed", "virbr0 is administratively DOWN", True),
        Change("hv1", "VM-02", "g:vnet0", "passed", "failed", "vnet0 is not on virbr0", True),
    ]
    hv2 = [c for c in changes if c.host == "hv2"]  # the host that disappeared: every check, worse
    assert [(c.check, c.subject, c.old_outcome, c.new_outcome, c.worse) for c in hv2] == [
        ("HOST-01", None, "passed", "absent", True), ("HOST-02", None, "skipped", "absent", True),
        ("NET-07", None, "passed", "absent", True), ("VM-02", "g:vnet0", "passed", "absent", True)]


def test_repairs_are_changes_but_not_worse():
    faulty = document({"hv1": [check("NET-07", "failed"), check("HOST-05", "error")]})
    fixed = document({"hv1": [check("NET-07", "passed"), check("HOST-05", "skipped")]})
    changes = diff_documents(faulty, fixed)
    assert [(c.check, c.old_outcome, c.new_outcome, c.worse) for c in changes] == [
        ("HOST-05", "error", "skipped", False), ("NET-07", "failed", "passed", False)]


@pytest.mark.parametrize("old, new, worse", [
    ("passed", "failed", True), ("passed", "error", True), ("skipped", "failed", True),
    ("absent", "failed", True), ("absent", "error", True),
    ("failed", "error", False), ("error", "failed", False), ("passed", "skipped", False),
    ("absent", "passed", False), ("passed", "absent", False), ("failed", "absent", False),
])
def test_worse_means_good_to_bad(old, new, worse):
    before = document({"hv1": [] if old == "absent" else [check("VM-01", old, "g:vnet0")]})
    after = document({"hv1": [] if new == "absent" else [check("VM-01", new, "g:vnet0")]})
    [change] = diff_documents(before, after)
    assert (change.old_outcome, change.new_outcome, change.worse) == (old, new, worse)


def test_subjects_are_compared_separately():
    old = document({"hv1": [check("VM-02", "passed", "a:vnet0"), check("VM-02", "passed", "b:vnet1")]})
    new = document({"hv1": [check("VM-02", "passed", "a:vnet0"), check("VM-02", "failed", "b:vnet1")]})
    [change] = diff_documents(old, new)
    assert (change.subject, change.worse) == ("b:vnet1", True)


def test_new_host_and_order():
    new = document({**{h["host"]: h["checks"] for h in HEALTHY["hosts"]},
                    "hv3": [check("VM-01", "passed", "g:vnet0"), check("NET-10", "failed"), check("NET-2", "passed")]})
    changes = diff_documents(HEALTHY, new)
    assert [(c.host, c.check, c.worse) for c in changes] == [
        ("hv3", "NET-2", False), ("hv3", "NET-10", True), ("hv3", "VM-01", False)]  # numeric order


def test_broken_new_audit_loses_every_host():
    changes = diff_documents(HEALTHY, document({}, error="profile: not valid TOML"))
    assert len(changes) == 8 and all(c.worse and c.new_outcome == "absent" for c in changes)


def test_change_is_frozen():
    change = Change("hv1", "NET-07", None, "passed", "failed", "m", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.worse = False


def test_format():
    changes = [
        Change("hv1", "NET-07", None, "passed", "failed", "virbr0 is administratively DOWN\n(see NET-02)", True),
        Change("hv1", "VM-02", "guest:vnet0", "failed", "passed", "", False),
        Change("hv2", "HOST-05", None, "passed", "absent", "host hv2 is not in the new audit", True),
    ]
    assert format_changes(changes).splitlines() == [
        "hv1: 2 changes, 1 worse",
        "  NET-07           passed -> failed   virbr0 is administratively DOWN (see NET-02)",
        "  VM-02[guest:vnet0] failed -> passed",
        "hv2: 1 change, 1 worse",
        "  HOST-05          passed -> absent   host hv2 is not in the new audit",
    ]


def test_each_change_says_why_in_the_new_audits_words():
    old = document({"hv1": [check("NET-07", "passed"), check("NET-08", "passed"), check("NET-09", "failed", message="x")],
                    "hv2": [check("HOST-01", "passed")]})
    new = document({"hv1": [check("NET-07", "failed", message="virbr0 is DOWN"),
                            {**check("NET-09", "passed"), "message": None}]})
    assert [(c.host, c.check, c.old_outcome, c.new_outcome, c.message, c.worse) for c in diff_documents(old, new)] == [
        ("hv1", "NET-07", "passed", "failed", "virbr0 is DOWN", True),
        ("hv1", "NET-08", "passed", "absent", "not in the new audit", False),
        ("hv1", "NET-09", "failed", "passed", "", False),
        ("hv2", "HOST-01", "passed", "absent", "host hv2 is not in the new audit", True),
    ]


def test_changes_are_in_check_id_order_across_areas_then_by_subject():
    new = document({**{h["host"]: h["checks"] for h in HEALTHY["hosts"]},
                    "hv3": [check("VM-01", "failed", "b:vnet1"), check("ZZ-1", "failed"), check("VM-01", "failed", "a:vnet0"),
                            check("PATH-02", "failed"), check("NET-x", "failed"), check("HOST-09", "failed"),
                            check("NET-3", "failed"), check("AB-1", "failed")]})
    assert [c.name for c in diff_documents(HEALTHY, new)] == [
        "HOST-09", "NET-x", "NET-3", "PATH-02", "VM-01[a:vnet0]", "VM-01[b:vnet1]", "AB-1", "ZZ-1"]


def test_load_document_reads_what_virtnat_writes():
    text = json.dumps(HEALTHY, indent=2).encode()
    assert load_document(text) == HEALTHY
    assert load_document(b"\xef\xbb\xbf" + text) == HEALTHY  # a byte order mark, as some editors save


def nested(levels):
    return {**HEALTHY, "profile": json.loads("[" * (levels - 1) + "]" * (levels - 1))}  # the document is the first


@pytest.mark.parametrize("data", [json.dumps(nested(JSON_DEPTH + 1)).encode(), b"[" * 100000, b'{"a":' * 100000,
                                  json.dumps(nested(JSON_DEPTH + 1)).encode().replace(b'"hosts"', b'"a"')])
def test_load_document_refuses_nesting_past_the_limit(data):
    with pytest.raises(ValueError, match=rf"^nested too deeply \(more than {JSON_DEPTH} levels of lists and objects\)"):
        load_document(data)


def test_load_document_takes_nesting_up_to_the_limit():
    assert load_document(json.dumps(nested(JSON_DEPTH)).encode()) == nested(JSON_DEPTH)


@pytest.mark.parametrize("data, says", [
    (b"{", "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    (b"[" + b"1" * 5000 + b"]", "not JSON: Exceeds the limit (4300 digits) for integer string conversion"),
    (b'"\xff"', "not JSON: 'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"),
])
def test_load_document_says_why_the_bytes_are_not_json(data, says):
    with pytest.raises(ValueError) as raised:
        load_document(data)
    assert str(raised.value) == says


def test_a_host_listed_twice_is_refused_by_its_name_and_both_places():
    twice = document({"hv1": [], "hv2": []})
    twice["hosts"].append({"host": "hv1", "summary": {}, "checks": [check("NET-07", "failed")]})
    with pytest.raises(ValueError) as raised:
        check_document(twice)
    assert str(raised.value) == "hosts[2]: host 'hv1' is listed twice (also hosts[0]): an audit report lists each host once"


def test_values_in_refusals_are_cut_short_and_inert():
    doc = document({"hv1": [{**check("NET-07", "passed"), "id": ["\x1b[2J" * 1000] * 1000}]})
    with pytest.raises(ValueError) as raised:
        check_document(doc)
    item = r"'\x1b[2J\x1b[...x1b[2J\x1b[2J'"
    assert str(raised.value) == f"hosts[0].checks[0].id: [{', '.join([item] * 6)}, ...] is not a string"


def test_format_shows_hostile_names_and_messages_inert():
    changes = [Change("hv1\nhv2 PASSED", "VM-02", "g\x1b]0;x\x07:vnet0", "passed", "failed", "tap\x9b2J\x85gone\u2028!", True)]
    assert format_changes(changes).splitlines() == [
        "hv1\\nhv2 PASSED: 1 change, 1 worse",
        "  VM-02[g\\x1b]0;x\\x07:vnet0] passed -> failed   tap\\x9b2J gone !",
    ]
