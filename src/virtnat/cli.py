"""The `virtnat` command: `audit` runs the checks (pytest in-process), `diff` compares two audits,
`fix` prints the scripts that fix what an audit found, `merge` writes several audits' reports as one."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .options import add_to, declared_by
from .state import CHECKS_DIR

class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (no usage block) and exit code 4, the
    suite's usage error (argparse's own is 2)."""

    def error(self, message):
        self.exit(4, f"{self.prog}: error: {message}\n")


def _html_options() -> tuple:
    from pytest_html.plugin import pytest_addoption

    return declared_by("pytest-html", pytest_addoption)


def build_parser() -> argparse.ArgumentParser:
    """The command line: `virtnat audit ...`, `virtnat collect ...`, `virtnat diff OLD NEW`, `virtnat fix RESULT`,
    `virtnat merge RESULT...`, `virtnat --version`."""
    parser = _Parser(prog="virtnat", description="Compliance audit of libvirt NAT hypervisor hosts.")
    parser.add_argument("--version", action="version", version=f"virtnat {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")  # of the parser's class

    audit = commands.add_parser("audit", help="audit hosts (pytest's own options after --)")
    audit.set_defaults(options=add_to(audit, "audit", _html_options()))
    audit.add_argument("pytest_args", nargs="*", metavar="-- PYTEST-ARGS", help="passed to pytest unchanged")

    collect = commands.add_parser("collect", help="save each host's facts as a bundle, to audit later with --facts")
    add_to(collect, "collect")
    collect.add_argument("--out", metavar="DIR", required=True, help="where the bundles go (HOST.facts, one per host)")

    diff = commands.add_parser("diff", help="what changed between two JSON reports (exit 1 if anything got worse)")
    diff.add_argument("old", metavar="OLD.json")
    diff.add_argument("new", metavar="NEW.json")

    fix = commands.add_parser(
        "fix", help="print a shell script per host that fixes what an audit found failing (virtnat runs nothing)",
        description="From an audit's JSON report, print for each host a POSIX shell script that applies the fixes of "
                    "its failing checks, causes first, each fix once, each step run only while its check still fails "
                    "(run twice, the script changes nothing); with --ansible, a playbook doing the same. Review it, "
                    "then run it on the host. Errors, skipped and waived checks are left alone.")
    fix.add_argument("result", metavar="RESULT.json", help="the audit's JSON report (latest.json, --audit-json)")
    add_to(fix, "fix")

    merge = commands.add_parser(
        "merge", help="write the reports of several audits as one (blocks of a fleet audited apart)",
        description="Write every report of one audit of all the hosts of several audits (the same document, times "
                    "aside): the JSON, the HTML page, JUnit XML and, with --prometheus, the textfile. The audits must "
                    "share virtnat's version and the profile, and each host be in one of them. An audit's --part "
                    "carries the evidence the page shows (raw facts, packet walks); a plain JSON report does not. "
                    "Exit codes as an audit's.")
    merge.add_argument("results", metavar="RESULT.json", nargs="+", help="the audits' JSON reports or --part files")
    add_to(merge, "merge")
    return parser


def pytest_args(args: argparse.Namespace) -> list[str]:
    """pytest's arguments for an audit: `virtnat audit` only translates, the plugin does the rest.
    Only options given are handed on, each `--opt=value` (options.Option.argv)."""
    # virtnat is imported before pytest starts, so pytest cannot rewrite it: that is expected.
    argv = ["-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    for option in args.options:
        if hasattr(args, option.name) and (option.owner != "cli" or option.to_pytest):  # --checks, --shards: the command's
            value = getattr(args, option.name)
            argv += option.argv(Path(value).resolve() if option.name == "report_dir" else value)
    if getattr(args, "facts", None) and not (getattr(args, "hosts", None) or getattr(args, "ansible_inventory", None)):
        # An audit of bundles alone opens no connection and starts no process: pytest's capture,
        # logging and warnings plugins have nothing to catch, and their hooks around each check
        # were a sixth of the checks' time in a 1000-host audit.
        argv += ["-p", "no:logging", "-p", "no:warnings", "--capture=no"]
        # Nor are there threads or unraisable exceptions to catch, unittest classes or temporary
        # directories to give: those plugins' hooks cost another 7% of a fleet's checks.
        argv += ["-p", "no:threadexception", "-p", "no:unraisableexception", "-p", "no:unittest", "-p", "no:tmpdir",
                 "-p", "no:subtests"]
    return argv + [str(CHECKS_DIR), *getattr(args, "checks", []), *args.pytest_args]


def _site_checks_problem(dirs: list[str]) -> str | None:
    """Why --checks cannot be used: a folder that is not there, or a file named as a built-in
    one (pytest imports each check file by its name)."""
    builtin = {p.name for p in CHECKS_DIR.rglob("test_*.py")}
    for folder in dirs:
        if not Path(folder).is_dir():
            return f"--checks={folder}: not a directory"
        clash = sorted(p.name for p in Path(folder).rglob("test_*.py") if p.name in builtin)
        if clash:
            return f"--checks={folder}: {clash[0]} is the name of a built-in check file: rename it (e.g. test_site_{clash[0][5:]})"
    return None


def _audit(args: argparse.Namespace) -> int:
    import pytest

    from .split import plan_split, run_split

    problem = _site_checks_problem(getattr(args, "checks", []))
    if problem:
        return _usage("audit", problem)
    split, problem = plan_split(args)
    if problem:
        return _usage("audit", problem)
    code = run_split(args, split) if split else None
    if code is not None:
        return code
    sys.dont_write_bytecode = True  # nothing is written where virtnat is installed (pytest's rewritten checks)
    return int(pytest.main(pytest_args(args)))


def _collect(args: argparse.Namespace) -> int:
    """Each host's bundle into --out; one line per host, exit 1 if a host could not be collected."""
    from .collect import collect_bundles
    from .errors import ProfileError
    from .profile import load_profile
    from .report.files import unwritable
    from .report.inert import inert
    from .state import utc_now
    from .targets import live_targets

    try:
        profile = load_profile(getattr(args, "profile", None))
    except ProfileError as exc:
        return _usage("collect", str(exc))
    out = Path(args.out)
    problem = unwritable(out)
    if problem:
        return _usage("collect", f"--out={out}: {problem}")
    targets, error = live_targets(lambda name: getattr(args, name, None), profile.libvirt_uri)
    if error:
        return _usage("collect", error)
    code = 0
    for host, where in collect_bundles(targets, out, utc_now().isoformat()):
        if isinstance(where, Path):
            print(f"{inert(host)}: {inert(str(where))}")
        else:
            print(f"virtnat collect: {inert(where if host in where else f'{host}: {where}')}", file=sys.stderr)
            code = 1
    return code


def _usage(command: str, problem: str) -> int:
    print(f"virtnat {command}: {problem}", file=sys.stderr)
    return 4


def _load(path: str) -> dict:
    """The audit document in the JSON report at path; ValueError with the one line of why not."""
    from .inputs import Refused, read_regular
    from .report.diff import JSON_LIMIT, load_document

    try:
        data = read_regular(path, JSON_LIMIT, "a JSON report")
    except OSError as exc:
        raise ValueError(exc.strerror) from None  # os's calls set it on every OSError they raise
    except Refused as exc:
        raise ValueError(str(exc)) from None
    return load_document(data)


def _diff(args: argparse.Namespace) -> int:
    from .report.diff import diff_documents, format_changes
    from .report.inert import inert

    documents = []
    for path in (args.old, args.new):
        try:
            documents.append(_load(path))
        except ValueError as exc:
            print(f"virtnat diff: cannot read {inert(path)}: {exc}", file=sys.stderr)
            return 2
    changes = diff_documents(*documents)
    print(format_changes(changes) if changes else "no changes")
    return 1 if any(c.worse for c in changes) else 0


def _fix(args: argparse.Namespace) -> int:
    """Each host's script (or the playbook) on stdout; a result that cannot be read, or a host it
    does not hold: one line, exit 4."""
    from .report.fix_ansible import playbook
    from .report.fixes import shell_scripts
    from .report.inert import inert

    try:
        document = _load(args.result)
    except ValueError as exc:
        return _usage("fix", f"cannot read {inert(args.result)}: {exc}")
    host = getattr(args, "host", None)
    if host is not None and not any(entry["host"] == host for entry in document["hosts"]):
        return _usage("fix", f"--host={inert(host)}: no such host in {inert(args.result)}")
    print((playbook if hasattr(args, "ansible") else shell_scripts)(document, args.result, host), end="")
    return 0


def _merge(args: argparse.Namespace) -> int:
    """The reports of the merged audits; one line and exit 4 for inputs that cannot be one audit."""
    from types import SimpleNamespace

    from .report.finish import write_reports
    from .report.inert import inert
    from .report.merge import MergeError, fails, merge, read_input, when
    from .state import _outputs, utc_now

    try:
        merged = merge([(path, read_input(path)) for path in args.results])
    except MergeError as exc:
        return _usage("merge", str(exc))
    option = lambda name: getattr(args, name, None)  # noqa: E731
    hosts = [SimpleNamespace(name=host["host"]) for host in merged.document["hosts"]]
    outputs, problem = _outputs(option, hosts, when(merged.document["started"]) or utc_now())
    if problem:
        return _usage("merge", problem)
    for path in merged.without_evidence:
        print(f"virtnat merge: {inert(path)} is a JSON report, not a --part: the page shows its hosts' checks without "
              "their raw facts and packet path", file=sys.stderr)
    written = write_reports(merged.document, merged.evidence, outputs)
    for line in written.problems:
        print(f"virtnat merge: {inert(line)}", file=sys.stderr)
    print(f"virtnat merge: {len(hosts)} hosts of {len(args.results)} audits: {'  '.join(written.reports) or 'no report written'}")
    return 1 if written.problems or fails(merged.document, getattr(args, "fail_on", None) or "low") else 0


def run() -> None:
    """The `virtnat` console script: main's exit code, and the process ends at once. An audit of
    a fleet holds millions of objects that nothing needs any more; freeing them one by one took
    1.5 s at 1000 hosts. Every report is written and closed before main returns."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """What the `virtnat` console script runs; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return {"audit": _audit, "collect": _collect, "diff": _diff, "fix": _fix, "merge": _merge}[args.command](args)
    except SystemExit as exc:  # argparse's --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        print("virtnat: interrupted", file=sys.stderr)
        return 130
