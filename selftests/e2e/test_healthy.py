"""Done-when 1: on the healthy lab host every check passes, the guest's VM checks included."""
import json

from selftests.unit.html_tree import parse

from .labhost import CHECK_COUNT, PEER, RESULT_COUNT

ALL_IDS = ({f"HOST-{i:02d}" for i in range(1, 13)} | {f"NET-{i:02d}" for i in range(1, 18)}
           | {f"PATH-0{i}" for i in range(1, 6)} | {f"VM-0{i}" for i in range(1, 5)})


def test_every_check_passes_on_the_healthy_host(lab):
    run = lab.audit()
    assert run.rc == 0, run.stdout
    host = run.doc["hosts"][0]
    assert {c["id"] for c in host["checks"]} == ALL_IDS and len(ALL_IDS) == CHECK_COUNT == 38
    assert host["summary"] == {"passed": RESULT_COUNT, "failed": 0, "skipped": 0, "error": 0, "waived": 0}
    vm = [c for c in host["checks"] if c["id"].startswith("VM-")]
    peer_tap = lab.sh(f"virsh -r domiflist {PEER} | awk '/vnet/{{print $1}}'").strip()
    assert {c["subject"] for c in vm} == {f"virtnat-guest:{lab.tap()}", f"{PEER}:{peer_tap}"}


def test_reports_are_written_in_all_three_formats(lab):
    run = lab.audit()
    names = sorted(p.name for p in run.report_dir.iterdir())
    assert any(n.endswith(".html") and n != "latest.html" for n in names), names
    assert any(n.endswith(".xml") for n in names), names
    assert "latest.html" in names
    page = parse(next(p for p in run.report_dir.glob("*.html") if p.name != "latest.html").read_text())
    [section] = page.all("section", class_="host")
    assert {a["data-id"] for a in section.iter("article", class_=True)} == ALL_IDS
    # each PATH verdict's walk, folded with the check; the raw facts folded once per host
    walks = {a["data-id"]: a.one("details", class_="evidence").text() for a in section.iter("article", class_=True)
             if a.all("details", class_="evidence")}
    assert sorted(walks) == ["PATH-01", "PATH-02", "PATH-03", "PATH-04", "PATH-05"], "a walk per PATH check"
    assert "DHCP request (udp 67)" in walks["PATH-01"] and "table inet firewalld chain filter_INPUT" in walks["PATH-01"]
    assert "virbr0" in section.one("details", class_="facts").text()
    doc = run.doc
    assert set(doc) >= {"tool", "version", "started", "finished", "profile", "hosts"}
    check = doc["hosts"][0]["checks"][0]
    assert set(check) == {"id", "title", "impact", "subject", "outcome", "message", "remediation"}
    json.dumps(doc)


def test_json_is_named_for_host_and_time_and_refreshes_latest(lab):
    run = lab.audit(json_path=False)
    stamped = [p for p in run.report_dir.glob("*.json") if p.name != "latest.json"]
    assert len(stamped) == 1 and stamped[0].name.endswith("Z.json"), stamped
    assert stamped[0].read_text() == (run.report_dir / "latest.json").read_text()
    assert run.doc["hosts"][0]["host"] in stamped[0].name


def test_audit_json_option_writes_there_instead(lab):
    run = lab.audit()
    assert run.doc is not None
    assert not (run.report_dir / "latest.json").exists()
    assert not [p for p in run.report_dir.glob("*.json") if p.name != "audit.json"]
