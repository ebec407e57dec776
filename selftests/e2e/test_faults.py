"""Done-when 2: each fault, injected into the live lab, fails its named check and leaves
HOST-01, NET-01 and every check unrelated to it passing. Each fault is undone afterwards
(never by rebuilding the lab), and the host is healthy again before the next one."""
from dataclasses import dataclass, field

import pytest

from .labhost import DETACH, PEER, REATTACH


@dataclass(frozen=True)
class Fault:
    name: str
    inject: str
    undo: str
    proof: str  # succeeds only while the fault is in place: it is read back before the audit
    fails: dict  # the named check(s): must fail -> text their message must hold
    related: dict = field(default_factory=dict)  # consequences that may fail too -> text naming the cause
    passes: frozenset = field(default_factory=frozenset)  # the document's puzzles: must still pass


BRIDGE_DEPENDENTS = {"NET-06", "NET-07", "NET-08", "NET-09", "NET-10", "NET-11", "NET-12", "NET-13", "NET-14", "NET-15",
                     "PATH-01", "PATH-02", "PATH-03", "PATH-04", "PATH-05", "VM-02"}
INFO = "virsh -r net-info default | grep -Eq"

FAULTS = [
    Fault("autostart-disabled", "virsh net-autostart --disable default", "virsh net-autostart default",
          f"{INFO} '^Autostart:[[:space:]]+no'", {"NET-03": "network 'default': autostart is off, expected on"}),
    Fault("network-destroyed", "virsh net-destroy default",
          "virsh net-start default && " + REATTACH.replace("{", "{{").replace("}", "}}"),  # every guest's tap
          f"{INFO} '^Active:[[:space:]]+no'", {"NET-02": "network 'default' is inactive, expected active"},
          dict.fromkeys(BRIDGE_DEPENDENTS | {"NET-17"}, "(NET-02)")),  # NET-17 skips: the next start runs the persistent one
    # A bridge that is down has no route: replies to guests have nowhere to go.
    Fault("bridge-admin-down", "ip link set virbr0 down", "ip link set virbr0 up",
          "ip -o link show virbr0 | grep -vq '[<,]UP[,>]'", {"NET-07": "virbr0 is administratively DOWN"},
          {**dict.fromkeys(("PATH-01", "PATH-02", "PATH-03"), "administratively DOWN, so its route is gone (NET-07)"),
           "PATH-05": "administratively DOWN: it forwards no frame between its ports (NET-07)"},
          passes=frozenset({"NET-02"})),
    # net.ipv4.conf.all.forwarding is the kernel's alias of ip_forward: HOST-07 sees it too.
    Fault("ip-forward-off", "sysctl -qw net.ipv4.ip_forward=0", "sysctl -qw net.ipv4.ip_forward=1",
          "test \"$(cat /proc/sys/net/ipv4/ip_forward)\" = 0", {"HOST-05": "net.ipv4.ip_forward is '0', expected '1'"},
          {"HOST-07": "net.ipv4.conf.all.forwarding is '0'", "PATH-03": "net.ipv4.ip_forward is '0' (HOST-05)"},
          passes=frozenset({"HOST-06"})),
    # firewalld's CleanupOnExit flushes every rule, libvirt's included: no NAT while it is down.
    Fault("firewalld-stopped", "@stop-firewalld", "@start-firewalld",
          "! firewall-cmd --state >/dev/null 2>&1", {"HOST-02": "firewalld is installed but not running"},
          {"NET-11": "HOST-02", "NET-12": "HOST-02", "NET-14": "HOST-02", "PATH-04": "(NET-11)"},
          passes=frozenset({"HOST-03"})),
    Fault("tap-detached", "ip link set {tap} nomaster", "ip link set {tap} master virbr0",
          "! ip -o link show {tap} | grep -q 'master virbr0'", {"VM-02": "is attached to no bridge, expected virbr0"}),
]


def _apply(lab, command: str) -> None:
    if command.startswith("@"):
        lab.lab(command[1:])
    else:
        lab.sh(command.format(tap=lab.tap()))


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault_fails_exactly_its_check(lab, fault):
    proof = f"({fault.proof.format(tap=lab.tap())}) && echo in-place"
    _apply(lab, fault.inject)
    try:
        before = lab.sh(proof, check=False)
        run = lab.audit()
        after = lab.sh(proof, check=False)
    finally:
        _apply(lab, fault.undo)
    assert "in-place" in before and "in-place" in after, f"{fault.name} was not in place all through the audit"
    outcomes = run.by_check()  # a VM check fails for the guest whose tap the fault took
    assert run.rc == 1, run.stdout
    for check, text in fault.fails.items():
        assert outcomes[check] == "failed", f"{check} should fail under {fault.name}: {run.check(check)}"
        assert text in run.check(check)["message"], run.check(check)
    for check in {"HOST-01", "NET-01"} | fault.passes:
        assert outcomes[check] == "passed", f"{check} should pass under {fault.name}: {run.check(check)}"
    unexpected = {c for c, o in outcomes.items() if o != "passed"} - set(fault.fails) - set(fault.related)
    assert not unexpected, f"{fault.name} also broke {sorted(unexpected)}: {run.stdout}"
    for check in set(fault.related) & run.by_outcome("failed"):
        assert fault.related[check] in run.check(check)["message"], run.check(check)
    assert not run.by_outcome("error"), run.stdout
    healthy = lab.wait_healthy()
    assert healthy.rc == 0, f"undoing {fault.name} did not restore the host: {healthy.stdout}"


def test_bridge_without_ports_is_normal_not_a_failure(lab):
    """NET-07's other half: with no port attached virbr0 has NO-CARRIER (operstate DOWN);
    that is an idle host, so the check passes with a note."""
    lab.sh(DETACH)  # both guests' taps
    try:
        # the kernel reports the carrier loss up to a second later (its link-event throttle)
        lab.sh("for i in $(seq 50); do ip link show virbr0 | grep -q NO-CARRIER && exit 0; sleep 0.1; done; exit 1")
        run = lab.audit()
    finally:
        lab.sh(REATTACH)
    net07 = run.check("NET-07")
    assert net07["outcome"] == "passed"
    assert "NO-CARRIER" in net07["message"]
    assert lab.wait_healthy().rc == 0


def test_vm_checks_skip_when_no_guest_runs(lab):
    lab.sh(f"virsh destroy virtnat-guest && virsh destroy {PEER}")
    try:
        run = lab.audit()
    finally:
        lab.sh(f"virsh start virtnat-guest && virsh start {PEER}")  # the first guest first: its tap is vnet0 again
    assert run.rc == 0, run.stdout
    vm = [c for c in run.doc["hosts"][0]["checks"] if c["id"].startswith("VM-")]
    assert [c["outcome"] for c in vm] == ["skipped"] * 4
    assert all("no running guest" in c["message"] for c in vm)
    assert run.check("NET-07")["outcome"] == "passed" and "NO-CARRIER" in run.check("NET-07")["message"]
    assert lab.wait_healthy(timeout=120).rc == 0


def test_host08s_fix_as_printed_takes_the_subnet_off_the_other_interface(lab):
    """The subnet on the lab's uplink too: HOST-08 names the address and its fix; run as printed
    on the host, the fix (and only it) makes HOST-08 pass again."""
    lab.sh("ip addr add 192.168.122.250/24 dev uplink0")
    try:
        run = lab.audit()
        host08 = run.check("HOST-08")
        assert host08["outcome"] == "failed" and "uplink0 has 192.168.122.250/24" in host08["message"]
        assert host08["remediation"] == "ip addr del 192.168.122.250/24 dev uplink0"
        lab.sh(host08["remediation"])
        assert lab.audit().check("HOST-08")["outcome"] == "passed"
    finally:
        lab.sh("ip addr del 192.168.122.250/24 dev uplink0 2>/dev/null || true")
    assert lab.wait_healthy().rc == 0
