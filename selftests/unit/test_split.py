"""`virtnat audit` of bundles split into child audits whose parts are merged: when it splits, how,
and real split audits, run as a user runs them, that report exactly what one process reports, even
when a child fails or the audit is interrupted."""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from selftests.unit.test_merge import bundles as fleet_of
from virtnat import split
from virtnat.cli import build_parser
from virtnat.split import FACTS_CHARS, SPLIT_FROM, across, blocks, plan_split

ROOT = Path(__file__).resolve().parents[2]
VIRTNAT = str(Path(sys.executable).parent / "virtnat")


def bundles(folder: Path, n: int) -> Path:
    return fleet_of(folder, range(n))


def args(*words: str) -> argparse.Namespace:
    return build_parser().parse_args(["audit", *words])


# -- when and how -----------------------------------------------------------------------------------

@pytest.mark.parametrize("words, found", [
    ([], None), (["-q", "-v", "-rA", "-k", "x", "-m", "not slow"], None), (["-n", "2"], "-n"), (["-n2"], "-n"),
    (["--numprocesses=2"], "-n"), (["-x"], "-x"), (["-qx"], "-x"), (["--exitfirst"], "-x"), (["--maxfail=2"], "--maxfail"),
    (["--pdb"], "--pdb"), (["--sw"], "--stepwise"), (["--stepwise"], "--stepwise"), (["--setup-only"], "--setup-only"),
    (["--setup-plan"], "--setup-plan"), (["--co"], "--collect-only"), (["--collect-only"], "--collect-only"),
    (["--html=r.html"], "pytest's --html"), (["--junitxml", "j.xml"], "pytest's --junitxml"),
    (["-kxn"], None), (["-p", "no:x"], None), (["-pno:x"], None), (["--", "-x"], None),
])
def test_what_pytest_does_across_checks_or_reports_no_merge_makes_keeps_one_process(words, found):
    assert across(words) == found


@pytest.mark.parametrize("n, count, sizes", [(10, 3, [4, 3, 3]), (9, 3, [3, 3, 3]), (2, 2, [1, 1]), (5, 1, [5])])
def test_blocks_are_contiguous_in_order_and_even(n, count, sizes):
    parts = blocks(list(range(n)), count)
    assert [len(p) for p in parts] == sizes
    assert sum(parts, []) == list(range(n))


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(split, "cores", lambda: 2)


@pytest.mark.parametrize("hosts, asked, count", [
    (SPLIT_FROM, None, 2), (SPLIT_FROM - 1, None, 1), (3, 3, 3), (2, 5, 2), (SPLIT_FROM, 1, 1),
])
def test_an_audit_of_enough_bundles_is_split_one_audit_per_core_or_as_asked(tmp_path, two_cores, hosts, asked, count):
    folder = bundles(tmp_path / "fleet", hosts)
    found, problem = plan_split(args(f"--facts={folder}", f"--report-dir={tmp_path / 'r'}", *([f"--shards={asked}"] if asked else [])))
    assert problem is None
    assert (len(found.blocks) if found else 1) == count
    if found:
        assert found.at_once == count and sum(found.blocks, ()) == tuple(str(p) for p in sorted(folder.iterdir()))
        assert found.outputs.html.parent == tmp_path / "r" and found.outputs.html.name.startswith(f"{hosts}-hosts-")


def test_a_fleet_whose_paths_are_too_long_for_one_command_line_is_cut_in_more_blocks(tmp_path, two_cores):
    folder = bundles(tmp_path / ("d" * 200) / ("e" * 200), 500)  # 500 paths of more than 400 characters: over 200 KB
    found, _ = plan_split(args(f"--facts={folder}", f"--report-dir={tmp_path / 'r'}"))
    assert found.at_once == 2 and len(found.blocks) >= 3
    assert all(len(",".join(block)) < FACTS_CHARS for block in found.blocks)


def test_a_child_audits_at_most_block_hosts_bundles(tmp_path, two_cores, monkeypatch):
    monkeypatch.setattr(split, "BLOCK_HOSTS", 3)
    folder = bundles(tmp_path / "fleet", 7)
    found, _ = plan_split(args(f"--facts={folder}", "--shards=2"))
    assert [len(block) for block in found.blocks] == [3, 2, 2] and found.at_once == 2


@pytest.mark.parametrize("extra, problem", [
    (["--", "-x"], "--shards=2: not with -x"), (["-n", "2"], "--shards=2: not with -n"),
    (["--hosts=local://"], "--shards=2: only an audit of bundles (--facts) is split"),
])
def test_a_split_asked_for_where_there_can_be_none_is_a_usage_error(tmp_path, extra, problem):
    folder = bundles(tmp_path / "fleet", 3)
    assert plan_split(args(f"--facts={folder}", "--shards=2", *extra)) == (None, problem)
    assert plan_split(args(f"--facts={folder}", *extra)) == (None, None)  # not asked: one process


def test_the_command_says_a_split_that_cannot_be_in_one_line(tmp_path, capsys):
    from virtnat.cli import main
    folder = bundles(tmp_path / "fleet", 3)
    assert main(["audit", f"--facts={folder}", "--shards=2", "--", "--pdb"]) == 4
    assert capsys.readouterr().err == "virtnat audit: --shards=2: not with --pdb\n"


@pytest.mark.parametrize("extra", [["--profile=/nonexistent.toml"], ["--report-dir=/proc/x"], ["--waivers=/nonexistent"]])
def test_options_one_audit_refuses_are_left_to_it(tmp_path, extra):
    folder = bundles(tmp_path / "fleet", 3)
    assert plan_split(args(f"--facts={folder}", "--shards=2", *extra)) == (None, None)


def test_a_child_audits_its_block_into_a_part_with_the_audits_own_options(tmp_path):
    given = args("--facts=x", f"--report-dir={tmp_path}", "--audit-json=a.json", "--prometheus=p", "--keep=3", "--fail-on=high",
                 "--profile=site.toml", "--checks=site", "--shards=2", "--", "-k", "NET")
    command = split._child(given, ("a/hv1.facts", "a/hv2.facts"), tmp_path / "0.json", None)
    assert command[:4] == [sys.executable, "-B", "-m", "virtnat.split"]
    words = command[4:]
    assert "--facts=a/hv1.facts,a/hv2.facts" in words and f"--part={tmp_path / '0.json'}" in words
    assert "--profile=site.toml" in words and "--fail-on=high" in words and words[-3:] == ["site", "-k", "NET"]
    assert not [w for w in words if w.startswith(("--report-dir", "--audit-json", "--prometheus", "--keep", "--shards"))]


# -- split audits, as users run them ---------------------------------------------------------------

class Audit:
    """One `virtnat audit --facts=FOLDER` run and what it wrote, the parts that vary from run to
    run (times, the file names' time stamp) taken out."""

    def __init__(self, folder: Path, out: Path, *args: str, env: dict | None = None):
        out.mkdir()
        command = [VIRTNAT, "audit", f"--facts={folder}", f"--report-dir={out}", f"--prometheus={out / 'virtnat.prom'}", *args,
                   f"--stats-json={out.parent / 'stats.json'}"]
        environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environ, timeout=300)
        self.code, self.out, self.err = done.returncode, done.stdout, done.stderr
        self.dir = out

    def report(self, suffix: str) -> str:
        [path] = [p for p in self.dir.iterdir() if p.suffix == suffix and not p.name.startswith("latest")]
        return path.read_text()

    def results(self) -> dict:
        """Every report, as each would be the same for the same results, and the summary's lines."""
        document = json.loads(self.report(".json"))
        del document["started"], document["finished"]
        page = re.sub(r"\d{8}T\d{6}Z", "TIME", re.sub(r'<p class="meta">.*?</p>', "", self.report(".html")))  # the hosts' pages' folder
        junit = re.sub(r' (time|timestamp)="[^"]*"', "", self.report(".xml"))
        metrics = [line for line in (self.dir / "virtnat.prom").read_text().splitlines()
                   if not re.match(r"virtnat_audit_(duration|timestamp)_seconds ", line)]
        lines = self.out.splitlines()
        summary = lines[next(i for i, line in enumerate(lines) if "virtnat: hv0000" in line):]  # pytest's count line aside
        return {"json": document, "html": page, "junit": junit, "prometheus": metrics, "code": self.code,
                "summary": [re.sub(r"-\d{8}T\d{6}Z", "", line.strip("- ").replace(str(self.dir), "OUT"))
                            for line in summary if not line.startswith("=")],
                "stats": {host: s["collections"] for host, s in self.stats()["hosts"].items()}}

    def stats(self) -> dict:
        return json.loads((self.dir.parent / "stats.json").read_text())


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    folder = bundles(tmp_path_factory.mktemp("fleet"), 6)
    (folder / "notes").mkdir()  # an entry that is not audited: said once, by the audit
    return folder


@pytest.fixture(scope="module")
def unsplit(fleet, tmp_path_factory):
    out = tmp_path_factory.mktemp("unsplit")
    run = Audit(fleet, out / "r", "--shards=1")
    assert run.stats()["check_processes"] == 1 and "audits" not in run.out
    return run.results()


def test_a_split_audit_reports_exactly_what_one_process_reports(fleet, unsplit, tmp_path):
    run = Audit(fleet, tmp_path / "r", "--shards=3")
    assert run.out.startswith("virtnat: 6 hosts in 3 audits, 3 at a time\n")
    assert run.results() == unsplit
    assert run.stats()["check_processes"] == 3
    assert unsplit["code"] == 1 and "--facts: " in json.dumps(unsplit["json"]["not_audited"])  # faulty recordings fail
    assert set(unsplit["stats"]) == {f"hv{n:04}" for n in range(6)}
    assert [p.name for p in (tmp_path / "r").iterdir() if p.name.startswith(".")] == []  # the parts are gone


def test_a_split_audit_with_a_part_writes_the_part_one_audit_writes(fleet, unsplit, tmp_path):
    done = subprocess.run([VIRTNAT, "audit", f"--facts={fleet}", f"--part={tmp_path / 'part.json'}", "--shards=2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    part = json.loads((tmp_path / "part.json").read_text())
    evidence = part.pop("evidence")
    del part["started"], part["finished"]
    assert part == unsplit["json"] and sorted(evidence) == [f"hv{n:04}" for n in range(6)]
    assert all(set(host) >= {"pieces", "facts", "checks"} for host in evidence.values())


FAULT = """
import os, signal
def pytest_configure(config):
    if config.getoption("part", None) and "hv0004" in (config.getoption("facts") or ""):
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_child_that_dies_leaves_the_audit_to_this_process(fleet, unsplit, tmp_path):
    (tmp_path / "dying.py").write_text(FAULT)
    run = Audit(fleet, tmp_path / "r", "--shards=2", "--", "-p", "dying", env={"PYTHONPATH": f"{ROOT}:{tmp_path}"})
    assert "virtnat: a split audit's process failed (killed by signal 9); the audit runs in this process" in run.err
    assert run.results() == unsplit
    assert run.stats()["check_processes"] == 1


def test_pytests_own_usage_errors_are_said_by_the_audit_in_one_process(fleet, tmp_path):
    run = Audit(fleet, tmp_path / "r", "--shards=2", "--", "--no-such-option")
    assert run.code == 4 and "unrecognized arguments: --no-such-option" in run.err
    assert "runs in this process" in run.err  # said once, by the audit in this process too


def test_an_interrupted_split_audit_leaves_no_process_behind(fleet, tmp_path):
    (tmp_path / "slow.py").write_text("import time\ndef pytest_configure(config):\n    time.sleep(60)\n")
    out = tmp_path / "r"
    audit = subprocess.Popen([VIRTNAT, "audit", f"--facts={fleet}", f"--report-dir={out}", "--shards=2", "--", "-p", "slow"],
                             env={**os.environ, "PYTHONPATH": f"{ROOT}:{tmp_path}"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    children = []
    for _ in range(600):
        children = [int(p) for p in Path(f"/proc/{audit.pid}/task/{audit.pid}/children").read_text().split()]
        if len(children) == 2:
            break
        time.sleep(0.05)
    assert len(children) == 2
    audit.send_signal(signal.SIGINT)
    _, err = audit.communicate(timeout=60)
    assert audit.returncode == 130 and b"virtnat: interrupted" in err
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # killed and reaped: not even a zombie
