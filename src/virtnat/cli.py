"""The `virtnat` command: `audit` runs the checks (pytest in-process), `diff` compares two audits."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .collectors.deadline import DEFAULT
from .report.results import IMPACTS

class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (no usage block) and exit code 4, the
    suite's usage error (argparse's own is 2)."""

    def error(self, message):
        self.exit(4, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _host_options(command: argparse.ArgumentParser) -> None:
    """Which hosts, how to reach them, what to expect: the options audit and collect share."""
    command.add_argument("--hosts", metavar="SPEC", help="testinfra host spec(s), comma separated (default: this host)")
    command.add_argument("--ansible-inventory", metavar="FILE", help="Ansible inventory for --hosts=ansible://GROUP")
    command.add_argument("--ssh-config", metavar="FILE", help="ssh config for the hosts (e.g. from `vagrant ssh-config`)")
    command.add_argument("--ssh-identity-file", metavar="FILE", help="SSH private key")
    command.add_argument("--sudo", action="store_true", help="run the host's commands with sudo (firewall rules need root)")
    command.add_argument("--connect-timeout", type=_positive, metavar="SECONDS", help=f"SSH connect timeout per host (default {DEFAULT.connect})")
    command.add_argument("--command-timeout", type=_positive, metavar="SECONDS",
                         help=f"deadline of each host's probe and libvirt reads, on top of the connect timeout (default {DEFAULT.command})")
    command.add_argument("--profile", metavar="FILE", help="TOML profile of expected values")


def build_parser() -> argparse.ArgumentParser:
    """The command line: `virtnat audit ...`, `virtnat collect ...`, `virtnat diff OLD NEW`, `virtnat --version`."""
    parser = _Parser(prog="virtnat", description="Compliance audit of libvirt NAT hypervisor hosts.")
    parser.add_argument("--version", action="version", version=f"virtnat {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")  # of the parser's class

    audit = commands.add_parser("audit", help="audit hosts (extra pytest options after --)")
    _host_options(audit)
    audit.add_argument("--facts", metavar="PATH", help="audit saved probe output or bundles (files or directories, comma separated)")
    audit.add_argument("--fail-on", choices=IMPACTS, metavar="IMPACT",
                       help=f"exit 1 only for failures at this impact or above (default {IMPACTS[0]}: any)")
    audit.add_argument("--libvirt-uri", metavar="URI", help="read libvirt with libvirt-python at URI ({host}: each host)")
    audit.add_argument("--report-dir", metavar="DIR", help="where reports go (default: reports/ in the project)")
    audit.add_argument("--waivers", metavar="FILE", help="TOML file of [[waiver]] tables: failures the site accepts, until a date")
    audit.add_argument("--prometheus", metavar="FILE", help="also write the results as a node-exporter textfile")
    audit.add_argument("--keep", type=_positive, metavar="N", help="afterwards keep only the newest N runs' reports")
    audit.add_argument("--shards", type=_positive, metavar="N",
                       help="split an audit of bundles among N processes (default: one per core from 16 hosts on; 1: no split)")
    audit.add_argument("-n", dest="workers", metavar="N", help="run checks in N processes (pytest-xdist; 'auto' works)")
    audit.add_argument("pytest_args", nargs="*", metavar="-- PYTEST-ARGS", help="passed to pytest unchanged")

    collect = commands.add_parser("collect", help="save each host's facts as a bundle, to audit later with --facts")
    _host_options(collect)
    collect.add_argument("--out", metavar="DIR", required=True, help="where the bundles go (HOST.facts, one per host)")

    diff = commands.add_parser("diff", help="what changed between two JSON reports (exit 1 if anything got worse)")
    diff.add_argument("old", metavar="OLD.json")
    diff.add_argument("new", metavar="NEW.json")
    return parser


def pytest_args(args: argparse.Namespace) -> list[str]:
    """pytest's arguments for an audit: `virtnat audit` only translates, the plugin does the rest.
    Options are written `--opt=value`: pytest picks its rootdir before plugins declare their
    options, so it would take a separate value for a path."""
    from .plugin import CHECKS_DIR

    # virtnat is imported before pytest starts, so pytest cannot rewrite it: that is expected.
    argv = ["-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    for option in ("hosts", "facts", "ansible_inventory", "ssh_config", "ssh_identity_file", "connect_timeout", "command_timeout", "fail_on",
                   "libvirt_uri", "profile", "waivers", "prometheus", "keep", "shards"):
        value = getattr(args, option)
        if value:
            argv.append(f"--{option.replace('_', '-')}={value}")
    if args.sudo:
        argv.append("--sudo")
    if args.report_dir:
        argv.append(f"--report-dir={Path(args.report_dir).resolve()}")
    if args.workers:
        argv.append(f"--numprocesses={args.workers}")  # xdist's -n, in the = form too
    if args.facts and not (args.hosts or args.ansible_inventory):
        # An audit of bundles alone opens no connection and starts no process: pytest's capture,
        # logging and warnings plugins have nothing to catch, and their hooks around each check
        # were a sixth of the checks' time in a 1000-host audit.
        argv += ["-p", "no:logging", "-p", "no:warnings", "--capture=no"]
        # Nor are there threads or unraisable exceptions to catch, unittest classes or temporary
        # directories to give: those plugins' hooks cost another 7% of a fleet's checks.
        argv += ["-p", "no:threadexception", "-p", "no:unraisableexception", "-p", "no:unittest", "-p", "no:tmpdir",
                 "-p", "no:subtests"]
    return argv + [str(CHECKS_DIR), *args.pytest_args]


def _audit(args: argparse.Namespace) -> int:
    import pytest

    return int(pytest.main(pytest_args(args)))


def _collect(args: argparse.Namespace) -> int:
    """Each host's bundle into --out; one line per host, exit 1 if a host could not be collected."""
    from .collect import collect_bundles
    from .errors import ProfileError
    from .profile import load_profile
    from .report.files import unwritable
    from .state import utc_now
    from .targets import live_targets

    try:
        profile = load_profile(args.profile)
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
            print(f"{host}: {where}")
        else:
            print(f"virtnat collect: {where if host in where else f'{host}: {where}'}", file=sys.stderr)
            code = 1
    return code


def _usage(command: str, problem: str) -> int:
    print(f"virtnat {command}: {problem}", file=sys.stderr)
    return 4


def _load(path: str) -> dict:
    from .report.diff import check_document

    try:
        document = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    check_document(document)
    return document


def _diff(args: argparse.Namespace) -> int:
    from .report.diff import diff_documents, format_changes

    documents = []
    for path in (args.old, args.new):
        try:
            documents.append(_load(path))
        except ValueError as exc:
            print(f"virtnat diff: cannot read {path}: {exc}", file=sys.stderr)
            return 2
    changes = diff_documents(*documents)
    print(format_changes(changes) if changes else "no changes")
    return 1 if any(c.worse for c in changes) else 0


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
        return {"audit": _audit, "collect": _collect, "diff": _diff}[args.command](args)
    except SystemExit as exc:  # argparse's --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        print("virtnat: interrupted", file=sys.stderr)
        return 130
