"""The JUnit XML report, made from the audit document: a testsuite per host, a testcase per
check with its properties, and the outcome elements CI systems read."""
import xml.etree.ElementTree as ET

from virtnat.report.junit import junit_xml


def check(id_, outcome, subject=None, message="", remediation="virsh net-start default", **extra):
    return {"id": id_, "title": f"title of {id_}", "impact": "high", "subject": subject, "outcome": outcome,
            "message": message, "remediation": remediation, **extra}


DOCUMENT = {"tool": "virtnat", "started": "2026-11-28T10:00:00+00:00", "hosts": [
    {"host": "hv1", "checks": [check("NET-02", "failed", message="network default is inactive"),
                               check("VM-02", "passed", subject="<vm>:vnet0", message="a note"),
                               check("NET-09", "skipped", message="no bridge"),
                               check("HOST-03", "waived", message="firewalld disabled", waiver={"reason": "CHG-1", "expires": "2026-12-31"})]},
    {"host": "hv2", "checks": [check("HOST-01", "error", message="hv2: connection refused", remediation="")]}]}


def parse(document):
    return ET.fromstring(junit_xml(document).split("\n", 1)[1])


def test_a_suite_per_host_with_its_counts_and_the_totals():
    root = parse(DOCUMENT)
    assert root.tag == "testsuites" and root.get("name") == "virtnat"
    assert [(s.get("name"), s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped"), s.get("timestamp"))
            for s in root.iter("testsuite")] == [("hv1", "4", "1", "0", "2", "2026-11-28T10:00:00+00:00"),
                                                 ("hv2", "1", "0", "1", "0", "2026-11-28T10:00:00+00:00")]
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "5", "failures": "1", "errors": "1", "skipped": "2"}


def test_each_case_is_named_for_its_check_and_subject_and_holds_its_properties_once():
    cases = list(parse(DOCUMENT).iter("testcase"))
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("virtnat.hv1", "NET-02"), ("virtnat.hv1", "VM-02[<vm>:vnet0]"), ("virtnat.hv1", "NET-09"),
        ("virtnat.hv1", "HOST-03"), ("virtnat.hv2", "HOST-01")]
    props = {p.get("name"): p.get("value") for p in cases[0].iter("property")}
    assert props == {"id": "NET-02", "title": "title of NET-02", "impact": "high", "remediation": "virsh net-start default"}
    assert [p.get("name") for p in cases[4].iter("property")] == ["id", "title", "impact", "remediation"]
    assert {p.get("name"): p.get("value") for p in cases[3].iter("property")}["waiver"] == "CHG-1 (until 2026-12-31)"


def test_the_outcome_elements():
    failed, passed, skipped, waived, error = parse(DOCUMENT).iter("testcase")
    failure = failed.find("failure")
    assert failure.get("message") == "network default is inactive"
    assert failure.text == "network default is inactive\nfix: virsh net-start default"
    assert [child.tag for child in passed] == ["properties"]
    assert skipped.find("skipped").get("message") == "no bridge"
    assert (waived.find("skipped").get("type"), waived.find("skipped").get("message")) == ("waived", "waived: CHG-1")
    assert waived.find("skipped").text == "firewalld disabled"
    assert error.find("error").get("message") == error.find("error").text == "hv2: connection refused"


def test_a_failure_without_a_fix_says_only_its_message():
    root = parse({"hosts": [{"host": "hv1", "checks": [check("NET-02", "failed", message="m", remediation="")]}]})
    assert root.find(".//failure").text == "m"


def test_an_audit_that_did_not_run_is_one_error():
    root = parse({"tool": "virtnat", "error": "profile x.toml: not valid TOML", "hosts": []})
    [case] = root.iter("testcase")
    assert (case.get("name"), case.find("error").get("message")) == ("audit", "profile x.toml: not valid TOML")
    assert (root.get("tests"), root.get("errors")) == ("1", "1")


def test_the_text_is_an_xml_document_with_its_declaration():
    text = junit_xml({"hosts": []})
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<testsuites') and text.endswith("\n")


def test_a_document_without_times_or_messages_still_gives_every_attribute():
    root = parse({"hosts": [{"host": "hv1", "checks": [check("NET-02", "failed", message=None), check("HOST-01", "error")]}]})
    assert root.find("testsuite").get("timestamp") == ""
    assert [(e.tag, e.get("message")) for e in root.iter() if e.tag in ("failure", "error")] == [("failure", ""), ("error", "")]


def test_a_run_error_beside_hosts_adds_one_errored_case_to_the_totals():
    root = parse({"error": "profile site.toml: no such file", "hosts": [{"host": "hv1", "checks": [check("NET-02", "error"), check("NET-03", "passed")]}]})
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {"tests": "3", "failures": "0", "errors": "2", "skipped": "0"}


def test_a_message_with_controls_is_inert_in_the_terminal_and_junit(tmp_path):
    """A check's message and fix carry a host's text (a section's error, a guest's name)."""
    import xml.etree.ElementTree as ET

    from virtnat.report.junit import junit_xml
    from virtnat.report.terminal import write_summary
    from virtnat.report.results import CheckResult
    from virtnat.report.finish import Written

    hostile = "tap\x1b[2J\nVM-01 PASSED  fine\x07"
    result = CheckResult(host="hv\n1", id="VM-01", title="t", impact="high", subject=f"{hostile}:vnet0", outcome="failed",
                         message=f"tap {hostile} is gone", remediation=f"ip link set dev '{hostile}' up", waiver=None)
    lines = []

    class Terminal:
        def write_line(self, line, **_):
            lines.append(line)

        def write_sep(self, sep, title):
            lines.append(f"{sep * 3} {title}")

    write_summary(Terminal(), f"section error \x1b[31m{hostile}", {"hv\n1": [result]}, Written())
    assert all("\x1b" not in line and "\n" not in line and "\x07" not in line for line in lines)
    assert lines[0] == "ERROR: section error \\x1b[31mtap\\x1b[2J\\nVM-01 PASSED  fine\\x07"
    document = {"tool": "virtnat", "started": "s", "error": hostile,
                "hosts": [{"host": "hv\n1", "checks": [dict(vars(result), waiver=None)]}]}
    root = ET.fromstring(junit_xml(document).encode())
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("message") == "tap tap\\x1b[2J\\nVM-01 PASSED  fine\\x07 is gone"
    assert failure.text.split("\n") == [failure.get("message"), "fix: ip link set dev 'tap\\x1b[2J\\nVM-01 PASSED  fine\\x07' up"]
