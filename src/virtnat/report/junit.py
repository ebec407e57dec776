"""The audit document as JUnit XML, for CI systems: one testsuite per host, one testcase per
check, its id, title, impact and remediation as properties."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from .inert import inert
from .verdict import check_name

PROPERTIES = ("id", "title", "impact", "remediation")


def _text(value) -> str:
    """A value as XML takes it whatever a host said: its controls shown as escapes (XML 1.0
    has no way to hold most of them, and one makes the whole file not well-formed)."""
    return inert(str(value))


def _outcome(case: ET.Element, check: dict) -> None:
    """A failed check is a failure, one that could not be carried out an error, a check that
    does not apply or is waived is skipped (JUnit has no waived); a pass has no element."""
    outcome, message = check.get("outcome"), _text(check.get("message") or "")
    if outcome == "failed":
        fix = check.get("remediation")
        ET.SubElement(case, "failure", message=message).text = message + (f"\nfix: {_text(fix)}" if fix else "")
    elif outcome == "error":
        ET.SubElement(case, "error", message=message).text = message
    elif outcome == "skipped":
        ET.SubElement(case, "skipped", message=message)
    elif outcome == "waived":
        waiver = check.get("waiver") or {}
        ET.SubElement(case, "skipped", type="waived", message=f"waived: {_text(waiver.get('reason', ''))}").text = message


def junit_xml(document: dict) -> str:
    suites = ET.Element("testsuites", name="virtnat")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for host in document.get("hosts") or []:
        checks = host.get("checks") or []
        counts = {"tests": len(checks),
                  "failures": sum(c.get("outcome") == "failed" for c in checks),
                  "errors": sum(c.get("outcome") == "error" for c in checks),
                  "skipped": sum(c.get("outcome") in ("skipped", "waived") for c in checks)}
        suite = ET.SubElement(suites, "testsuite", name=_text(host.get("host")), timestamp=_text(document.get("started", "")),
                              **{k: str(v) for k, v in counts.items()})
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=_text(f"virtnat.{host.get('host')}"), name=_text(check_name(check)))
            properties = ET.SubElement(case, "properties")
            for key in PROPERTIES:
                ET.SubElement(properties, "property", name=key, value=_text(check.get(key) or ""))
            if check.get("outcome") == "waived":
                waiver = check.get("waiver") or {}
                ET.SubElement(properties, "property", name="waiver",
                              value=_text(f"{waiver.get('reason', '')} (until {waiver.get('expires', '?')})"))
            _outcome(case, check)
        for key in totals:
            totals[key] += counts[key]
    if document.get("error"):
        totals["tests"] += 1
        totals["errors"] += 1
        suite = ET.SubElement(suites, "testsuite", name="virtnat", tests="1", errors="1", failures="0", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="virtnat", name="audit")
        ET.SubElement(case, "error", message=_text(document["error"])).text = _text(document["error"])
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
