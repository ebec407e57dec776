"""`make mutants`: mutmut over src/virtnat and the checks in tests/ against the unit tests
([tool.mutmut] in pyproject.toml), then the score and the surviving mutants.

Usage, from the repository's root (`make mutants` removes mutants/ first):
    python mk/mutants.py                         run every mutant not yet tested in mutants/
    python mk/mutants.py 'virtnat.facts.links.*'  test these mutants again

mutmut 3.8.1 (pinned in pyproject.toml) mutates files named test_*.py like any other, but it
would leave the checks' own code alone, so two of its rules are adjusted here, at run time:
- it skips every decorated function (a decorator may register the function, or fail when its
  arguments are mutated), and every check is decorated with @pytest.mark.control(...). A mark
  only attaches data to the function, so functions whose decorators are all pytest.mark.* are
  mutated; their decorators, as mutmut's own rule keeps them, are not.
- it switches a mutant of tests/network/test_bridge.py on only in functions whose __module__ is
  tests.network.test_bridge, while the unit tests load the checks under names of their own
  (importlib by file path, pytester): each mutated check file names itself as mutmut does.
Temporary files (pytest's tmp_path, pytester's runs) go to mutants/tmp, not to /tmp.
"""
import dataclasses
import gc
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import libcst as cst
import mutmut
import mutmut.__main__ as main
from mutmut.mutation import file_mutation
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.trampoline_templates import trampoline_imports
from mutmut.runners.harness import PytestRunner
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
from mutmut.workers import isolation
from mutmut.workers.isolation import ForkServerRunner

assert mutmut.__version__ == "3.8.1", f"mk/mutants.py adjusts mutmut 3.8.1, not {mutmut.__version__}"


def _is_mark(decorator: cst.BaseExpression) -> bool:
    """pytest.mark.NAME or pytest.mark.NAME(...)."""
    node = decorator.func if isinstance(decorator, cst.Call) else decorator
    return (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Attribute)
            and node.value.attr.value == "mark" and isinstance(node.value.value, cst.Name)
            and node.value.value.value == "pytest")


_skip = file_mutation.MutationVisitor._skip_node_and_children


def _skip_unless_marked(self, node):
    """mutmut's rule, but a function decorated with pytest marks only is mutated unless a
    pragma or mutmut's list of never-mutated names excludes it."""
    skip = _skip(self, node)
    if skip and isinstance(node, cst.FunctionDef) and node.decorators \
            and all(_is_mark(d.decorator) for d in node.decorators):
        return node.name.value in self.ignored_functions | file_mutation.NEVER_MUTATE_FUNCTION_NAMES
    return skip


_mutate = main.mutate_file_contents
_IMPORT = trampoline_imports.strip()


def _mutate_named(filename, code, *args):
    """mutmut's mutated file; one of tests/ sets its __name__ (on the line of mutmut's import,
    so that mutmut's index of lines stays right) before any of its functions is defined."""
    mutated = _mutate(filename, code, *args)
    if not filename.startswith("tests/"):
        return mutated
    name = filename.removesuffix(".py").replace("/", ".")
    assert mutated.code.count(_IMPORT) == 1, filename
    return dataclasses.replace(mutated, code=mutated.code.replace(_IMPORT, f"__name__ = {name!r}; {_IMPORT}"))


_warm_up = PytestRunner.warm_up


def _warm_up_frozen(self):
    """mutmut's warm-up (the fork server collects every test), then everything it made is frozen out
    of the garbage collector: pytest collects garbage at the end of each session, and each mutant's
    run spent 0.11 of its 0.2 s fixed cost walking the fork server's heap."""
    _warm_up(self)
    gc.freeze()


_submit = ForkServerRunner.submit
SLOW = 0.1


# Where a module's mutants are likeliest killed when no test file is named for it, or when
# another file's tests kill them sooner (measured: pytest_addoption's help texts are killed by
# test_cli's copy of --help in the README, after ~1.3 s of the plugin's own files).
ELSEWHERE = {
    "plugin": ("cli", "plugin"), "units": ("units", "framed", "boot"), "libvirt_files": ("boot", "framed"),
    "ruleset_nft": ("nft", "ruleset"), "nft": ("nft",), "virsh": ("virsh", "boot"),
}
CHECKS = {"host": ("host_checks", "boot"), "network": ("guest_and_network", "boot"), "vm": ("guest_and_network",),
          "path": ("path_checks",)}


def own_tests(mutant_name: str) -> tuple[str, ...]:
    """What the names of the unit test files likeliest to kill a mutant hold: its module's own name
    (virtnat.report.junit.x_junit_xml__mutmut_3 -> "junit", test_junit.py; tests.host.test_boot... ->
    "boot"), and where its module's checks or parser are tested besides (ELSEWHERE, CHECKS)."""
    module = mutant_name.split(".x_")[0].split(".xǁ")[0]
    parts = module.split(".")
    own = parts[-1].removeprefix("test_")
    if parts[0] == "tests":
        return (own, *CHECKS.get(parts[1], ()))
    return ELSEWHERE.get(own, (own,))


def _submit_fast_first(self, mutant_name, tests, cpu_time_limit, estimated_time):
    """mutmut's fork server runs a mutant's tests in the order of a set; here the tests of the
    module's own test files come first (they are the likeliest to fail), then the others; in each
    part the fastest first by mutmut's stats (those of SLOW seconds or more last), so that the
    first failing test, which ends the run (-x), comes early (measured: pytest_addoption's
    mutants, killed by a 1 ms test of the options, waited 2.6 s each behind the plugin's other
    tests in name order)."""
    durations = main.state().duration_by_test
    own = own_tests(mutant_name)

    def key(test):
        file = test.split("::")[0]
        seconds = durations.get(test, 0)
        mine = any(o in file.rsplit("/", 1)[-1] for o in own)
        return (not mine, seconds >= SLOW, seconds, file, test)
    tests = sorted(tests, key=key)
    _submit(self, mutant_name, tests, cpu_time_limit, estimated_time)
    _started[mutant_name] = (time.monotonic(), len(tests))


_wait = ForkServerRunner.wait_for_result
_started: dict[str, tuple[float, int]] = {}
TIMES = Path("mutants/seconds.tsv")


def _wait_timed(self, timeout=None):
    """mutmut's result, and the mutant's wall time from submission to result (mutmut's own
    duration is 0 with the fork server) appended to TIMES: name, tests, seconds, exit code."""
    result = _wait(self, timeout)
    start, tests = _started.pop(result.mutant_name, (time.monotonic(), 0))
    with TIMES.open("a") as times:
        times.write(f"{result.mutant_name}\t{tests}\t{time.monotonic() - start:.3f}\t{result.exit_code}\n")
    return result


def explained_in_docs(text: str) -> set[str]:
    """The mutants docs/mutation.md names: NAME__mutmut_7, or several of one function as NAME__mutmut_{7,9,12}."""
    names = set()
    for function, numbers in re.findall(r"\b((?:virtnat|tests)\.[\w.ǁ]+__mutmut_)(\{[\d, ]+\}|\d+)", text):
        names.update(function + n.strip() for n in numbers.strip("{}").split(","))
    return names


def costs(top: int = 15):
    """Where the mutants' time went (TIMES): the functions whose mutants took longest, in all and
    as survivors (a survivor runs every test of its function)."""
    if not TIMES.exists():
        return
    spent, survived, count = Counter(), Counter(), Counter()
    for line in TIMES.read_text().splitlines():
        name, _tests, seconds, code = line.split("\t")
        function = name.rsplit("__mutmut_", 1)[0]
        spent[function] += float(seconds)
        count[function] += 1
        if status_by_exit_code[int(code)] == "survived":
            survived[function] += float(seconds)
    print(f"\nseconds in mutants' runs: {sum(spent.values()):.0f} in all, {sum(survived.values()):.0f} in survivors;"
          f" the {top} costliest functions (seconds, mutants, seconds in survivors):")
    for function, seconds in spent.most_common(top):
        print(f"  {seconds:7.1f} {count[function]:5} {survived[function]:7.1f}  {function}")


def report():
    """Every mutant not killed, survivors per file, counts by status, the score (killed / all)."""
    by_status, survivors, killed, total = Counter(), Counter(), Counter(), Counter()
    unkilled = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        part = path.parts[0]
        for name, code in data.exit_code_by_key.items():
            status = status_by_exit_code[code]
            by_status[status] += 1
            survivors[str(path)] += status == "survived"
            killed[part] += status == "killed"
            total[part] += 1
            if status != "killed":
                unkilled.append(f"{status}: {name}")
    print("\nmutants not killed (`.venv/bin/mutmut show NAME` shows one):")
    print("\n".join(f"  {line}" for line in sorted(unkilled)))
    print("\nsurvivors per file:")
    for path, count in sorted(survivors.items(), key=lambda item: (-item[1], item[0])):
        if count:
            print(f"  {count:5}  {path}")
    print("\n" + ", ".join(f"{status} {count}" for status, count in by_status.most_common()))
    for part, label in (("src", "src/virtnat"), ("tests", "the checks in tests/")):
        print(f"{label}: {killed[part]} killed / {total[part]} = {100 * killed[part] / max(total[part], 1):.1f}%")
    all_killed, everything = sum(killed.values()), sum(total.values())
    print(f"score: {all_killed} killed / {everything} mutants = {100 * all_killed / max(everything, 1):.1f}%")
    explained = explained_in_docs(Path("docs/mutation.md").read_text())
    not_killed = {line.split(": ", 1)[1] for line in unkilled if not line.startswith("not checked")}
    if not_killed - explained:
        print(f"\n{len(not_killed - explained)} not killed and not explained in docs/mutation.md:")
        print("\n".join(f"  {name}" for name in sorted(not_killed - explained)))
    else:
        print("every mutant not killed is explained in docs/mutation.md")


# One worker more than cores: the tests wait part of the time (on the probe's subprocesses, loopback
# servers, deadlines), and with one worker per core only 1.7 of the 2 cores here were busy.
WORKERS = int(os.environ.get("MUTANTS_WORKERS") or (os.cpu_count() or 1) + 1)


def sync_package_data() -> None:
    """mutmut copies src/'s Python files, and the rest only on a full run: a targeted run after
    probe.sh changed would run every test on the old one (its clean run fails). Copy what changed."""
    for path in Path("src").rglob("*"):
        copy = Path("mutants") / path
        if path.is_file() and path.suffix not in (".py", ".pyc") and copy.parent.is_dir():
            if not copy.exists() or copy.read_bytes() != path.read_bytes():
                copy.write_bytes(path.read_bytes())


def link_package_dirs() -> None:
    """src/virtnat's links (catalog -> tests/, profiles -> profiles/): mutmut walks src/ without
    following links, so its copy would have no catalog. The copy's links lead to the copy's
    tests/, where the checks' mutants are."""
    for link in Path("src/virtnat").iterdir():
        copy = Path("mutants") / link
        if link.is_symlink() and not copy.is_symlink():
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.symlink_to(os.readlink(link))


_set_mutant = isolation.set_mutant_under_test


def _set_mutant_alone(name):
    """In the process that runs one mutant's tests, first: a process group of its own. A mutant of
    virtnat.forked that signals process 0 (its group) then stops its own tests, not mutmut."""
    os.setpgid(0, 0)
    _set_mutant(name)


if __name__ == "__main__":
    tmp = Path("mutants/tmp").resolve()
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = None
    link_package_dirs()
    sync_package_data()
    file_mutation.MutationVisitor._skip_node_and_children = _skip_unless_marked
    main.mutate_file_contents = _mutate_named
    PytestRunner.warm_up = _warm_up_frozen
    ForkServerRunner.submit = _submit_fast_first
    ForkServerRunner.wait_for_result = _wait_timed
    isolation.set_mutant_under_test = _set_mutant_alone
    try:
        main._run(sys.argv[1:], WORKERS)
    except SystemExit as exc:
        if exc.code:
            raise
    costs()
    report()
