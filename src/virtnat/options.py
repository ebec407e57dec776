"""Every option of an audit, in one table: its flags, help, type and default, which `virtnat`
commands take it, and who declares it to pytest (virtnat's plugin, testinfra's, or nobody: the
command's own). The plugin's pytest_addoption, `virtnat audit`, `virtnat collect`, `virtnat fix`
and their help are all made from it (cli.py); each default is written here once."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

from .collectors.deadline import DEFAULT
from .report.results import IMPACTS
from .split import SPLIT_FROM


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    metavar: str | None = None
    type: Callable | None = None
    default: object = None  # pytest's; `virtnat` hands an option on only when it was given
    choices: tuple[str, ...] | None = None
    action: str | None = None  # argparse's: store_true, append; None: a value
    commands: tuple[str, ...] = ("audit",)  # the `virtnat` commands that take it
    owner: str = "virtnat"  # who declares it to pytest: "virtnat" (this plugin), "testinfra", or "cli" (nobody)
    dest: str | None = None
    to_pytest: str | None = None  # the pytest option a "cli" option becomes (-n: xdist's --numprocesses)

    @property
    def name(self) -> str:
        """Its attribute: dest, else its long flag's words (--report-dir: report_dir)."""
        return self.dest or next(f for f in self.flags if f.startswith("--"))[2:].replace("-", "_")

    def argparse_kwargs(self) -> dict:
        """How argparse (and pytest, whose addoption takes the same) reads it, without a default."""
        kwargs = {"help": self.help, "metavar": self.metavar, "type": self.type, "choices": self.choices, "action": self.action}
        if self.action == "store_true":
            del kwargs["metavar"], kwargs["type"], kwargs["choices"]
        return {key: value for key, value in kwargs.items() if value is not None}

    def argv(self, value) -> list[str]:
        """pytest's arguments for a value given to `virtnat`: `--opt=value` (pytest picks its
        rootdir before plugins declare their options, so it would take a separate value for a path)."""
        flag = self.to_pytest or next((f for f in self.flags if f.startswith("--")), self.flags[0])
        if self.action == "store_true":
            return [flag] if value else []
        values = value if self.action == "append" else [value]
        return [f"{flag}={v}" for v in values]


HOSTS = ("audit", "collect")
REPORTS = ("audit", "merge")  # what `virtnat merge` writes, as an audit does
OPTIONS: tuple[Option, ...] = (
    # Which hosts and how to reach them: testinfra's options, which testinfra declares to pytest.
    Option(("--hosts",), "testinfra host specs, comma separated: local:// (this host, the default), ssh://user@host:port, "
                         "paramiko://..., ansible://GROUP", "SPEC[,SPEC...]", commands=HOSTS, owner="testinfra"),
    Option(("--ansible-inventory",), "Ansible inventory for --hosts=ansible://GROUP", "FILE", commands=HOSTS, owner="testinfra"),
    Option(("--ssh-config",), "ssh config for the hosts (e.g. from `vagrant ssh-config`)", "FILE", commands=HOSTS, owner="testinfra"),
    Option(("--ssh-identity-file",), "SSH private key", "FILE", commands=HOSTS, owner="testinfra"),
    Option(("--sudo",), "run the host's commands with sudo (firewall rules need root)", action="store_true", commands=HOSTS,
           owner="testinfra"),
    # The command's own.
    Option(("--checks",), "also run the site's own checks, the test_*.py files in DIR (repeatable)", "DIR", action="append",
           owner="cli"),
    Option(("-n",), "run checks in N processes (pytest-xdist; 'auto' works); each host's checks stay in one", "N", owner="cli",
           dest="workers",
           to_pytest="--numprocesses"),
    # virtnat's plugin.
    Option(("--profile",), "TOML profile of expected values (default: the document's values)", "FILE", commands=HOSTS),
    Option(("--audit-json",), "write the JSON results to PATH instead of the report directory", "PATH", commands=REPORTS),
    Option(("--report-dir",), "where reports go (default: $STATE_DIRECTORY/reports in a systemd unit, else "
                              "~/.local/state/virtnat/reports)", "DIR", commands=REPORTS),
    Option(("--libvirt-uri",), "read libvirt with libvirt-python at URI instead; {host} is where each host is reached "
                               "(an ansible:// host's ansible_host, else its name)", "URI"),
    Option(("--connect-timeout",), f"SSH connect timeout per host (default {DEFAULT.connect})", "SECONDS", positive,
           DEFAULT.connect, commands=HOSTS),
    Option(("--fail-on",), f"exit 1 only when a check at this impact or above ({', '.join(IMPACTS)}) failed or could not be "
                           f"carried out; default {IMPACTS[0]}: any", "IMPACT", default=IMPACTS[0], choices=IMPACTS,
           commands=REPORTS),
    Option(("--command-timeout",), f"deadline of each host's probe and libvirt reads, on top of the connect timeout "
                                   f"(default {DEFAULT.command})", "SECONDS", positive, DEFAULT.command, commands=HOSTS),
    Option(("--facts",), "audit bundles (virtnat collect) or probe output saved from hosts instead (files, or directories "
                         "of them; each file is a host, named by its bundle's header, else by the file, .txt/.facts dropped), "
                         "with no connection", "PATH[,PATH...]"),
    Option(("--waivers",), "TOML file of [[waiver]] tables: a failing check it covers is reported as waived", "FILE"),
    Option(("--prometheus",), "also write the results as a node-exporter textfile: per host its counts, and the checks "
                              "that did not pass", "FILE", commands=REPORTS),
    Option(("--prometheus-detail",), "with --prometheus: a series for every check of every host", action="store_true",
           commands=REPORTS),
    Option(("--keep",), "afterwards keep only the newest N runs' reports", "N", positive, commands=REPORTS),
    Option(("--shards",), f"split an audit of bundles among N audits at a time, whose parts are merged (default: one per "
                          f"core from {SPLIT_FROM} bundles on; 1: no split)", "N", positive, owner="cli"),
    Option(("--part",), "write only this audit's JSON results, with the evidence the page shows, to PATH: a part for "
                        "virtnat merge", "PATH"),
    Option(("--stats-json",), "write what fact collection cost (times, subprocesses, libvirt calls) to PATH", "PATH"),
    # `virtnat fix`'s own.
    Option(("--host",), "only this host of the result (its name as audited)", "HOST", commands=("fix",), owner="cli"),
    Option(("--ansible",), "print an Ansible playbook (a play per host, the same steps) instead of shell scripts",
           action="store_true", commands=("fix",), owner="cli"),
)
GROUPS = {"testinfra": "which hosts, and how to reach them", "cli": "this command's own", "virtnat": "virtnat compliance audit",
          "pytest-html": "pytest-html's report"}


class _Recorder:
    """pytest's parser as another plugin's pytest_addoption sees it (getgroup, addoption, addini):
    each option it declares becomes an Option of that plugin."""

    def __init__(self, owner: str):
        self.owner, self.options = owner, []

    def getgroup(self, *_args, **_kwargs) -> "_Recorder":
        return self

    def addini(self, *_args, **_kwargs) -> None:
        pass  # ini values are pytest's business

    def addoption(self, *flags: str, **kwargs) -> None:
        self.options.append(Option(flags, kwargs.get("help", ""), kwargs.get("metavar"), kwargs.get("type"),
                                   choices=kwargs.get("choices"), action=kwargs.get("action"), owner=self.owner,
                                   dest=kwargs.get("dest")))


def declared_by(owner: str, pytest_addoption) -> tuple[Option, ...]:
    """The options another plugin's pytest_addoption declares, as `virtnat audit` takes them."""
    recorder = _Recorder(owner)
    pytest_addoption(recorder)
    return tuple(recorder.options)


def declare(parser) -> None:
    """The plugin's options, as pytest_addoption declares them (with their defaults)."""
    group = parser.getgroup("virtnat", GROUPS["virtnat"])
    for option in OPTIONS:
        if option.owner == "virtnat":
            default = {} if option.default is None else {"default": option.default}
            group.addoption(*option.flags, **option.argparse_kwargs(), **default)


def table(command: str = "audit") -> str:
    """The Markdown table of `virtnat COMMAND`'s options, as README.md holds it (a test keeps
    the two the same): each option's flags as written with a value, and its help."""
    rows = ["| option | meaning |", "|---|---|"]
    for option in OPTIONS:
        if command in option.commands:
            flags = ", ".join(f if option.action == "store_true" else f"{f}{'=' if f.startswith('--') else ' '}{option.metavar}"
                              for f in option.flags)
            rows.append(f"| `{flags}` | {option.help.replace('|', chr(92) + '|')} |")
    return "\n".join(rows) + "\n"


def add_to(command: argparse.ArgumentParser, name: str, others: tuple[Option, ...] = ()) -> list[Option]:
    """The options of `virtnat NAME` (and others, another plugin's) added to its argparse parser,
    grouped by who declares them; an option not given is not set (pytest applies the defaults)."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    taken = [option for option in OPTIONS if name in option.commands] + list(others)
    for option in taken:
        if option.owner not in groups:
            groups[option.owner] = command.add_argument_group(GROUPS[option.owner])
        groups[option.owner].add_argument(*option.flags, dest=option.name, default=argparse.SUPPRESS, **option.argparse_kwargs())
    return taken
