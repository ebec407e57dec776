"""Corrupted and truncated probe output, fuzzed from the lab recordings: every fact kind either
parses or fails with one FactError line, and every check on what parsed passes, fails or skips
(never a Python error). Seeded, so a failure names the case that reproduces it."""
import os
import random
from pathlib import Path

import pytest

from selftests.unit import probe_edits as e
from selftests.unit.checkrun import DATA, GENERATIONS, run_checks
from virtnat.collectors.bundle import BundleRun
from virtnat.collectors.command import ProbeLibvirtSource, ProbeLinkSource, ProbeSystemSource
from virtnat.errors import FactError
from virtnat.facts.probe import frame, split_sections

RECORDINGS = sorted(p for g in GENERATIONS for p in (DATA / g).glob("*.txt"))
CASES = int(os.environ.get("VIRTNAT_FUZZ_CASES", 100))  # more, to search: VIRTNAT_FUZZ_CASES=5000


# Names a hostile host gives its guest, its tap or a firewall table: shell metacharacters, a
# leading dash, control characters (an escape sequence, a newline that forges a line), a quote.
HOSTILE_NAMES = ["x;touch PWNED;#", "$(touch PWNED)", "`id`", "a'b", "-rf", "n\x1b[2Jm", "n\nHOST-01 PASSED", "é\u202eq",
                 'q"uote', "*"]


def _rename(text: str, rng: random.Random) -> str:
    """The lab guest, its tap or the host's nft table `filter` (where the recording has them)
    renamed to a hostile name: every fact kind still parses or fails in one line."""
    name = rng.choice(HOSTILE_NAMES)
    if "<name>virtnat-guest</name>" in text and rng.random() < 0.4:
        return e.rename_guest(text, "virtnat-guest", name)
    if rng.random() < 0.5:
        try:
            return e.rename_nft_table(text, "filter", name)
        except (AssertionError, ValueError, KeyError):  # no nft section, or none of that name
            pass
    return e.rename_link(text, "vnet0", name) if '"vnet0"' in text else text


def _corrupt(text: str, rng: random.Random) -> str:
    """One of: a cut at any byte, flipped bytes in section bodies, lines dropped or repeated
    inside sections, a section's body swapped for another's (the framing kept intact), or a name
    a host gave made hostile."""
    how = rng.choice(["cut", "flip", "drop", "repeat", "swap", "cut-body", "rename"])
    if how == "rename":
        return _rename(text, rng)
    if how == "cut":
        return text[:rng.randrange(len(text))]
    sections = split_sections(text)
    names = list(sections)
    if how == "swap":
        a, b = rng.sample(names, 2)
        sections[a], sections[b] = sections[b], sections[a]
        return frame(sections)
    name = rng.choice(names)
    rc, body = sections[name]
    if how == "flip" and body:
        chars = list(body)
        for _ in range(rng.randint(1, 8)):
            chars[rng.randrange(len(chars))] = rng.choice('{}[]",:\n0 @x\x00\\é')
        body = "".join(chars)
    elif how == "cut-body":
        body = body[:rng.randrange(len(body) + 1)]
    else:
        lines = body.splitlines() or [""]
        i = rng.randrange(len(lines))
        lines = lines[:i] + lines[i + 1:] if how == "drop" else lines[:i] + [lines[i]] * 3 + lines[i:]
        body = "\n".join(lines)
    sections[name] = (rc, body)
    return frame(sections)


def _facts(path: Path):
    """Each fact kind of the bundle: its value, or the FactError it raised (nothing else)."""
    run = BundleRun(path, "fuzzed")
    found = {}
    for kind, source in (("libvirt", ProbeLibvirtSource(run, "qemu:///system")), ("links", ProbeLinkSource(run)),
                         ("system", ProbeSystemSource(run))):
        try:
            found[kind] = source.collect()
        except FactError as exc:
            assert str(exc) and "\n" not in str(exc).strip(), repr(exc)
            found[kind] = exc
    return found


def _run_checks(found: dict) -> int:
    """Run every check on the facts that parsed (checkrun raises whatever a check raises beyond
    its outcomes); return how many got past their fixtures."""
    system, links, libvirt = found["system"], found["links"], found["libvirt"]
    if isinstance(system, FactError) or isinstance(links, FactError):
        return 0
    results = run_checks(system, links, libvirt)
    return sum(outcome != "error" for outcome, _ in results.values())


@pytest.mark.parametrize("seed", range(CASES))
def test_corrupted_output_is_one_line_or_checked(tmp_path, seed):
    rng = random.Random(seed)
    recording = rng.choice(RECORDINGS)
    path = tmp_path / "hv.txt"
    path.write_text(_corrupt(recording.read_text(), rng))
    _run_checks(_facts(path))


def test_hostile_names_reach_the_checks(tmp_path):
    """The rename corruption is no framing error: the checks run on the renamed facts."""
    reached = renamed = 0
    for seed in range(60):
        rng = random.Random(seed)
        recording = rng.choice(RECORDINGS).read_text()
        text = _rename(recording, rng)
        renamed += text != recording
        path = tmp_path / f"hv{seed}.txt"
        path.write_text(text)
        reached += _run_checks(_facts(path)) > 0
    assert renamed >= 30 and reached >= 30


def test_the_fuzz_reaches_the_checks(tmp_path):
    """Most corruptions leave the framing intact: the checks (which run once the system facts and
    the links parse, as in _run_checks) must see many of them."""
    reached = 0
    for seed in range(40):
        rng = random.Random(seed)
        path = tmp_path / f"hv{seed}.txt"
        path.write_text(_corrupt(rng.choice(RECORDINGS).read_text(), rng))
        found = _facts(path)
        reached += not isinstance(found["system"], FactError) and not isinstance(found["links"], FactError)
    assert reached >= 15
