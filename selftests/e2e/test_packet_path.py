"""Issues 7's and 23's truth: for every fault, what the lab's real guest got (its own DHCP, DNS and NAT
result, and its ping to the second guest, printed on its console) against what the suite says. A check that passes while the
guest's packets die is a false negative; one that fails while the guest is fine, a false
positive. Each fault is proven in place before the audit, undone after, and the failing
check must name the culprit table, chain and rule."""
import subprocess

import pytest

from .pathfaults import CROSS_FAULTS, PATH_FAULTS, ROAD_FAULTS, disagreements

# The firewall's faults (issue 7), the roads after it and the guests reaching each other (issue 23).
FAULTS = PATH_FAULTS + ROAD_FAULTS + CROSS_FAULTS
IDS = [f.name for f in FAULTS]


class Lab9Driver:
    """The libvirt 9 lab: iptables backend, audited locally inside its namespace."""

    backend = "iptables"

    def __init__(self, lab):
        self.lab, self.runner = lab, lab

    def sh(self, command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", "virtnat-lab", "sh", "-c", command],
                              capture_output=True, text=True, timeout=120)

    def audit(self):
        return self.lab.audit()


class Lab11Driver:
    """The libvirt 11 lab (either backend), commands in its root, audited over SSH."""

    def __init__(self, lab11):
        self.lab11, self.runner, self.backend = lab11, lab11.runner, lab11.backend

    def sh(self, command: str) -> subprocess.CompletedProcess:
        return self.lab11.in_root(command)

    def audit(self):
        return self.lab11.audit()


def _guest_ok(runner, timeout: float = 90) -> dict:
    """The guest's latest fresh round, waiting for one with everything ok."""
    truth = runner.guest_truth(timeout=timeout)
    for _ in range(6):
        if truth["dhcp"] and truth["dns"] and truth["dnstcp"] and truth["out"] and truth.get("peer") is not False:
            return truth
        truth = runner.guest_truth(timeout=timeout)
    return truth


def run_fault(host, fault):
    healthy = _guest_ok(host.runner)
    assert healthy["out"] and healthy["dns"] and healthy["dhcp"] and healthy.get("peer") is not False, \
        f"the guest is not healthy before {fault.name}: {healthy}"
    mark = host.runner.guest_mark()
    host.sh(fault.inject)
    try:
        proof = host.sh(fault.proof)
        assert proof.returncode == 0, f"{fault.name} did not take effect: {proof.stdout}{proof.stderr}"
        truth = host.runner.guest_truth(after=mark, timeout=90)
        run = host.audit()
        still = host.sh(fault.proof)  # the guest and the audit saw the same host
        assert still.returncode == 0, f"{fault.name} went away during the test: {host.sh('iptables -S; nft list tables').stdout}"
    finally:
        undo = host.sh(fault.undo)
    assert undo.returncode == 0, f"undoing {fault.name} failed: {undo.stderr}"
    outcomes = {k.split("[")[0]: v for k, v in run.outcomes().items()}
    print(f"truth {fault.name} {host.backend}: guest {truth}; PATH-05 {outcomes.get('PATH-05')}")  # shown with -rP
    problems = disagreements(truth, outcomes)
    assert not problems, f"{fault.name} on the {host.backend} backend: guest {truth}: {problems}\n{run.stdout}"
    failing = run.by_outcome("failed") | run.by_outcome("error")
    expected = fault.expected(host.backend)
    if fault.network_down:
        assert expected <= failing, run.stdout
    else:
        assert failing == expected, f"{fault.name} on {host.backend}: expected {sorted(expected)} to fail, got {sorted(failing)}\n{run.stdout}"
    for check, text in fault.culprit.items():
        if check in expected:
            assert text in run.check(check)["message"], run.check(check)
    healthy = host.runner.wait_healthy() if isinstance(host, Lab9Driver) else host.lab11.wait_healthy()
    assert healthy.rc == 0, f"undoing {fault.name} did not restore the host: {healthy.stdout}"
    return truth


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
def test_guest_and_suite_agree_on_libvirt9(lab, fault):
    run_fault(Lab9Driver(lab), fault)


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
def test_guest_and_suite_agree_on_libvirt11(lab11, fault):
    if not lab11.firewalld:
        pytest.skip("the fault matrix runs on the firewalld configurations of each backend")
    run_fault(Lab11Driver(lab11), fault)
