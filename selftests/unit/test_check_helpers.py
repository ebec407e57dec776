"""What checks share (virtnat.checks) and the fixtures' pure helpers (virtnat.fixtures): the
exact one-line failures a user reads when a root fact is missing."""
from types import SimpleNamespace

import pytest

from selftests.unit.networks import network
from virtnat.checks import (
    bridge_link,
    defined_network,
    network_daemon_name,
    network_dnsmasq,
    report_outcome,
    running_network,
)
from virtnat.errors import FactError
from virtnat.facts.model import (
    DEFAULT_RULES,
    GuestNic,
    LibvirtFacts,
    LinkFacts,
    PolicyRule,
    ProcessFacts,
    RouteFacts,
    SystemFacts,
    UnitFacts,
    UnitsFacts,
)
from virtnat.fixtures import (
    EVIDENCE,
    FIX,
    Findings,
    Unavailable,
    _facts_or_error,
    guest_params,
    path_model,
    units_missing,
)
from virtnat.path.model import Outcome
from virtnat.profile import Profile

PROFILE = Profile()
ACTIVE = network("default", True, True, True, "nat", "virbr0", True, "192.168.122.1/24")
INACTIVE = network("default", False, True, True, "nat", "virbr0", True, "192.168.122.1/24")
BRIDGE = LinkFacts("virbr0", 3, "bridge", True, "UP", "52:54:00:00:00:01")


def libvirt(*networks, nics=()):
    return LibvirtFacts("qemu:///system", "9.0.0", {n.name: n for n in networks}, tuple(nics), ())


def failure(fn, *args) -> str:
    with pytest.raises(pytest.fail.Exception) as err:
        fn(*args)
    assert err.value.pytrace is False
    return err.value.msg


# -- checks.py ---------------------------------------------------------------------------------

def test_defined_network_or_the_networks_there_are():
    assert defined_network(libvirt(ACTIVE), PROFILE) is ACTIVE
    other = network("zeta", True, True, True, "nat", "virbr1", True, None)
    alpha = network("alpha", True, True, True, "nat", "virbr2", True, None)
    assert failure(defined_network, libvirt(other, alpha), PROFILE) == \
        "network 'default' is not defined (NET-01; defined networks: alpha, zeta)"
    assert failure(defined_network, libvirt(), PROFILE) == "network 'default' is not defined (NET-01; defined networks: none)"


def test_bridge_link_or_why_it_is_missing():
    assert bridge_link({"virbr0": BRIDGE}, None, PROFILE) is BRIDGE
    why = {None: "libvirt cannot be reached (HOST-01)", "undefined": "network 'default' is not defined (NET-01)",
           "inactive": "network 'default' is inactive (NET-02)", "active": "network 'default' is active but its bridge is gone"}
    states = {None: None, "undefined": libvirt(), "inactive": libvirt(INACTIVE), "active": libvirt(ACTIVE)}
    for state, facts in states.items():
        assert failure(bridge_link, {"virbr1": BRIDGE}, facts, PROFILE) == f"virbr0 does not exist: {why[state]}"


def test_running_network():
    assert running_network(None, PROFILE) is None
    assert running_network(libvirt(ACTIVE), PROFILE) is ACTIVE
    assert failure(running_network, libvirt(INACTIVE), PROFILE) == "network 'default' is inactive (NET-02), so nothing of it runs"
    assert "is not defined" in failure(running_network, libvirt(), PROFILE)


def proc(pid, cmdline, uid=None, exe=None, comm="dnsmasq"):
    return ProcessFacts(pid, comm, cmdline, True, uid=uid, exe=exe)


CONF = "/usr/sbin/dnsmasq --conf-file=/var/lib/libvirt/dnsmasq/default.conf --leasefile-ro"


def system_of(*processes):
    return SystemFacts({}, {}, {}, True, tuple(processes), {}, None, {}, None)


def test_network_dnsmasq_without_owners_is_every_named_one():
    named = (proc(1, CONF), proc(2, CONF))
    others = (proc(3, "/usr/sbin/dnsmasq --conf-file=/etc/dnsmasq.conf"), proc(4, "dnsmasq /default.conf"),
              proc(5, CONF, comm="sh"), ProcessFacts(6, "dnsmasq", CONF, False))
    assert network_dnsmasq(system_of(*named, *others), PROFILE) == (named, None)
    assert network_dnsmasq(system_of(*others), PROFILE) == ((), None)


def test_network_dnsmasq_is_the_root_ones_of_a_dnsmasq_executable():
    root = proc(1, CONF, 0, "/usr/sbin/dnsmasq (deleted)")
    nobody = proc(2, CONF, 65534, "/usr/sbin/dnsmasq")
    fake = proc(3, CONF, 0, "/usr/bin/python3")
    assert network_dnsmasq(system_of(root, nobody, fake), PROFILE) == ((root, nobody), None)
    assert network_dnsmasq(system_of(proc(4, CONF), root), PROFILE) == ((root,), None)


def test_look_alike_dnsmasq_is_named_with_its_owners():
    user = proc(2, CONF, 1000, "/usr/sbin/dnsmasq")
    fake = proc(3, CONF, 0, "/tmp/x/python3")
    unknown = proc(4, CONF, 1000)
    assert network_dnsmasq(system_of(user, fake, unknown), PROFILE) == ((), (
        "processes named dnsmasq with its config run, but none as root from a dnsmasq executable "
        "(pid 2 uid 1000 /usr/sbin/dnsmasq, pid 3 uid 0 /tmp/x/python3, pid 4 uid 1000 ?): not libvirt's"))


def test_report_outcome_hands_over_everything():
    seen = []
    record = lambda what: lambda text: seen.append((what, text))  # noqa: E731
    outcome = Outcome(notes=["n1", "n2", "n1"], fixes=["f1", "f2"], evidence=["e1", "e2"])
    report_outcome(outcome, record("note"), record("fix"), record("evidence"))
    assert seen == [("evidence", "e1\ne2"), ("note", "n1; n2"), ("fix", outcome.fix)]
    seen.clear()
    with pytest.raises(AssertionError) as err:
        report_outcome(Outcome(failure="dropped in FORWARD"), record("note"), record("fix"), record("evidence"))
    assert str(err.value).splitlines()[0] == "dropped in FORWARD"
    assert seen == [("evidence", "")]


# -- fixtures.py -------------------------------------------------------------------------------

def test_unavailable_says_which_kind():
    skip, error = Unavailable("no guest", skip=True), Unavailable("boom", skip=False)
    assert (repr(skip), skip.reason, skip.skip) == ("no-guest", "no guest", True)
    assert (repr(error), error.reason, error.skip) == ("no-facts", "boom", False)


def target(read):
    return SimpleNamespace(facts=SimpleNamespace(libvirt=read))


def test_guest_params_are_the_networks_interfaces():
    nics = [GuestNic("a", "52:54:00:00:00:01", "vnet0", "default", None),
            GuestNic("b", "52:54:00:00:00:02", "vnet1", None, "virbr0"),
            GuestNic("c", "52:54:00:00:00:03", "vnet2", "other", "virbr0"),
            GuestNic("d", "52:54:00:00:00:04", "vnet3", None, "br0")]
    assert guest_params(target(lambda: libvirt(ACTIVE, nics=nics)), PROFILE) == nics[:2]


def test_guest_params_without_guests_or_libvirt():
    (none,) = guest_params(target(lambda: libvirt(ACTIVE)), PROFILE)
    assert (none.reason, none.skip) == ("no running guest has an interface on network 'default'", True)

    def unreachable():
        raise FactError("cannot connect to libvirt")
    (error,) = guest_params(target(unreachable), PROFILE)
    assert (error.reason, error.skip) == ("cannot connect to libvirt", False)


def test_facts_or_error_is_one_line():
    assert _facts_or_error(lambda: 42) == 42

    def broken():
        raise FactError("ip: not found")
    assert failure(_facts_or_error, broken) == "ip: not found"


def test_findings_move_onto_the_check_and_start_again_empty():
    findings = Findings()
    findings.note("iptables backend")
    findings.fix("virsh net-start default")
    findings.note("STP on")
    findings.evidence("walk")
    item = SimpleNamespace(stash={}, user_properties=[("id", "NET-07")])
    findings.move_to(item)
    assert item.stash == {FIX: "virsh net-start default", EVIDENCE: "walk"}
    assert item.user_properties == [("id", "NET-07"), ("note", "iptables backend"), ("note", "STP on")]
    later = SimpleNamespace(stash={}, user_properties=[])
    findings.move_to(later)
    assert later.stash == {} and later.user_properties == []


def replace_ns(namespace, **changes):
    return SimpleNamespace(**{**vars(namespace), **changes})


def test_path_model_from_the_hosts_facts():
    routes = (RouteFacts("0.0.0.0/0", "eth0", "10.0.0.1"),)
    rules = (DEFAULT_RULES[0], PolicyRule(100, "lookup", "7"), *DEFAULT_RULES[1:])
    ours = ProcessFacts(9, "dnsmasq", "/usr/sbin/dnsmasq --conf-file=/var/lib/libvirt/dnsmasq/nat9.conf", True, uid=107)
    other = ProcessFacts(10, "dnsmasq", "/usr/sbin/dnsmasq --conf-file=/var/lib/libvirt/dnsmasq/default.conf", True, uid=108)
    system = SimpleNamespace(firewall=SimpleNamespace(tables=()), routes=routes, policy_rules=rules,
                             sysctl_runtime={"net.ipv4.ip_forward": "0"}, forwarding={"br9": "0"}.get,
                             running=lambda *names: (ours, other) if names == ("dnsmasq",) else (), firewall_files="files")
    links = {"virbr0": BRIDGE}
    profile = Profile(network="nat9", bridge="br9", gateway="10.9.0.1/16", dhcp_start="10.9.0.7")
    model = path_model(system, links, profile)
    assert (model.tables, model.routes, model.links, model.policy_rules, model.ip_forward, model.local_uid) == \
        ((), routes, links, rules, "0", 107)
    assert model.files == "files"  # who keeps rules past a boot, for the fixes that last
    assert (model.forwarding_of("br9"), model.forwarding_of("eth0")) == ("0", None)
    assert (model.net.bridge, model.net.gateway, model.net.subnet, model.net.guest, model.net.uplink) == \
        ("br9", "10.9.0.1", "10.9.0.0/16", "10.9.0.7", "eth0")
    bare = replace_ns(system, policy_rules=(), sysctl_runtime={}, running=lambda *names: (ours, ours))
    model = path_model(bare, links, profile)
    assert (model.ip_forward, model.policy_rules, model.local_uid) == (None, DEFAULT_RULES, None)  # two dnsmasqs: whose?


def _system(units=None, **binaries):
    """Facts with these units (name -> enablement), or none, and these binaries installed."""
    held = None if units is None else UnitsFacts(True, True, {n: UnitFacts(n, state, "loaded", None, None) for n, state in units.items()})
    return SimpleNamespace(units=held, binaries={name: f"/usr/sbin/{name}" for name in binaries})


@pytest.mark.parametrize("units, binaries, daemon", [
    ({"libvirtd.service": "enabled", "virtnetworkd.service": "enabled"}, ("virtnetworkd",), "libvirtd"),
    ({"libvirtd.service": "disabled", "virtnetworkd.service": "enabled"}, ("libvirtd", "virtnetworkd"), "virtnetworkd"),
    ({"libvirtd.service": "disabled", "virtnetworkd.service": "disabled"}, ("virtnetworkd",), "virtnetworkd"),
    (None, ("libvirtd", "virtnetworkd"), "libvirtd"),  # an older probe's facts: what is installed
    (None, (), "libvirtd"),
])
def test_the_network_daemon_is_the_one_enabled_at_boot_else_the_one_installed(units, binaries, daemon):
    assert network_daemon_name(_system(units, **dict.fromkeys(binaries))) == daemon


def test_missing_units_are_said_in_one_line_each():
    assert units_missing(_system()) == "the facts hold no units section (an older probe's output): collect them again"
    partial = SimpleNamespace(units=UnitsFacts(True, True, {}, complete=False))
    assert units_missing(partial) == \
        "the facts hold firewalld.service's enablement alone (an older probe's output): collect them again"
    assert units_missing(_system({})) is None
