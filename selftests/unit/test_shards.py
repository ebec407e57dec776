"""An audit of bundles split among processes: the plan (how many, which hosts, when not), and real
split audits, run as a user runs them, that report exactly what one process reports, even when
a forked process dies or fails."""
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from selftests.unit.checkrun import DATA
from virtnat import shards, state
from virtnat.collectors.bundle import bundle_bytes
from virtnat.collectors.bundle_pool import POOL_FROM
from virtnat.profile import Profile
from virtnat.shards import SHARD_FROM, blocks, every_phase, items_by_block, run_split, shard_count, why_not
from virtnat.state import CHECKS_DIR, _split
from virtnat.targets import BundleTarget

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = sorted(DATA.glob("*/*.txt"))
VIRTNAT = str(Path(sys.executable).parent / "virtnat")


# -- the plan --------------------------------------------------------------------------------------

@pytest.mark.parametrize("hosts, cores, asked, count", [
    (SHARD_FROM - 1, 2, None, 1), (SHARD_FROM, 2, None, 2), (1000, 8, None, 8), (SHARD_FROM, 64, None, SHARD_FROM),
    (5, 2, 3, 3), (2, 2, 5, 2), (1000, 2, 1, 1), (SHARD_FROM, 1, None, 1),
])
def test_one_process_per_core_from_enough_hosts_or_as_asked(hosts, cores, asked, count):
    assert shard_count(hosts, cores, asked) == count


@pytest.mark.parametrize("n, count, sizes", [(10, 3, [4, 3, 3]), (9, 3, [3, 3, 3]), (2, 2, [1, 1]), (5, 1, [5])])
def test_blocks_are_contiguous_in_order_and_even(n, count, sizes):
    parts = blocks(list(range(n)), count)
    assert [len(p) for p in parts] == sizes
    assert sum(parts, []) == list(range(n))


def _item(target):
    return SimpleNamespace(callspec=SimpleNamespace(params={"target": target}))


def test_each_item_goes_with_its_host_and_one_without_a_host_to_the_first_block():
    hv = [SimpleNamespace(name=f"hv{n}") for n in range(4)]
    items = [_item(hv[3]), _item(hv[0]), SimpleNamespace(name="no callspec"), _item(hv[2]), _item(hv[1]), _item(None)]
    found = items_by_block(items, [hv[:2], hv[2:]])
    assert found == [[items[1], items[2], items[4], items[5]], [items[0], items[3]]]


def _config(**option):
    return SimpleNamespace(option=SimpleNamespace(**option), getoption=lambda name: option.get(name))


@pytest.fixture
def one_thread(monkeypatch):
    """As in `virtnat audit`: no thread but the main one (the selftests' xdist worker has more)."""
    monkeypatch.setattr(shards.threading, "active_count", lambda: 1)


def bundles(folder: Path, n: int, first: int = 0) -> Path:
    """n bundles, hv0000..., cycling through the recordings (both generations, healthy and
    faulty) from the first'th."""
    folder.mkdir(exist_ok=True)
    for i in range(n):
        host, recording = f"hv{i:04}", RECORDINGS[(first + i) % len(RECORDINGS)]
        (folder / f"{host}.facts").write_bytes(bundle_bytes(host, "2026-11-28T00:00:00+00:00", recording.read_text()))
    return folder


@pytest.mark.parametrize("option, reason", [
    ({}, None), ({"numprocesses": 2}, "not with -n"), ({"collectonly": True}, "not with --collect-only"),
    ({"maxfail": 1}, "not with --maxfail or -x"), ({"usepdb": True}, "not with --pdb"),
    ({"setuponly": True}, "not with --setup-only"), ({"setupplan": True}, "not with --setup-plan"),
    ({"stepwise": True}, "not with --stepwise"), ({"maxfail": 0, "numprocesses": None}, None),
])
def test_what_pytest_does_across_checks_is_not_split(tmp_path, one_thread, option, reason):
    targets = [BundleTarget(p, "qemu:///system") for p in sorted(bundles(tmp_path, 2).iterdir())]
    assert why_not(_config(**option), targets) == reason


def test_only_bundles_are_split_and_not_in_a_process_with_other_threads(tmp_path, one_thread, monkeypatch):
    targets = [BundleTarget(p, "qemu:///system") for p in sorted(bundles(tmp_path, 2).iterdir())]
    assert why_not(_config(), []) == why_not(_config(), [*targets, SimpleNamespace(name="live")]) == \
        "only an audit of bundles (--facts) is split"
    monkeypatch.setattr(shards.threading, "active_count", lambda: 2)
    assert why_not(_config(), targets) == "this process runs other threads (pytest started from a program that has them)"


@pytest.mark.parametrize("hosts, asked, count, error", [
    (SHARD_FROM, None, 2, None), (SHARD_FROM - 1, None, 1, None), (3, 3, 3, None), (SHARD_FROM, 1, 1, None),
])
def test_the_plan_splits_a_fleet_of_bundles_one_process_per_core(tmp_path, one_thread, monkeypatch, hosts, asked, count, error):
    monkeypatch.setattr("virtnat.state.cores", lambda: 2)
    targets = [BundleTarget(p, "qemu:///system") for p in sorted(bundles(tmp_path, hosts).iterdir())]
    assert _split(_config(shards=asked), targets) == (count, error)


@pytest.mark.parametrize("asked, error", [(None, None), (1, None), (2, "--shards=2: only an audit of bundles (--facts) is split")])
def test_a_split_asked_for_where_there_can_be_none_is_a_usage_error(asked, error):
    assert _split(_config(shards=asked), [SimpleNamespace(name="live")]) == (1, error)


def test_pytests_own_junit_and_html_reports_get_every_phase():
    assert not every_phase(_config())
    assert every_phase(_config(xmlpath="x.xml")) and every_phase(_config(htmlpath="x.html"))


def test_a_thread_that_came_after_the_plan_keeps_the_run_in_one_process():
    ran = []
    hook = SimpleNamespace(pytest_runtest_protocol=lambda item, nextitem: ran.append((item, nextitem)))
    session = SimpleNamespace(testsfailed=0, shouldfail=False, shouldstop=False, items=["a", "b", "c"],
                              config=SimpleNamespace(hook=hook, option=SimpleNamespace(continue_on_collection_errors=False)))
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        run_split(session, SimpleNamespace(wait_for_facts=lambda: None, plan=SimpleNamespace(targets=())), 2)
    finally:
        stop.set()
        thread.join()
    assert ran == [("a", "b"), ("b", "c"), ("c", None)]


# -- split audits, as users run them ---------------------------------------------------------------

class Audit:
    """One `virtnat audit --facts=FOLDER` run and what it wrote, the parts that vary from run to
    run (times, the file names' time stamp) taken out. pytest's own options go after "--"."""

    def __init__(self, folder: Path, out: Path, *args: str, fault: str = "", env: dict | None = None):
        out.mkdir()
        command = [VIRTNAT, "audit", f"--facts={folder}", f"--report-dir={out}", f"--prometheus={out / 'virtnat.prom'}", *args,
                   f"--stats-json={out.parent / 'stats.json'}", "-p", "selftests.unit.shard_faults", "-p", "no:cacheprovider"]
        environ = {**os.environ, "PYTHONPATH": str(ROOT), "VIRTNAT_SHARD_FAULT": fault, **(env or {})}
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environ, timeout=300)
        self.code, self.out, self.err = done.returncode, done.stdout, done.stderr
        self.dir = out

    def report(self, suffix: str) -> str:
        [path] = [p for p in self.dir.iterdir() if p.suffix == suffix and not p.name.startswith("latest")]
        return path.read_text()

    def results(self) -> dict:
        """Every report, as each would be the same for the same results."""
        document = json.loads(self.report(".json"))
        del document["started"], document["finished"]
        page = re.sub(r'<p class="meta">.*?</p>', "", self.report(".html"))
        junit = re.sub(r' (time|timestamp)="[^"]*"', "", self.report(".xml"))
        metrics = [line for line in (self.dir / "virtnat.prom").read_text().splitlines()
                   if not re.match(r"virtnat_audit_(duration|timestamp)_seconds ", line)]
        pytests = self.dir.parent / "pytest.xml"  # pytest's own JUnit report, when asked for: its checks in the order
        if pytests.exists():  # they were reported (a forked process's after the run's own), so sorted
            pytests = sorted(re.sub(r' (time|timestamp|hostname)="[^"]*"', "", pytests.read_text()).split("<testcase "))
        else:
            pytests = None
        return {"json": document, "html": page, "junit": junit, "prometheus": metrics, "code": self.code, "pytest_junit": pytests,
                "counts": re.sub(r" in [\d.]+s.*", "", self.out.strip().splitlines()[-1]).strip("= "),
                "stats": {host: s["collections"] for host, s in self.stats()["hosts"].items()}}

    def stats(self) -> dict:
        return json.loads((self.dir.parent / "stats.json").read_text())


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    return bundles(tmp_path_factory.mktemp("fleet"), 6)


@pytest.fixture(scope="module")
def unsplit(fleet, tmp_path_factory):
    out = tmp_path_factory.mktemp("unsplit")
    run = Audit(fleet, out / "r", "--shards=1", "--", f"--junitxml={out / 'pytest.xml'}")
    assert run.stats()["check_processes"] == 1
    return run.results()


def test_a_split_audit_reports_exactly_what_one_process_reports(fleet, unsplit, tmp_path):
    run = Audit(fleet, tmp_path / "r", "--shards=3", "--", f"--junitxml={tmp_path / 'pytest.xml'}")
    assert run.results() == unsplit  # pytest's own JUnit report too: it gets every phase of every check
    assert run.stats()["check_processes"] == 3
    assert unsplit["code"] == 1 and unsplit["counts"] == "28 failed, 188 passed, 12 skipped"  # faulty recordings fail
    assert set(unsplit["stats"]) == {f"hv{n:04}" for n in range(6)}
    assert all(kinds == {"libvirt": 1, "links": 1, "system": 1} for kinds in unsplit["stats"].values())
    assert "run here again" not in run.out + run.err


@pytest.mark.parametrize("fault, what", [
    ("kill", "was killed by signal 9"),
    ("raise", "failed: RuntimeError: the hand-back broke"),
    ("unpicklable", "exited 0 without its results"),
])
def test_a_forked_process_that_dies_or_fails_has_its_checks_run_here_again(fleet, unsplit, tmp_path, fault, what):
    run = Audit(fleet, tmp_path / "r", "--shards=2", "--", fault=fault)
    assert f"virtnat: the process checking hosts hv0003..hv0005 {what}; their checks run here again" in run.out
    assert run.results() == {**unsplit, "pytest_junit": None}


def test_an_interrupted_split_audit_leaves_no_process_behind(fleet, tmp_path):
    pids = tmp_path / "pids"
    pids.write_text("")
    run = Audit(fleet, tmp_path / "r", "--shards=2", "--", fault="interrupt", env={"VIRTNAT_SHARD_PIDS": str(pids)})
    assert run.code == 2 and "KeyboardInterrupt" in run.out
    [pid] = [int(line) for line in pids.read_text().split()]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped: not even a zombie


class _Stop(Exception):
    pass


@pytest.mark.parametrize("flag", ["shouldfail", "shouldstop"])
def test_the_loop_stops_where_pytests_own_would(flag):
    ran = []
    session = SimpleNamespace(shouldfail=False, shouldstop=False, Failed=_Stop, Interrupted=_Stop)

    def protocol(item, nextitem):
        ran.append(item)
        setattr(session, flag, f"{flag} at {item}")

    session.config = SimpleNamespace(hook=SimpleNamespace(pytest_runtest_protocol=protocol))
    with pytest.raises(_Stop, match=f"^{flag} at a$"):
        shards.run_items(session, ["a", "b"])
    assert ran == ["a"]


def test_a_forked_process_s_events_are_replayed_to_pytests_hooks_in_order():
    """As the process that ran the checks called them: the terminal's progress, the reports."""
    calls = []

    def logstart(*, nodeid, location):
        calls.append(("start", nodeid, location))

    def from_serializable(*, config, data):
        return ("report of", config.name, data)

    def logreport(*, report):
        calls.append(("report", report))

    def logfinish(*, nodeid, location):
        calls.append(("finish", nodeid, location))
    config = SimpleNamespace(name="the audit's config", hook=SimpleNamespace(
        pytest_runtest_logstart=logstart, pytest_report_from_serializable=from_serializable,
        pytest_runtest_logreport=logreport, pytest_runtest_logfinish=logfinish))
    where = ("tests/host/test_a.py", 3, "test_a[hv2]")
    shards._replay(config, [("start", "t::a[hv2]", where), ("report", {"when": "call"}), ("finish", "t::a[hv2]", where)])
    assert calls == [("start", "t::a[hv2]", where), ("report", ("report of", "the audit's config", {"when": "call"})),
                     ("finish", "t::a[hv2]", where)]


def test_a_line_goes_to_pytests_terminal_on_a_line_of_its_own(capsys):
    said = []
    terminal = SimpleNamespace(ensure_newline=lambda: said.append("newline"), write_line=said.append)
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin={"terminalreporter": terminal}.get))
    shards._say(config, "virtnat: the process checking hosts hv1..hv2 was killed by signal 9")
    assert said == ["newline", "virtnat: the process checking hosts hv1..hv2 was killed by signal 9"]
    assert capsys.readouterr() == ("", "")


def test_a_line_without_a_terminal_goes_to_stderr(capsys):
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: None))
    shards._say(config, "virtnat: the process checking hosts hv1..hv2 was killed by signal 9")
    assert capsys.readouterr() == ("", "virtnat: the process checking hosts hv1..hv2 was killed by signal 9\n")


# -- split audits in this process (pytester), as the unit tests' coverage and mutants see them -----

# A few checks of each kind of parametrization (per host; per host and guest interface), on as many
# hosts as make the audit read its bundles in worker processes (POOL_FROM), the first failing some
# (Docker's forward drop on nftables): the split does not look at what a check is, and a whole
# audit here runs for many mutants.
FEW_CHECKS = (str(CHECKS_DIR / "path"), str(CHECKS_DIR / "vm"))


@pytest.fixture
def inprocess(pytester, one_thread, tmp_path):
    """An in-process audit of POOL_FROM bundles: a function of its extra arguments, giving the run,
    its JSON document and its page (the times taken out) and its stats."""
    folder = bundles(tmp_path / "fleet", POOL_FROM, first=RECORDINGS.index(DATA / "libvirt11-nftables" / "docker-forward-drop.txt"))

    def run(*args):
        out = pytester.path / f"r{len(list(pytester.path.glob('r*')))}"
        result = pytester.runpytest_inprocess(*FEW_CHECKS, "-p", "no:cacheprovider", f"--facts={folder}", f"--report-dir={out}",
                                              f"--stats-json={out}.stats", *args)
        stamped = {p.suffix: p for p in out.iterdir() if not p.name.startswith("latest")} if out.exists() else {}
        document = json.loads(stamped[".json"].read_text()) if ".json" in stamped else {}
        document.pop("started", None), document.pop("finished", None)
        page = re.sub(r'<p class="meta">.*?</p>', "", stamped[".html"].read_text()) if ".html" in stamped else ""
        stats = json.loads(Path(f"{out}.stats").read_text()) if Path(f"{out}.stats").exists() else {}
        return result, (document, page), stats
    return run


def test_a_split_audit_in_process_reports_what_one_process_reports(inprocess):
    one, expected, one_stats = inprocess("--shards=1")
    split, found, stats = inprocess("--shards=2")
    assert found == expected and split.ret == one.ret == 1
    assert split.parseoutcomes() == one.parseoutcomes()
    assert {k: one.parseoutcomes()[k] for k in ("failed", "passed")} == {"failed": 23, "passed": 121}
    assert "run here again" not in split.stdout.str()  # the forked process handed its checks back
    assert (one_stats["check_processes"], stats["check_processes"]) == (1, 2)
    assert {h: s["collections"] for h, s in stats["hosts"].items()} == {h: s["collections"] for h, s in one_stats["hosts"].items()}
    assert all(s["collections"] == {"libvirt": 1, "links": 1, "system": 1} for s in stats["hosts"].values())
    # Each process's checks, file by file, as pytest shows them (the forked one's after the run's own),
    # with the progress up to 100%.
    lines = split.stdout.lines
    assert [m.group(1) for m in map(re.compile(r"^\S*/tests/(path|vm)/").match, lines) if m] == ["path", "vm", "path", "vm"]
    progress = [int(m.group(1)) for m in map(re.compile(r"^.*[.F] +\[ *(\d+)%\]$").match, lines) if m]
    assert progress == sorted(progress) and progress[-1] == 100 and len(progress) == len(set(progress)) > 4


def test_forked_processes_killed_in_process_have_their_checks_run_again(inprocess, monkeypatch):
    _, expected, _ = inprocess("--shards=1")
    monkeypatch.setattr("selftests.unit.shard_faults.FAULT", "kill")
    monkeypatch.setattr("selftests.unit.shard_faults.FIRST", os.getpid())
    result, found, _ = inprocess("--shards=3", "-p", "selftests.unit.shard_faults")
    assert found == expected
    for hosts in ("hv0006..hv0010", "hv0011..hv0015"):
        result.stdout.fnmatch_lines([f"virtnat: the process checking hosts {hosts} was killed by signal 9; their checks run here again"])


def test_a_block_of_hosts_is_named_by_its_first_and_last():
    hv = [SimpleNamespace(name=f"hv{n}") for n in range(3)]
    assert (shards.hosts_line(hv[:1]), shards.hosts_line(hv[:2]), shards.hosts_line(hv)) == ("hv0", "hv0..hv1", "hv0..hv2")


@pytest.mark.parametrize("broken, says", [(1, "1 error during collection"), (2, "2 errors during collection")])
def test_collection_errors_stop_a_split_audit_as_they_stop_pytest(inprocess, pytester, broken, says):
    files = [pytester.makepyfile(**{f"test_broken{n}": "import no_such_module_here"}) for n in range(broken)]
    result, (document, _), _ = inprocess("--shards=2", *map(str, files))
    assert result.ret == 2 and document["hosts"] == []
    result.stdout.fnmatch_lines([f"*Interrupted: {says}*"])  # pytest's own words


def test_an_audit_that_is_not_split_says_one_process(inprocess):
    _, _, stats = inprocess("--collect-only")
    assert stats["check_processes"] == 1


def test_the_collection_of_a_split_audit_reads_only_libvirts_facts(monkeypatch):
    made = []
    monkeypatch.setattr("virtnat.state.Collection", lambda targets, stages: made.append(stages))
    for shards_planned in (2, 1):
        state.Audit(state.Plan(None, Profile(), shards=shards_planned, collect=True)).start_collection()
    state.Audit(state.Plan(None, Profile(), collect=False)).start_collection()  # the plan collects nothing
    assert made == [(("libvirt",),), (("libvirt",), ("links", "system"))]
