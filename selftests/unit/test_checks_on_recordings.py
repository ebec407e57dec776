"""Every check (all 38 ids) run on probe output recorded from the labs (selftests/data/path/,
made by its record.py: libvirt 9, libvirt 11 with each backend), healthy and under each fault
of the e2e matrix: exactly the checks the matrix names fail, with the culprit in their message."""
import pytest

from selftests.e2e.pathfaults import PATH_FAULTS
from selftests.unit.checkrun import CONTROLS, DATA, GENERATIONS, STANDING, outcomes


def test_every_check_is_run():
    assert len({c for c, _ in CONTROLS}) == len(CONTROLS) == 38


CASES = [(g, f) for g in GENERATIONS for f in PATH_FAULTS]


@pytest.mark.parametrize("generation", list(GENERATIONS))
def test_healthy_recordings_pass(generation):
    found = outcomes((DATA / generation / "healthy.txt").read_text())
    assert {c: o for c, o in found.items() if o[0] != "passed"} == STANDING[generation], found
    assert len(found) == 38 and "VM-04[virtnat-guest:vnet0]" in found


@pytest.mark.parametrize("generation, fault", CASES, ids=[f"{g}-{f.name}" for g, f in CASES])
def test_each_fault_fails_exactly_its_checks(generation, fault):
    found = outcomes((DATA / generation / f"{fault.name}.txt").read_text())
    failing = {c.split("[")[0] for c, (o, _) in found.items() if o != "passed" and found[c] != STANDING[generation].get(c)}
    expected = fault.expected(GENERATIONS[generation], bridge_nf=False)  # recorded before the probe read br_netfilter
    if fault.network_down:  # the network cannot start: everything of it fails, NET-15 names why
        assert expected <= failing, found
    else:
        assert failing == expected, found
    for check, text in fault.culprit.items():
        if check in expected:
            assert text in found[check][1], found[check]
