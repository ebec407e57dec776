"""The HTML page, the picture and the JUnit XML compared byte for byte with reviewed copies in
selftests/data/report/ (the page is the product people read: any change to it shows up here, for
review). After an intended change, write the new copies with

    VIRTNAT_GOLDEN=write .venv/bin/python -m pytest selftests/unit/test_report_golden.py

and read their diff before committing them."""
import os
from pathlib import Path

import pytest

from selftests.unit import report_docs as docs
from virtnat.report.junit import junit_xml
from virtnat.report.page import render_html
from virtnat.report.picture import host_picture

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "report"
WRITE = os.environ.get("VIRTNAT_GOLDEN") == "write"


def odd_document() -> tuple[dict, dict]:
    """What the page must survive: unknown ids and outcomes, missing fields, a summary without
    checks, an all-error host with two causes, evidence that is partly missing or of the wrong
    type, long guest lists, a long run, a profile whose values differ in type."""
    many = tuple((f"guest-with-a-rather-long-name-{n}", f"vnet{n}") for n in range(6))
    busy = docs.host("hv-busy", {
        "HOST-05": {"outcome": "failed", "message": "net.ipv4.ip_forward is '0', expected '1'", "impact": "critical"},
        "HOST-06": {"outcome": "failed", "message": "not persisted", "impact": "high", "remediation": ""},
        "NET-13": {"outcome": "error", "message": "dnsmasq facts could not be read"},
        "VM-01[guest-with-a-rather-long-name-2:vnet2]": {"outcome": "skipped", "message": "shut off"},
        "PATH-02": {"outcome": "waived", "message": "DNS dropped", "waiver": {"reason": "CHG-9", "expires": "2027-01-01"}},
        "PATH-04": {"outcome": "waived", "message": "no waiver said"},
    }, many)
    busy["checks"] += [
        {"id": "HOST-10", "title": "libvirtd is enabled at boot", "impact": "high", "subject": None, "outcome": "failed",
         "message": "libvirtd.service is 'disabled'", "remediation": "systemctl enable libvirtd"},
        {"id": "ZZ-1", "title": None, "impact": "<Unheard Of>", "subject": None, "outcome": "mystery", "message": None,
         "remediation": None},
        {"id": "ZZ-2", "title": "t", "impact": "!!", "subject": None, "outcome": "failed", "message": "m", "remediation": "r"},
        {"id": "NET-17", "outcome": "passed"},
    ]
    summary_only = {"host": "hv-summary", "summary": {"passed": 30, "failed": 2, "error": 1}}
    two_causes = docs.unreachable("hv-mixed")
    two_causes["checks"][0]["message"] = "libvirt: permission denied"
    skipped_only = docs.host("hv-skips", {c: {"outcome": "skipped", "message": "n/a"} for c in docs.IDS}, guests=())
    empty = {"host": "hv-empty", "checks": []}
    document = docs.document(busy, summary_only, two_causes, skipped_only, empty,
                             profile={**docs.PROFILE_DEFAULTS, "require_firewalld": False, "network": 7,
                                      "waivers": [{"check": "PATH-02", "reason": "CHG-9"}], "extra": {"a": [1, "café"]}})
    document["finished"] = "2026-11-28T10:02:00+00:00"  # 120 s: said in minutes
    evidence = {"profile_defaults": docs.PROFILE_DEFAULTS, "hosts": {
        "hv-busy": {**docs.host_evidence(many, forwarding=None, uplink=["not", "a", "line"]),
                    "facts": {"links": [{"ifname": "vnet0", "alias": "gäst"}], "system": "not collected: café"},
                    "checks": {"HOST-05": {"text": "runtime: net.ipv4.ip_forward=0", "facts": ["system", "unknown-kind"]},
                               "NET-13": "not a dict", "PATH-02": {"text": None, "facts": "system"}}},
        "hv-mixed": "not a dict",
        "hv-skips": {"pieces": {"guests": "not a list"}, "facts": ["not", "a", "dict"], "checks": []},
    }}
    return document, evidence


SCENARIOS = {
    "one-host": docs.one_host_with_failures,
    "unreachable": docs.unreachable_beside_healthy,
    "not-run": lambda: (docs.document(error="profile site.toml: network.gateway: 'x' is not an IPv4 address"), {}),
    "fleet": lambda: docs.fleet(12),
    "no-evidence": lambda: (docs.one_host_with_failures()[0], {}),
    "odd": odd_document,
    "bare": lambda: ({}, {}),
}


def same_as_golden(name: str, produced: str) -> None:
    path = GOLDEN / name
    if WRITE:
        path.write_text(produced, encoding="utf-8")
    assert path.exists(), f"{path} is missing: write it with VIRTNAT_GOLDEN=write (see this file's docstring)"
    expected = path.read_text(encoding="utf-8")
    if produced != expected:  # the first line that differs, not a 60 KB diff
        for n, (a, b) in enumerate(zip(produced.splitlines(), expected.splitlines()), start=1):
            if a != b:
                pytest.fail(f"{name} line {n} differs:\n  now:    {a[:300]}\n  golden: {b[:300]}", pytrace=False)
        pytest.fail(f"{name}: {len(produced)} characters now, {len(expected)} in the golden copy", pytrace=False)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_page_is_the_reviewed_one(scenario):
    same_as_golden(f"{scenario}.html", render_html(*SCENARIOS[scenario]()))


@pytest.mark.parametrize("scenario", ["one-host", "odd"])
def test_the_pictures_are_the_reviewed_ones(scenario):
    document, evidence = SCENARIOS[scenario]()
    hosts = evidence.get("hosts") or {}
    svg = "\n".join(host_picture(h.get("host", "?"), [c for c in h.get("checks") or [] if isinstance(c, dict)],
                                 (hosts.get(h.get("host")) or {}).get("pieces") or {} if isinstance(hosts.get(h.get("host")), dict) else {},
                                 f"h{n}")
                    for n, h in enumerate(document["hosts"]))
    same_as_golden(f"{scenario}-pictures.svg", svg)


@pytest.mark.parametrize("scenario", ["one-host", "unreachable", "not-run", "odd"])
def test_the_junit_is_the_reviewed_one(scenario):
    same_as_golden(f"{scenario}.xml", junit_xml(SCENARIOS[scenario]()[0]))
