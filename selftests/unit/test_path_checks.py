"""PATH-01..04 (tests/path) on facts built by hand: they report the model's verdict, its note,
its fix and its evidence, and say why when there is no running network or bridge to judge."""
import pytest

from selftests.unit.checkrun import CONTROLS
from selftests.unit.networks import network
from virtnat.facts.model import DEFAULT_RULES, LibvirtFacts, LinkFacts, PolicyRule, RouteFacts
from virtnat.facts.ruleset_nft import tables_from_nft
from virtnat.path.model import PathModel, restart
from virtnat.profile import Profile

PATH = {check: fn for check, fn in CONTROLS if check.startswith("PATH-")}
BRIDGE = {"virbr0": LinkFacts("virbr0", 6, "bridge", True, "UP", "52:54:00:73:1a:cf", addresses=("192.168.122.1/24",))}
ROUTES = (RouteFacts("0.0.0.0/0", "uplink0", "10.213.2.1"), RouteFacts("192.168.122.0/24", "virbr0"))
RULES = (DEFAULT_RULES[0], PolicyRule(100, "lookup", "vpn", unknown=("l3mdev",)), *DEFAULT_RULES[1:])
ASSUMED = "assumed: `100: from all l3mdev lookup vpn`: l3mdev is not modelled"
RESTART = restart("default", "virbr0")


def libvirt(active=True):
    facts = network("default", active, True, True, "nat", "virbr0", True, "192.168.122.1/24")
    return LibvirtFacts("qemu:///system", "11.0.0", {"default": facts}, (), ())


def libvirt_drops_everything() -> PathModel:
    """libvirt's own table with a drop policy on every filter hook (as a broken libvirt would leave it)."""
    objects = [{"table": {"family": "inet", "name": "libvirt_network"}}]
    objects += [{"chain": {"family": "inet", "table": "libvirt_network", "name": f"guest_{hook}", "type": "filter",
                           "hook": hook, "prio": 0, "policy": "drop"}} for hook in ("input", "forward", "output")]
    return PathModel(tuple(tables_from_nft(objects)), ROUTES, BRIDGE, "virbr0", "192.168.122.1/24", "192.168.122.2", RULES)


def run(check, packet_path, links=BRIDGE, libvirt_or_none=None):
    """(what the check raised, or None; notes, fixes, evidence it handed over)."""
    said = {"note": [], "fix": [], "evidence": []}
    try:
        PATH[check](packet_path=packet_path, links=links, libvirt_or_none=libvirt_or_none, profile=Profile(),
                    note=said["note"].append, fix=said["fix"].append, evidence=said["evidence"].append)
        raised = None
    except (AssertionError, pytest.fail.Exception) as exc:
        raised = str(exc).splitlines()[0]
    return raised, said


def test_every_path_check_is_here():
    assert sorted(PATH) == ["PATH-01", "PATH-02", "PATH-03", "PATH-04", "PATH-05"]


def masquerading() -> PathModel:
    """libvirt's nat table alone: everything accepted and masqueraded."""
    objects = [{"table": {"family": "ip", "name": "libvirt_network"}},
               {"chain": {"family": "ip", "table": "libvirt_network", "name": "guest_nat", "type": "nat",
                          "hook": "postrouting", "prio": 100, "policy": "accept"}},
               {"rule": {"family": "ip", "table": "libvirt_network", "chain": "guest_nat", "handle": 4,
                         "expr": [{"masquerade": None}]}}]
    return PathModel(tuple(tables_from_nft(objects)), ROUTES, BRIDGE, "virbr0", "192.168.122.1/24", "192.168.122.2")


IN, OUT = "table inet libvirt_network chain guest_input", "table inet libvirt_network chain guest_output"


@pytest.mark.parametrize("check, method, failure", [
    ("PATH-01", "dhcp", f"a guest's DHCP request (udp 67): dropped by {IN}: policy drop (libvirt); "
                        f"the host's DHCP reply (udp 68): dropped by {OUT}: policy drop (libvirt)"),
    ("PATH-02", "dns", f"a guest's DNS question (udp 53), a guest's DNS question (tcp 53): dropped by {IN}: policy drop "
                       f"(libvirt); the host's DNS answer (udp 53), the host's DNS answer (tcp 53): dropped by {OUT}: "
                       "policy drop (libvirt)"),
    ("PATH-03", "forwarding", "guest traffic to the outside (icmp), guest traffic to the outside (tcp 443), guest traffic to the outside "
                "(udp 53), replies to guests (icmp), replies to guests (tcp 443), replies to guests (udp 53): dropped by table "
                "inet libvirt_network chain guest_forward: policy drop (libvirt)"),
])
def test_a_drop_is_reported_with_its_fix_note_and_evidence(check, method, failure):
    model = libvirt_drops_everything()
    raised, said = run(check, model, libvirt_or_none=libvirt())
    assert raised == failure
    assert said["fix"] == [RESTART]
    assert said["note"] == [ASSUMED]
    assert said["evidence"] == ["\n".join(getattr(model, method)("default").evidence)]


def test_the_masquerade_check_leaves_dropped_packets_to_path_03():
    raised, said = run("PATH-04", libvirt_drops_everything(), libvirt_or_none=libvirt())
    assert raised is None and said["fix"] == []
    assert said["note"] == [ASSUMED]
    assert said["evidence"][0].splitlines()[-1] == "  => dropped by table inet libvirt_network chain guest_forward: policy drop"


@pytest.mark.parametrize("check", ["PATH-01", "PATH-02", "PATH-03", "PATH-04", "PATH-05"])
def test_without_a_running_network_or_its_bridge_the_check_says_why(check):
    healthy = masquerading()
    raised, said = run(check, healthy, libvirt_or_none=libvirt())
    assert (raised, said["note"], said["fix"], len(said["evidence"])) == (None, [], [], 1)
    assert run(check, healthy)[0] is None  # libvirt out of reach: the kernel's facts are judged all the same
    assert run(check, healthy, libvirt_or_none=libvirt(active=False))[0] == \
        "network 'default' is inactive (NET-02), so nothing of it runs"
    assert run(check, healthy, links={}, libvirt_or_none=libvirt())[0] == \
        "virbr0 does not exist: network 'default' is active but its bridge is gone"
    assert run(check, healthy, links={})[0] == "virbr0 does not exist: libvirt cannot be reached (HOST-01)"


@pytest.mark.parametrize("check", ["PATH-01", "PATH-02", "PATH-03", "PATH-04", "PATH-05"])
def test_without_a_running_network_or_its_bridge_the_fix_is_the_causes(check):
    healthy = masquerading()
    assert run(check, healthy, libvirt_or_none=libvirt(active=False))[1]["fix"] == ["virsh net-start default"]  # NET-02's
    assert run(check, healthy, links={}, libvirt_or_none=libvirt())[1]["fix"] == [RESTART]
    assert run(check, healthy, links={})[1]["fix"] == []  # HOST-01's failure says why; the marker stays
