"""`virtnat merge`: several audits' reports as one. Real audits of recorded bundles, run as users run
them, all at once and in blocks: the merge of the blocks writes every report one audit of all the
hosts writes (JSON, the HTML page, JUnit, Prometheus, the latest copies), the same but for times.
And inputs that cannot be one audit are refused with one line naming the file and the fix."""
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from selftests.unit.checkrun import DATA
from virtnat import __version__, cli
from virtnat.collectors.bundle import bundle_bytes
from virtnat.profile import Profile
from virtnat.report.merge import PART_LIMIT, MergeError, fails, merge, when
from virtnat.state import _part

ROOT = Path(__file__).resolve().parents[2]
VIRTNAT = str(Path(sys.executable).parent / "virtnat")
RECORDINGS = sorted(DATA.glob("*/*.txt"))
HOSTS = 7
BLOCKS = ((0, 2), (2, 6), (6, 7))  # uneven, as a site's slices are
STAMP = re.compile(r"\d{8}T\d{6}Z")


def audit(*args: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([VIRTNAT, "audit", *args, "--", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True,
                          env=environ, timeout=300)


def bundles(folder: Path, numbers: range) -> Path:
    """hvNNNN's bundles, each of the recordings in turn (healthy hosts, faulty ones, both generations)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in numbers:
        host = f"hv{i:04}"
        (folder / f"{host}.facts").write_bytes(bundle_bytes(host, "2026-11-28T00:00:00+00:00", RECORDINGS[i * 5 % len(RECORDINGS)].read_text()))
    return folder


def reports(folder: Path, prometheus: Path) -> dict:
    """Every report in folder, by name (its time stamp taken out), and the textfile, with what
    differs between two runs of the same checks (times) taken out."""
    found = {}
    for path in sorted(p for each in folder.iterdir() for p in (sorted(each.iterdir()) if each.is_dir() else [each])):
        text = path.read_text()
        text = re.sub(r'"(started|finished)": "[^"]*"', "", text)  # JSON
        text = re.sub(r'<p class="meta">.*?</p>', "", text)  # the page's header: version and times
        text = re.sub(r' (time|timestamp)="[^"]*"', "", text)  # JUnit
        text = re.sub(r'href="[^"]*"', lambda link: STAMP.sub("TIME", link[0]), text)  # the page's links to its hosts' pages
        found[STAMP.sub("TIME", str(path.relative_to(folder)))] = text  # a fleet's hosts' pages: STEM/host.html
    found["prometheus"] = [line for line in prometheus.read_text().splitlines()
                           if not re.match(r"virtnat_audit_(duration|timestamp)_seconds ", line)]
    return found


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """The fleet audited at once (with each form of the textfile), and in blocks: each block's
    part and its JSON report."""
    top = tmp_path_factory.mktemp("merge")
    fleet = bundles(top / "fleet", range(HOSTS))
    runs = {}
    for detail in ("", "--prometheus-detail"):
        out = top / f"whole{detail}"
        done = audit(f"--facts={fleet}", f"--report-dir={out}", f"--prometheus={out}.prom", *[detail] * bool(detail))
        runs[detail] = (done.returncode, reports(out, Path(f"{out}.prom")))
    parts, plain = [], []
    for k, (first, end) in enumerate(BLOCKS):
        block = bundles(top / f"block{k}", range(first, end))
        parts.append(top / f"part{k}.json")
        assert audit(f"--facts={block}", f"--part={parts[-1]}").returncode in (0, 1)
        plain.append(top / f"plain{k}.json")  # the block's JSON report: its part without the evidence
        document = json.loads(parts[-1].read_text())
        del document["evidence"]
        plain[-1].write_text(json.dumps(document, indent=2) + "\n")
    return runs, parts, plain


def merged(paths, out: Path, *args: str) -> tuple[int, dict]:
    code = cli.main(["merge", *map(str, paths), f"--report-dir={out}", f"--prometheus={out}.prom", *args])
    return code, reports(out, Path(f"{out}.prom"))


@pytest.mark.parametrize("detail", ["", "--prometheus-detail"])
def test_the_merge_of_blocks_writes_every_report_one_audit_of_all_their_hosts_writes(audited, tmp_path, detail, capsys):
    runs, parts, _ = audited
    code, found = merged(parts, tmp_path / "r", *[detail] * bool(detail))
    assert (code, found) == runs[detail]
    names = sorted(found)
    assert names == ["7-hosts-TIME.html", "7-hosts-TIME.json", "7-hosts-TIME.xml",
                     *(f"7-hosts-TIME/hv{i:04}.html" for i in range(HOSTS)), "latest.html", "latest.json", "prometheus"]
    assert code == 1  # faulty recordings fail, in the merge as in the audit
    assert capsys.readouterr().err == ""
    assert re.findall(r'"host": "(hv\d+)"', found["latest.json"]) == [f"hv{i:04}" for i in range(HOSTS)]


def test_plain_json_reports_merge_to_the_same_document_and_the_page_says_less(audited, tmp_path, capsys):
    """A plain JSON report has no evidence: the JSON, JUnit and the textfile are the audit's; the
    page shows its hosts' checks without their raw facts, and a line says so for each such input."""
    runs, parts, plain = audited
    code, found = merged([parts[0], plain[1], plain[2]], tmp_path / "r")
    whole = runs[""][1]
    for name in ("7-hosts-TIME.json", "7-hosts-TIME.xml", "latest.json", "prometheus"):
        assert found[name] == whole[name]
    assert found["7-hosts-TIME/hv0000.html"] == whole["7-hosts-TIME/hv0000.html"]  # the part's host
    assert found["7-hosts-TIME/hv0002.html"] != whole["7-hosts-TIME/hv0002.html"] and code == 1
    assert 'class="facts"' in whole["7-hosts-TIME/hv0002.html"] and 'class="facts"' not in found["7-hosts-TIME/hv0002.html"]
    err = capsys.readouterr().err.splitlines()
    assert err == [f"virtnat merge: {p} is a JSON report, not a --part: the page shows its hosts' checks without their raw facts "
                   "and packet path" for p in plain[1:]]


def test_a_part_is_a_json_report_diff_and_fix_read(audited, capsys):
    _, parts, plain = audited
    assert cli.main(["diff", str(plain[0]), str(parts[0])]) == 0
    assert capsys.readouterr().out == "no changes\n"
    assert cli.main(["fix", str(parts[1])]) == 0


# -- what cannot be merged --------------------------------------------------------------------------

def _doc(hosts=("hv1",), **changed) -> dict:
    document = {"tool": "virtnat", "version": __version__, "started": "2026-12-08T01:00:00+00:00",
                "finished": "2026-12-08T01:00:05+00:00", "profile": {"network": "default", "bridge": "virbr0"},
                "hosts": [{"host": h, "summary": {}, "checks": [{"id": "NET-07", "subject": None, "outcome": "failed",
                                                               "impact": "high", "message": "down"}]} for h in hosts]}
    return {**document, **changed}


def _write(path: Path, document) -> str:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def _refused(capsys, *args) -> str:
    assert cli.main(["merge", *map(str, args)]) == 4
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    return err.strip()


def test_a_host_in_two_inputs_is_a_usage_error_naming_both(tmp_path, capsys):
    a, b = _write(tmp_path / "a.json", _doc(("hv1", "hv2"))), _write(tmp_path / "b.json", _doc(("hv3", "hv2")))
    assert _refused(capsys, a, b, f"--report-dir={tmp_path / 'r'}") == \
        f"virtnat merge: host hv2 is in both {a} and {b}: give each host's audit once"
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("content, why", [
    ("{not json", "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ({"tool": "other"}, 'not a virtnat audit report (its "tool" is not "virtnat")'),
    ([1, 2], 'not a virtnat audit report (its "tool" is not "virtnat")'),
    (_doc(hosts=(), evidence=[]), 'its "evidence" is not an object'),
])
def test_a_file_that_is_no_audit_report_is_one_line_naming_it_and_the_fix(tmp_path, capsys, content, why):
    bad = _write(tmp_path / "bad.json", content)
    fix = "" if "evidence" in why else ": give the JSON report of an audit (its --audit-json or --part)"
    assert _refused(capsys, _write(tmp_path / "a.json", _doc()), bad) in (
        f"virtnat merge: {bad}: {why}{fix}", f"virtnat merge: {bad}: {why}: give the JSON report of an audit")


def test_a_missing_file_or_a_directory_is_one_line(tmp_path, capsys):
    assert _refused(capsys, tmp_path / "nope.json") == \
        f"virtnat merge: {tmp_path / 'nope.json'}: no such file: give the JSON report of an audit (its --audit-json or --part)"
    assert _refused(capsys, tmp_path) == \
        f"virtnat merge: {tmp_path}: a directory, not a regular file: give the JSON report of an audit (its --audit-json or --part)"


def test_audits_of_other_versions_or_profiles_or_that_did_not_run_are_refused(tmp_path, capsys):
    a = _write(tmp_path / "a.json", _doc())
    old = _write(tmp_path / "old.json", _doc(("hv2",), version="0.0.9"))
    assert _refused(capsys, a, old) == \
        f"virtnat merge: {a} is virtnat {__version__}'s, {old} virtnat 0.0.9's: audit every block with one version"
    other = _write(tmp_path / "site.json", _doc(("hv2",), profile={"network": "default", "bridge": "virbr7"}))
    assert _refused(capsys, a, other) == (f"virtnat merge: {a} and {other} were audited against different profiles "
                                          "(bridge: 'virbr0' and 'virbr7'): audit every block with one profile")
    broken = _write(tmp_path / "broken.json", _doc((), error="profile site.toml: network.gateway:\nbad"))
    assert _refused(capsys, a, broken) == (f"virtnat merge: {broken}: that audit did not run (profile site.toml: "
                                           "network.gateway: bad): fix it, audit those hosts again, then merge")


def test_a_report_directory_that_cannot_be_written_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    a = _write(tmp_path / "a.json", _doc())
    assert _refused(capsys, a, f"--report-dir={tmp_path / 'file'}") == \
        f"virtnat merge: --report-dir={tmp_path / 'file'}: cannot write reports there: Not a directory"


def test_no_input_is_refused_and_the_times_are_the_earliest_start_and_latest_finish():
    with pytest.raises(MergeError, match="^no input: "):
        merge([])
    early = _doc(("hv1",), started="2026-12-08T00:59:00+00:00", finished="2026-12-08T01:00:01+00:00")
    late = _doc(("hv2",), started="2026-12-08T02:00:00+01:00", finished="not a time")  # 01:00 UTC
    found = merge([("a", late), ("b", early)])
    assert (found.document["started"], found.document["finished"]) == ("2026-12-08T00:59:00+00:00", "2026-12-08T01:00:01+00:00")
    assert [h["host"] for h in found.document["hosts"]] == ["hv2", "hv1"] and found.without_evidence == ("a", "b")
    assert merge([("a", _doc(started=None, finished=None))]).document["started"] is None
    assert when("2026-12-08T01:00:00") == when("2026-12-08T02:00:00+01:00")


@pytest.mark.parametrize("threshold, fail", [("low", True), ("high", True), ("critical", False)])
def test_the_exit_status_is_the_audits(threshold, fail):
    assert fails(_doc(), threshold) is fail
    assert fails(_doc(hosts=()), "low") is False


@pytest.mark.parametrize("given, problem", [
    ({}, None), ({"report_dir": "r"}, "drop --report-dir"), ({"audit_json": "x.json"}, "drop --audit-json"),
    ({"prometheus": "v.prom"}, "drop --prometheus"), ({"keep": 3}, "drop --keep"),
])
def test_a_part_is_the_json_alone(tmp_path, given, problem):
    part = tmp_path / "p.json"
    outputs, found = _part(lambda name: {"part": str(part), **given}.get(name))
    if problem is None:
        assert found is None and outputs.json == part and outputs.evidence and outputs.html is None and outputs.junit is None
    else:
        assert found == f"--part={part}: writes no other report, `virtnat merge` does: {problem}"
    (tmp_path / "file").write_text("")
    assert _part(lambda name: {"part": str(tmp_path / "file" / "p.json")}.get(name))[1] == \
        f"--part={tmp_path / 'file' / 'p.json'}: cannot write reports there: Not a directory"


# -- the merge in-process: its reports' names, its line, its exit status -----------------------------

@pytest.fixture
def far_east():
    """This machine's local time 9 hours ahead of UTC, as a host abroad keeps it."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_the_reports_are_named_for_the_earliest_start_and_the_line_lists_them(tmp_path, capsys, far_east):
    a = _write(tmp_path / "a.json", _doc(("hv1",), started="2026-12-08T02:00:00+01:00", evidence={}))  # 01:00 UTC
    b = _write(tmp_path / "b.json", _doc(("hv2",), started="2026-12-08T01:30:00", evidence={}))  # no zone: UTC
    out = tmp_path / "r"
    assert cli.main(["merge", a, b, f"--report-dir={out}"]) == 1  # NET-07 failed, impact high
    stem = out / "2-hosts-20261208T010000Z"
    assert capsys.readouterr() == (
        f"virtnat merge: 2 hosts of 2 audits: JSON {stem}.json  HTML {stem}.html  JUnit {stem}.xml\n", "")
    assert sorted(p.name for p in out.iterdir()) == [stem.name, f"{stem.name}.html", f"{stem.name}.json", f"{stem.name}.xml",
                                                     "latest.html", "latest.json"]  # stem/: a page per host
    assert json.loads((out / "latest.json").read_text())["started"] == "2026-12-08T02:00:00+01:00"


def test_a_time_without_a_zone_is_utc_whatever_the_machines_zone(far_east):
    utc = dt.UTC
    assert when("2026-12-08T01:00:00") == dt.datetime(2026, 12, 8, 1, tzinfo=utc)
    found = when("2026-12-08T10:00:00+09:00")
    assert (found, found.tzinfo) == (dt.datetime(2026, 12, 8, 1, tzinfo=utc), utc)
    assert found.strftime("%H") == "01"  # a report's name gives the hour in UTC
    assert when("not a time") is None and when(None) is None


def test_every_report_that_cannot_be_written_is_a_line_and_exit_1(tmp_path, capsys):
    document = _doc(evidence={})
    document["hosts"][0]["checks"] = []
    a = _write(tmp_path / "a.json", document)
    out = tmp_path / "r"
    stem = out / "hv1-20261208T010000Z"
    for suffix in (".json", ".html", ".xml"):  # a directory where each report goes
        Path(f"{stem}{suffix}").mkdir(parents=True)
    assert cli.main(["merge", a, f"--report-dir={out}"]) == 1  # no check failed: the reports did
    assert capsys.readouterr() == ("virtnat merge: 1 hosts of 1 audits: no report written\n", "".join(
        f"virtnat merge: cannot write {stem}{suffix}: Is a directory\n" for suffix in (".json", ".html", ".xml")))


@pytest.mark.parametrize("impact, outcome, fail_on, code", [
    ("high", "failed", None, 1), ("high", "failed", "critical", 0), ("critical", "error", "critical", 1),
    ("high", "passed", None, 0), ("odd", "failed", "critical", 1),
])
def test_the_exit_status_of_the_merge_is_the_audits(tmp_path, capsys, impact, outcome, fail_on, code):
    document = _doc(("hv1", "hv2"), evidence={})  # a part: its evidence is said nothing of
    document["hosts"][1]["checks"][0].update(impact=impact, outcome=outcome)
    document["hosts"][0]["checks"][0].update(outcome="passed")
    given = [f"--fail-on={fail_on}"] * bool(fail_on)
    assert cli.main(["merge", _write(tmp_path / "a.json", document), f"--report-dir={tmp_path / 'r'}", *given]) == code
    assert capsys.readouterr().err == ""


def test_an_input_larger_than_the_limit_is_refused_unread(tmp_path, capsys):
    big = tmp_path / "big.json"
    with open(big, "wb") as file:
        file.truncate(PART_LIMIT + 1)  # sparse: nothing is written, nothing read
    assert _refused(capsys, big) == (f"virtnat merge: {big}: larger than 2048 MiB, the limit of an input of virtnat merge: "
                                     "give the JSON report of an audit (its --audit-json or --part)")


@pytest.mark.parametrize("ours, theirs, difference", [
    ({"bridge": "virbr0", "network": "default"}, {"bridge": "virbr0", "network": "nat"}, "network: 'default' and 'nat'"),
    ({"network": {"name": "default", "bridge": "virbr0"}}, {"network": {"name": "default", "bridge": "virbr7"}},
     "network.bridge: 'virbr0' and 'virbr7'"),
    ({"network": "default"}, {"network": "default", "zone": "libvirt"}, "zone: None and 'libvirt'"),
    ({"network": "default"}, None, "profile: {'network': 'default'} and None"),
    ({"network": "a" * 100}, {"network": "b" * 100}, f"network: '{'a' * 59} and '{'b' * 59}"),  # 60 characters of each
])
def test_the_profiles_first_difference_is_named_by_its_path(ours, theirs, difference):
    with pytest.raises(MergeError) as refused:
        merge([("a.json", _doc(("hv1",), profile=ours)), ("b.json", _doc(("hv2",), profile=theirs))])
    assert str(refused.value) == f"a.json and b.json were audited against different profiles ({difference}): " \
                                 "audit every block with one profile"


def test_the_times_are_compared_as_times_and_the_first_of_equal_ones_is_kept():
    def times(*stamps):
        found = merge([(f"{n}.json", _doc((f"hv{n}",), started=s, finished=f)) for n, (s, f) in enumerate(stamps)]).document
        return found["started"], found["finished"]

    # 00:45-01:00 is 01:45 UTC, after 01:30; 02:00+01:00 is 01:00 UTC, before 01:30
    assert times(("2026-12-08T00:45:00-01:00", "2026-12-08T02:00:00+01:00"), ("2026-12-08T01:30:00+00:00", "2026-12-08T01:30:00+00:00")) \
        == ("2026-12-08T01:30:00+00:00", "2026-12-08T01:30:00+00:00")
    assert times(("2026-12-08T02:00:00+01:00", "2026-12-08T03:00:00+01:00"), ("2026-12-08T01:00:00+00:00", "2026-12-08T02:00:00+00:00")) \
        == ("2026-12-08T02:00:00+01:00", "2026-12-08T03:00:00+01:00")  # the same times: the first input's, as written


def test_the_merged_document_keeps_the_audits_version_and_every_left_out_line():
    a = _doc(("hv1",), version="0.0.9", not_audited=["notes.txt: not a bundle", 7], evidence={"hv1": {"links": {}}, "hv9": {}})
    b = _doc(("hv2",), version="0.0.9", evidence={"hv2": "not an object"})
    c = _doc(("hv3",), version="0.0.9", not_audited=["old.facts: empty"])
    found = merge([("a.json", a), ("b.json", b), ("c.json", c)])
    assert found.document["version"] == "0.0.9"  # the audits' version made the verdicts, not this one
    assert found.document["not_audited"] == ["notes.txt: not a bundle", "old.facts: empty"]
    assert found.evidence == {"profile_defaults": Profile().as_dict(), "hosts": {"hv1": {"links": {}}}}
    with pytest.raises(MergeError) as refused:
        merge([])
    assert str(refused.value) == "no input: give the JSON reports of the audits to merge"
