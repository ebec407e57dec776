"""What `virtnat` says about itself: each command's --help (golden files in selftests/data/cli,
rewritten with VIRTNAT_GOLDEN=write), README's option table made from the one table of options,
and pytest-html's options as pytest-html itself declares them."""
import argparse
import os
import re
from pathlib import Path

import pytest
from _pytest.config.argparsing import Parser
from pytest_html.plugin import pytest_addoption

from virtnat import cli
from virtnat.options import declared_by, table

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "selftests" / "data" / "cli"
WRITE = os.environ.get("VIRTNAT_GOLDEN") == "write"


@pytest.mark.parametrize("command", [[], ["collect"], ["diff"], ["fix"], ["merge"]], ids=["virtnat", "collect", "diff", "fix", "merge"])
def test_help_is_what_it_was(command, monkeypatch, capsys):
    """The commands' own words (audit's list pytest-html's too, whose words are its own: below)."""
    monkeypatch.setenv("COLUMNS", "100")
    assert cli.main([*command, "--help"]) == 0
    shown = capsys.readouterr().out
    golden = GOLDEN / f"help-{'-'.join(command) or 'virtnat'}.txt"
    if WRITE:
        golden.write_text(shown)
    assert shown == golden.read_text()


def test_audits_own_words(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "100")
    assert cli.main(["audit", "--help"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("usage: virtnat audit [-h] ") and re.search(r"\n  -- PYTEST-ARGS +passed to pytest unchanged\n", shown)
    for group in ("which hosts, and how to reach them:", "this command's own:", "virtnat compliance audit:",
                  "pytest-html's report:"):
        assert f"\n{group}\n" in shown


def test_readmes_option_table_is_the_table_of_options():
    readme = (ROOT / "README.md").read_text()
    start = readme.index("| option | meaning |\n")
    assert readme[start:readme.index("\n\n", start) + 1] == table("audit")


def test_the_table_writes_each_option_as_given():
    rows = table("fix").splitlines()
    assert rows == ["| option | meaning |", "|---|---|",
                    "| `--host=HOST` | only this host of the result (its name as audited) |",
                    "| `--ansible` | print an Ansible playbook (a play per host, the same steps) instead of shell scripts |"]
    assert "| `-n N` | run checks in N processes" in table("audit")
    assert table("nothing") == "| option | meaning |\n|---|---|\n"


@pytest.mark.filterwarnings("ignore::pytest.PytestDeprecationWarning")  # its Parser is private; its options are not
def test_pytest_htmls_options_as_pytest_html_declares_them():
    """`virtnat audit` reads them off pytest-html's own pytest_addoption: each becomes the same
    argparse action it makes in pytest."""
    parser = Parser()
    pytest_addoption(parser)
    real = {tuple(o.names()): o.attrs() for group in parser._groups for o in group.options}
    recorded = declared_by("pytest-html", pytest_addoption)
    assert {option.flags for option in recorded} == set(real) and len(recorded) > 1
    for option in recorded:
        ours = argparse.ArgumentParser().add_argument(*option.flags, dest=option.name, **option.argparse_kwargs())
        want = real[option.flags]
        assert (ours.dest, ours.help, ours.metavar, ours.choices, ours.type, ours.nargs, ours.const) == (
            want["dest"], want["help"], want["metavar"], want["choices"], want["type"], want["nargs"], want["const"]), option.flags
        assert option.owner == "pytest-html"


def test_the_table_writes_several_flags_and_a_bar_in_a_help(monkeypatch):
    from virtnat import options
    monkeypatch.setattr(options, "OPTIONS", (options.Option(("-q", "--quiet"), "a | b", "N"),))
    assert options.table() == "| option | meaning |\n|---|---|\n| `-q N, --quiet=N` | a \\| b |\n"


def test_another_plugins_options_keep_their_type_choices_and_words():
    def addoption(parser):
        group = parser.getgroup("g", "a group")
        group.addoption("--count", type=int, metavar="N", help="how many")
        group.addoption("--mode", choices=("x", "y"), dest="the_mode")
        parser.addini("ignored", "an ini value")
    count, mode = declared_by("a-plugin", addoption)
    assert (count.flags, count.help, count.metavar, count.type, count.choices, count.name) == (
        ("--count",), "how many", "N", int, None, "count")
    assert (mode.help, mode.metavar, mode.type, mode.choices, mode.name, mode.owner) == ("", None, None, ("x", "y"), "the_mode",
                                                                                       "a-plugin")
