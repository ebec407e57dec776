"""Whole audits (in-process, as test_plugin_runs) on hostile fact files: special files given or
found in a directory, files and sections past their limits, headers out of place, two files of
one host, and hostile profiles and waiver files. Each is one line where it belongs (the host's
checks ERROR, or a usage error: exit 4 and the reports), never a hang or a traceback."""
import json
import os

import pytest

import virtnat.inputs as inputs
from selftests.unit.checkrun import DATA
from selftests.unit.test_plugin_runs import Run
from virtnat.collectors.bundle import bundle_bytes
from virtnat.facts.probe import frame, split_sections

HEALTHY = DATA / "libvirt9" / "healthy.txt"
SAME = "audit each host from one file (move or remove the other)"


@pytest.fixture
def audit(pytester, no_hang):
    return lambda *args: Run(pytester, *args)


def no_traceback(run: Run) -> None:
    text = run.result.stdout.str() + run.result.stderr.str()
    assert "Traceback" not in text and "INTERNALERROR" not in text


def padded(section: str, size: int) -> str:
    """The healthy recording with size more characters in one section."""
    sections = split_sections(HEALTHY.read_text())
    rc, text = sections[section]
    sections[section] = (rc, text + "\n" + "#" * size)
    return frame(sections)


def test_past_a_limit_only_that_hosts_checks_error_with_one_line(audit, tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "SECTION_LIMIT", 100_000)
    monkeypatch.setattr(inputs, "FACTS_LIMIT", 200_000)
    site = tmp_path / "site"
    site.mkdir()
    (site / "healthy.facts").write_text(HEALTHY.read_text())
    (site / "bigsection.facts").write_text(padded("processes", 110_000))
    (site / "bigfile.facts").write_bytes(bundle_bytes("bigfile", "t", padded("processes", 60_000) + "#" * 60_000))
    run = audit(f"--facts={site}")
    no_traceback(run)
    assert run.ret == 1
    assert {c["outcome"] for c in run.checks("healthy").values()} == {"passed", "skipped"}
    says = {
        "bigsection": f"{site}/bigsection.facts: the probe's output holds section processes of more than 100000 bytes, the"
                      " limit of one section: not a host's facts",
        "bigfile": f"{site}/bigfile.facts: larger than 200000 bytes, the limit of a fact file (one host's probe output)",
    }
    for host, message in says.items():
        assert {(c["outcome"], c["message"]) for c in run.checks(host).values()} == {("error", message)}
        assert f"not checked: {message}" in run.result.stdout.str()


def test_a_header_out_of_place_makes_that_hosts_checks_error(audit, tmp_path):
    moved = tmp_path / "hv1.facts"
    first, _, body = bundle_bytes("hv1", "t", HEALTHY.read_text()).partition(b"\n")
    moved.write_bytes(b" " + first + b"\n" + body.replace(b"9.0.0", b"9.0.1", 1))  # indented: its checksum unchecked
    run = audit(f"--facts={moved},{HEALTHY}")
    no_traceback(run)
    message = f"{moved}: a bundle header that is not at the start of the file: neither a bundle nor the probe's output"
    assert {(c["outcome"], c["message"]) for c in run.checks("hv1").values()} == {("error", message)}
    assert run.checks("healthy")["HOST-01"]["outcome"] == "passed"


def test_a_directory_names_what_it_does_not_audit_in_the_terminal_and_the_json(audit, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "healthy.facts").write_text(HEALTHY.read_text())
    os.mkfifo(site / "hv2.facts")
    (site / "hv3.facts").symlink_to(tmp_path / "moved-away.facts")
    (site / "hv4.facts").symlink_to("/dev/zero")
    (site / "archive").mkdir()
    os.mkfifo(site / ".hidden")
    run = audit(f"--facts={site}")
    no_traceback(run)
    assert run.ret == 0 and [h["host"] for h in run.document["hosts"]] == ["healthy"]
    lines = [f"--facts: {site}/archive is not audited: a directory, not a regular file",
             f"--facts: {site}/hv2.facts is not audited: a FIFO, not a regular file",
             f"--facts: {site}/hv3.facts is not audited: a symbolic link to nothing",
             f"--facts: {site}/hv4.facts is not audited: a symbolic link to a character device, not a regular file"]
    assert run.document["not_audited"] == lines
    assert [line for line in run.result.stdout.lines if "is not audited" in line] == [f"virtnat: {line}" for line in lines]
    again = audit(f"--facts={HEALTHY}")  # into the same directory: its latest.json is this run's
    assert "not_audited" not in json.loads((again.dir / "latest.json").read_text())  # only when there is one


@pytest.mark.parametrize("given, what", [("/dev/zero", "a character device"), ("FIFO", "a FIFO")])
def test_a_special_file_given_to_facts_is_a_usage_error_at_once(audit, tmp_path, given, what):
    if given == "FIFO":
        given = tmp_path / "hv1.facts"
        os.mkfifo(given)
    run = audit(f"--facts={given}")
    no_traceback(run)
    assert run.ret == 4 and run.document["hosts"] == []
    assert run.document["error"] == f"--facts: {given}: {what}, not a regular file: give a bundle or a directory of them"
    assert ".html" in run.by_suffix and ".xml" in run.by_suffix


def test_two_files_of_one_host_are_a_usage_error_naming_both(audit, tmp_path):
    """A forged bundle that claims the real host's name, whatever the order of the files."""
    real, forged = tmp_path / "hv1.facts", tmp_path / "aaa.facts"
    real.write_bytes(bundle_bytes("hv1", "t", HEALTHY.read_text()))
    forged.write_bytes(bundle_bytes("hv1", "t", HEALTHY.read_text()))
    run = audit(f"--facts={tmp_path}")
    no_traceback(run)
    assert run.ret == 4 and run.document["hosts"] == []
    assert run.document["error"] == f"--facts: {forged} and {real} both hold host 'hv1': {SAME}"
    run.result.stdout.fnmatch_lines([f"ERROR: --facts: {forged} and {real} both hold host 'hv1': *"])


@pytest.mark.parametrize("option", ["--profile", "--waivers"])
@pytest.mark.parametrize("content, says", [
    ("FIFO", "a FIFO, not a regular file: give the {label} file itself"),
    ("a = " + "[" * 3000 + "]" * 3000, "nested too deeply (more than 32 levels of tables and arrays)"),
    ("a" + ".a" * 60 + " = 1", "nested too deeply (more than 32 levels of tables and arrays)"),
    ("# " + "x" * (1024 * 1024), "larger than 1 MiB, the limit of a {label} file: give the {label} file itself"),
])
def test_a_hostile_profile_or_waiver_file_is_a_usage_error_in_one_line(audit, tmp_path, option, content, says):
    path = tmp_path / "site.toml"
    if content == "FIFO":
        os.mkfifo(path)
    else:
        path.write_text(content)
    label = option.removeprefix("--")
    run = audit(f"--facts={HEALTHY}", f"{option}={path}")
    no_traceback(run)
    assert run.ret == 4
    assert run.document["error"] == f"{label} {path}: {says.format(label=label)}"
    assert json.loads((run.dir / "latest.json").read_text())["error"] == run.document["error"]
