"""The firewall checks (NET-11, NET-12, NET-14, NET-16) on FirewallFacts made for each case:
the verdict, and the message or note a user reads."""

import pytest

from selftests.unit.checkrun import load_checks
from selftests.unit.networks import network
from virtnat.facts.model import FirewallFacts, LibvirtFacts, ProcessFacts, SystemFacts
from virtnat.facts.ruleset import Chain, Rule, Table, Verdict
from virtnat.profile import Profile

checks = load_checks("network/test_firewall.py")
one_netfilter = load_checks("network/test_one_netfilter.py")
PROFILE = Profile()
NO_FIREWALLD = Profile(require_firewalld=False)
NETWORK = network("default", True, True, True, "nat", "virbr0", True, "192.168.122.1/24")
LIBVIRT = LibvirtFacts("qemu:///system", "11.0.0", {"default": NETWORK}, (), ())
ALL_ROLES = frozenset({"input", "output", "forward_in", "forward_out"})
FIXES = []  # what the checks gave as their fix; the tests that look at it clear it first


def system(*running):
    processes = tuple(ProcessFacts(pid, comm, comm, True) for pid, comm in enumerate(running, start=1))
    return SystemFacts({}, {}, {}, True, processes, {}, None, {}, None)


WITH_FIREWALLD = system("firewalld")


def firewall(backend="iptables", masquerade=("192.168.122.0/24",), roles=ALL_ROLES, zones=None, tables=()):
    return FirewallFacts(backend, frozenset(masquerade), {"virbr0": frozenset(roles)},
                         {"virbr0": "libvirt"} if zones is None else zones, tables=tables)


def notes():
    seen = []
    return seen, seen.append


def test_masquerade_in_place_passes_with_the_backend_noted():
    seen, note = notes()
    checks.test_masquerade_is_in_place(firewall(), WITH_FIREWALLD, LIBVIRT, PROFILE, note, FIXES.append)
    assert seen == ["iptables backend"]


def test_masquerade_missing_names_what_is_masqueraded():
    fw = firewall(backend="nftables", masquerade=("10.1.0.0/16", "10.0.0.0/8"))
    with pytest.raises(AssertionError) as err:
        checks.test_masquerade_is_in_place(fw, WITH_FIREWALLD, None, PROFILE, notes()[1], FIXES.append)
    assert str(err.value).splitlines()[0] == (
        "NAT rules are missing: no masquerade for 192.168.122.0/24 (nftables backend; masqueraded: 10.0.0.0/8, 10.1.0.0/16)")


def test_masquerade_missing_without_firewalld_says_its_exit_flushed_the_rules():
    seen, note = notes()
    with pytest.raises(AssertionError) as err:
        checks.test_masquerade_is_in_place(firewall(backend=None, masquerade=()), system("libvirtd"), LIBVIRT, PROFILE, note, FIXES.append)
    where = ("no libvirt rules in iptables or nftables; firewalld is not running (HOST-02), "
             "and its exit flushes libvirt's rules")
    assert seen == [where]
    assert str(err.value).splitlines()[0] == f"NAT rules are missing: no masquerade for 192.168.122.0/24 ({where}; masqueraded: nothing)"


def test_firewalld_not_running_is_not_mentioned_when_the_profile_does_not_require_it():
    seen, note = notes()
    with pytest.raises(AssertionError) as err:
        checks.test_masquerade_is_in_place(firewall(masquerade=()), system(), LIBVIRT, NO_FIREWALLD, note, FIXES.append)
    assert seen == ["iptables backend"]
    assert "(iptables backend; masqueraded: nothing)" in str(err.value)


def test_filter_rules_in_place_pass():
    seen, note = notes()
    checks.test_filter_rules_are_in_place(firewall(), WITH_FIREWALLD, LIBVIRT, PROFILE, note, FIXES.append)
    assert seen == ["iptables backend"]
    checks.test_filter_rules_are_in_place(firewall("nftables", roles={"forward_in", "forward_out"}), WITH_FIREWALLD,
                                          LIBVIRT, PROFILE, note, FIXES.append)
    assert seen == ["iptables backend", "nftables backend"]


@pytest.mark.parametrize("backend, roles, missing", [
    ("iptables", {"forward_in", "forward_out"}, "DHCP/DNS from guests (INPUT), DHCP/DNS to guests (OUTPUT)"),
    ("iptables", {"input", "output"}, "replies to guests (FORWARD -o bridge), traffic from guests (FORWARD -i bridge)"),
    ("nftables", {"input", "output", "forward_out"}, "replies to guests (FORWARD -o bridge)"),
    ("nftables", {"forward_in"}, "traffic from guests (FORWARD -i bridge)"),
])
def test_filter_rules_missing_are_named(backend, roles, missing):
    with pytest.raises(AssertionError) as err:
        checks.test_filter_rules_are_in_place(firewall(backend, roles=roles), WITH_FIREWALLD, LIBVIRT, PROFILE, notes()[1], FIXES.append)
    assert str(err.value).splitlines()[0] == f"virbr0: rules missing for {missing} ({backend} backend)"


def test_without_libvirts_rules_every_iptables_role_is_missing():
    fw = FirewallFacts(None, frozenset(), {}, {})
    with pytest.raises(AssertionError) as err:
        checks.test_filter_rules_are_in_place(fw, WITH_FIREWALLD, LIBVIRT, PROFILE, notes()[1], FIXES.append)
    assert str(err.value).splitlines()[0] == (
        "virbr0: rules missing for DHCP/DNS from guests (INPUT), DHCP/DNS to guests (OUTPUT), replies to guests "
        "(FORWARD -o bridge), traffic from guests (FORWARD -i bridge) (no libvirt rules in iptables or nftables)")


def test_libvirt_zone_passes_and_is_skipped_without_firewalld_in_the_profile():
    checks.test_bridge_is_in_libvirt_zone(firewall(), WITH_FIREWALLD, LIBVIRT, PROFILE, FIXES.append)
    with pytest.raises(pytest.skip.Exception) as err:
        checks.test_bridge_is_in_libvirt_zone(firewall(zones={}), system(), LIBVIRT, NO_FIREWALLD, FIXES.append)
    assert str(err.value) == "the profile does not require firewalld"


def test_libvirt_zone_without_firewalld_running_is_a_failure_that_says_so():
    FIXES.clear()
    with pytest.raises(pytest.fail.Exception) as err:
        checks.test_bridge_is_in_libvirt_zone(firewall(), system("libvirtd"), LIBVIRT, PROFILE, FIXES.append)
    assert str(err.value) == "firewalld is not running (HOST-02), so virbr0 is in no zone"
    assert err.value.pytrace is False
    assert FIXES == ["systemctl start firewalld && systemctl restart libvirtd"]  # HOST-02's


@pytest.mark.parametrize("zones, message", [
    ({"virbr0": "public"}, "virbr0 is in zone 'public', expected 'libvirt'"),
    ({"eth0": "libvirt"}, "virbr0 is in zone 'none', expected 'libvirt'"),
])
def test_libvirt_zone_wrong_or_none(zones, message):
    with pytest.raises(AssertionError) as err:
        checks.test_bridge_is_in_libvirt_zone(firewall(zones=zones), WITH_FIREWALLD, LIBVIRT, PROFILE, FIXES.append)
    assert str(err.value).splitlines()[0] == message


INACTIVE = LibvirtFacts("qemu:///system", "11.0.0", {"default": network(
    "default", False, True, True, "nat", "virbr0", True, "192.168.122.1/24")}, (), ())


@pytest.mark.parametrize("check", [checks.test_masquerade_is_in_place, checks.test_filter_rules_are_in_place])
def test_an_inactive_network_fails_before_its_rules_are_looked_at(check):
    FIXES.clear()
    with pytest.raises(pytest.fail.Exception) as err:
        check(firewall(), WITH_FIREWALLD, INACTIVE, PROFILE, notes()[1], FIXES.append)
    assert str(err.value) == "network 'default' is inactive (NET-02), so nothing of it runs"
    assert FIXES == ["virsh net-start default"]  # NET-02's


def test_an_inactive_network_fails_the_zone_check():
    FIXES.clear()
    with pytest.raises(pytest.fail.Exception) as err:
        checks.test_bridge_is_in_libvirt_zone(firewall(), WITH_FIREWALLD, INACTIVE, PROFILE, FIXES.append)
    assert str(err.value) == "network 'default' is inactive (NET-02), so nothing of it runs"
    assert FIXES == ["virsh net-start default"]  # NET-02's


# NET-16

def table(source, *rules, policy="accept"):
    rules = tuple(Rule(i, (), Verdict("drop"), "-A FORWARD -j DROP") for i in range(1, rules[0] + 1)) if rules else ()
    return Table("ip", "filter", source, {"FORWARD": Chain("FORWARD", rules, "forward", "filter", 0, policy)})


class PacketPath:
    """The packet-path model's answer to whether legacy rules touch guest traffic."""

    def __init__(self, touched=(), notes=()):
        self.answer, self.calls = (list(touched), list(notes)), 0

    def legacy_touches(self):
        self.calls += 1
        return self.answer


def netfilter(*tables, path=None):
    seen, note = notes()
    path = path or PacketPath()
    one_netfilter.test_legacy_rules_leave_guests_alone(path, firewall(tables=tables), note)
    return seen, path.calls


def test_no_legacy_rules_is_nothing_to_check():
    assert netfilter(table("nftables", 3)) == ([], 0)
    assert netfilter(table("iptables-legacy"), table("nftables", 3)) == ([], 0)


def test_legacy_as_the_only_netfilter_is_noted():
    only = ["iptables-legacy is this host's only netfilter"]
    assert netfilter(table("iptables-legacy", 1)) == (only, 0)
    assert netfilter(table("iptables-legacy", policy="drop"), table("iptables-nft"), table("nftables")) == (only, 0)


def test_legacy_rules_beside_nftables_ones_that_leave_guests_alone_pass():
    path = PacketPath(notes=["legacy FORWARD: 1 rule, none matches guests"])
    found = netfilter(table("iptables-legacy", policy="drop"), table("iptables-nft", 1), path=path)
    assert found == (["legacy FORWARD: 1 rule, none matches guests",
                      "iptables-legacy rules exist but none touches guest traffic"], 1)
    assert netfilter(table("iptables-legacy", 2), table("nftables", 1)) == (
        ["iptables-legacy rules exist but none touches guest traffic"], 1)


def test_legacy_rules_that_touch_guests_fail_naming_three():
    path = PacketPath(touched=["a", "b", "c", "d"], notes=["n"])
    seen, note = notes()
    with pytest.raises(AssertionError) as err:
        one_netfilter.test_legacy_rules_leave_guests_alone(
            path, firewall(tables=(table("iptables-legacy", 1), table("nftables", 1))), note)
    assert str(err.value).splitlines()[0] == "iptables-legacy rules beside nftables ones touch guest traffic: a; b; c"
    assert seen == ["n"]
