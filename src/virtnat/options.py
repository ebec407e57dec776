"""The audit's options, declared once: pytest takes them through the plugin's pytest_addoption,
`virtnat audit` and `virtnat collect` through the same calls (cli.py)."""
from __future__ import annotations

import argparse

from .collectors.deadline import DEFAULT
from .report.results import IMPACTS
from .shards import SHARD_FROM


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def declare(parser) -> None:
    """The plugin's options, as pytest_addoption declares them; `virtnat audit` reads the same calls."""
    group = parser.getgroup("virtnat", "virtnat compliance audit")
    group.addoption("--profile", metavar="FILE", help="TOML profile of expected values (default: the document's values)")
    group.addoption("--audit-json", metavar="PATH", help="write the JSON results to PATH instead of the report directory")
    group.addoption("--report-dir", metavar="DIR",
                    help="where reports go (default: $STATE_DIRECTORY/reports in a systemd unit, else ~/.local/state/virtnat/reports)")
    group.addoption("--libvirt-uri", metavar="URI",
                    help="read libvirt with libvirt-python at URI instead; {host} is where each host is reached "
                         "(an ansible:// host's ansible_host, else its name)")
    group.addoption("--connect-timeout", default=DEFAULT.connect, type=positive, metavar="SECONDS",
                    help=f"SSH connect timeout per host (default {DEFAULT.connect})")
    group.addoption("--fail-on", default=IMPACTS[0], choices=IMPACTS, metavar="IMPACT",
                    help=f"exit 1 only when a check at this impact or above ({', '.join(IMPACTS)}) failed or could not be "
                         f"carried out; default {IMPACTS[0]}: any")
    group.addoption("--command-timeout", default=DEFAULT.command, type=positive, metavar="SECONDS",
                    help=f"deadline of each host's probe and libvirt reads, on top of the connect timeout (default {DEFAULT.command})")
    group.addoption("--facts", metavar="PATH[,PATH...]",
                    help="audit bundles (virtnat collect) or probe output saved from hosts instead (files, or directories "
                         "of them; each file is a host, named by its bundle's header, else by the file, .txt/.facts dropped), "
                         "with no connection")
    group.addoption("--waivers", metavar="FILE",
                    help="TOML file of [[waiver]] tables: a failing check it covers is reported as waived")
    group.addoption("--prometheus", metavar="FILE", help="also write the results as a node-exporter textfile")
    group.addoption("--keep", type=positive, metavar="N", help="afterwards keep only the newest N runs' reports")
    group.addoption("--shards", type=positive, metavar="N",
                    help=f"split an audit of bundles among N processes (default: one per core from {SHARD_FROM} hosts on; 1: no split)")
    group.addoption("--stats-json", metavar="PATH",
                    help="write what fact collection cost (times, subprocesses, libvirt calls) to PATH")
