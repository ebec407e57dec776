"""HOST-01..07 run on small facts: each verdict, skip and message a user reads."""
from dataclasses import replace
from types import SimpleNamespace

import pytest

from selftests.unit.checkrun import load_checks
from virtnat.checks import NotChecked
from virtnat.collectors.libvirt_api import connection_error
from virtnat.errors import FactError, NotServed
from virtnat.facts.model import LibvirtFacts, ProcessFacts, RouteFacts, SystemFacts, UnitFacts, UnitsFacts
from virtnat.profile import Profile





daemons = load_checks("host/test_daemons.py")
forwarding = load_checks("host/test_forwarding.py")
PROFILE = Profile()
NOT_AT_BOOT = ("after a reboot firewalld does not run; the network starts with libvirt's own firewall rules alone, "
               "virbr0 in no firewalld zone")
UNTIL_LIBVIRT = " until libvirt starts a NAT network, which turns it on"
LAX = Profile(require_firewalld=False, require_ipv6_forwarding=False)
ALL = {"dnsmasq": "/usr/sbin/dnsmasq", "iptables": "/usr/sbin/iptables", "nft": "/usr/sbin/nft", "firewalld": "/usr/sbin/firewalld",
       "virtnetworkd": "/usr/sbin/virtnetworkd", "systemctl": "/usr/bin/systemctl"}


def NO_FIX(command):
    pytest.fail(f"unexpected fix: {command}")


FIXES = []  # what the checks gave as their fix; a test that reads it clears it first
DEBIAN_DRIVER = "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_network.so"
FORWARDING = {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.forwarding": "1", "net.ipv6.conf.all.forwarding": "1"}


def system(processes=(), binaries=ALL, driver=None, unit="enabled", runtime=FORWARDING, persisted=FORWARDING,
           sources=None, conf_at_boot=True, unread=None):
    procs = tuple(ProcessFacts(pid, comm, comm, same) for pid, comm, same in processes)
    units = {} if unit is None else {"firewalld.service": UnitFacts("firewalld.service", unit, None, None, None)}
    return SystemFacts(dict(runtime), dict(persisted), sources or {}, conf_at_boot, procs, dict(binaries), driver, None,
                       sysctl_unread=unread or {}, units=UnitsFacts(False, unit != "no systemctl", units))


def fails(check, *args) -> str:
    with pytest.raises(AssertionError) as err:
        check(*args)
    return str(err.value).splitlines()[0]


def not_checked(check, *args) -> str:
    with pytest.raises(NotChecked) as err:
        check(*args)
    return err.value.msg


def skips(check, *args) -> str:
    with pytest.raises(pytest.skip.Exception) as err:
        check(*args)
    return err.value.msg


def test_host01_notes_version_uri_and_daemons():
    facts = LibvirtFacts("qemu:///system", "11.3.0", {}, (), ())
    target = SimpleNamespace(facts=SimpleNamespace(libvirt=lambda: facts))
    seen = []
    running = system([(1, "virtqemud", True), (2, "libvirtd", True), (3, "virtqemud", True), (4, "virtnetworkd", False),
                      (5, "dnsmasq", True)])
    modular = system([(1, "virtnetworkd", True), (2, "virtqemud", True)])
    daemons.test_libvirt_daemon_serves_system_uri(target, running, seen.append, NO_FIX)
    daemons.test_libvirt_daemon_serves_system_uri(target, system(), seen.append, NO_FIX)
    daemons.test_libvirt_daemon_serves_system_uri(target, modular, seen.append, NO_FIX)
    assert seen == ["libvirt 11.3.0 at qemu:///system (libvirtd, virtqemud)",
                    "libvirt 11.3.0 at qemu:///system (daemon process not seen)",
                    "libvirt 11.3.0 at qemu:///system (virtnetworkd, virtqemud)"]


def test_host01_fails_with_the_reason_libvirt_cannot_be_read():
    def unreachable():
        raise NotServed("cannot connect to libvirt at qemu:///system: refused")
    target = SimpleNamespace(facts=SimpleNamespace(libvirt=unreachable))
    fixes = []
    with pytest.raises(pytest.fail.Exception) as err:
        daemons.test_libvirt_daemon_serves_system_uri(target, system(), lambda _: None, fixes.append)
    assert (err.value.msg, err.value.pytrace) == ("cannot connect to libvirt at qemu:///system: refused", False)
    assert fixes == ["systemctl enable --now virtqemud.socket virtnetworkd.socket"]  # the modular daemons it has


@pytest.mark.parametrize("binaries, driver, command", [
    ({"libvirtd": "/usr/sbin/libvirtd"}, None, "systemctl enable --now libvirtd"),
    ({"virtqemud": "/usr/sbin/virtqemud"}, None, "systemctl enable --now virtqemud.socket virtnetworkd.socket"),
    ({}, DEBIAN_DRIVER, "apt-get install libvirt-daemon-system"),
    ({}, None, ("if command -v apt-get >/dev/null; then apt-get install libvirt-daemon-system; elif command -v dnf >/dev/null; "
                "then dnf install libvirt; else pacman -S --needed libvirt; fi")),
])
def test_host01_fix_starts_the_daemons_the_host_has_or_installs_them(binaries, driver, command):
    def unreachable():
        raise NotServed("cannot connect to libvirt at qemu:///system: no such file")
    fixes = []
    with pytest.raises(pytest.fail.Exception):
        daemons.test_libvirt_daemon_serves_system_uri(SimpleNamespace(facts=SimpleNamespace(libvirt=unreachable)),
                                                      system(binaries=binaries, driver=driver), NO_FIX, fixes.append)
    assert fixes == [command]


def test_host01_fix_starts_the_sockets_that_do_not_listen():
    fixes = []
    for sockets in (("active", "inactive"), ("inactive", "inactive")):
        facts = LibvirtFacts("qemu:///system", "11.3.0", {}, (), (), stopped=(("virtqemud", "inactive", sockets[0]),
                                                                             ("virtnetworkd", "inactive", sockets[1])))
        assert fails(daemons.test_libvirt_daemon_serves_system_uri, SimpleNamespace(facts=SimpleNamespace(libvirt=lambda facts=facts: facts)),
                     system(), NO_FIX, fixes.append).startswith("no libvirt daemon runs and no socket starts one")
    assert fixes == ["systemctl enable --now virtnetworkd.socket", "systemctl enable --now virtqemud.socket virtnetworkd.socket"]


NOT_SERVED = [connection_error("qemu:///system", "Failed to connect socket to '/run/libvirt/libvirt-sock': No such file or directory"),
              connection_error("qemu:///system", "Connection refused"), NotServed("libvirt at qemu:///system did not answer within 5 s")]
NOT_READ = [connection_error("qemu:///system", "authentication unavailable: no polkit agent available to authenticate"),
            connection_error("qemu:///system", "Failed to connect socket to '/run/libvirt/libvirt-sock-ro': Permission denied"),
            FactError("virsh is not installed on the host: install libvirt-clients (or give --libvirt-uri)"),
            FactError("virsh could not read network 'u1': error: failed to get network")]


@pytest.mark.parametrize("error", NOT_SERVED + NOT_READ, ids=str)
def test_host01_fails_when_nothing_serves_libvirt_and_is_not_checked_when_its_facts_were_not_read(error):
    assert isinstance(error, NotServed) == (error in NOT_SERVED)  # the collectors say which it is, not the words
    def read():
        raise error
    target = SimpleNamespace(facts=SimpleNamespace(libvirt=read))
    fixes = []
    with pytest.raises(pytest.fail.Exception) as err:
        daemons.test_libvirt_daemon_serves_system_uri(target, system(), lambda _: None, fixes.append)
    assert (err.value.msg, isinstance(err.value, NotChecked)) == (str(error), error in NOT_READ)
    assert fixes == ([] if error in NOT_READ else ["systemctl enable --now virtqemud.socket virtnetworkd.socket"])


def test_host02_firewalld_installed_and_running():
    fixes = []
    daemons.test_firewalld_is_running(system([(1, "firewalld", True)]), PROFILE, fixes.append)
    assert fixes == []
    assert fails(daemons.test_firewalld_is_running, system(), PROFILE, fixes.append) == "firewalld is installed but not running"
    assert fixes == ["systemctl start firewalld && systemctl restart virtnetworkd"]  # ALL has the modular daemons only
    assert fails(daemons.test_firewalld_is_running, system([(1, "firewalld", True)], binaries={"firewalld": None}),
                 PROFILE, fixes.append) == "firewalld is not installed"
    assert skips(daemons.test_firewalld_is_running, system(), LAX, fixes.append) == "the profile does not require firewalld"
    debian = system(binaries={"libvirtd": "/usr/sbin/libvirtd"}, driver=DEBIAN_DRIVER)
    fails(daemons.test_firewalld_is_running, debian, PROFILE, fixes.append)
    assert fixes[1:] == [
        ("if command -v apt-get >/dev/null; then apt-get install firewalld; elif command -v dnf >/dev/null; then dnf install "
         "firewalld; else pacman -S --needed firewalld; fi && systemctl start firewalld && systemctl restart libvirtd"),
        "apt-get install firewalld && systemctl start firewalld && systemctl restart libvirtd"]


@pytest.mark.parametrize("state", ["enabled", "enabled-runtime", "alias"])
def test_host03_enabled_states_pass(state):
    daemons.test_firewalld_is_enabled(system(unit=state), PROFILE)


def test_host03_other_states_fail_or_skip():
    assert fails(daemons.test_firewalld_is_enabled, system(unit="disabled"), PROFILE) == \
        f"firewalld.service is 'disabled', expected 'enabled': {NOT_AT_BOOT}"
    assert fails(daemons.test_firewalld_is_enabled, system(unit="masked"), PROFILE) == \
        f"firewalld.service is 'masked', expected 'enabled': {NOT_AT_BOOT}"
    assert not_checked(daemons.test_firewalld_is_enabled, system(unit=None), PROFILE) == \
        "firewalld.service's enablement at boot could not be read (systemctl answered nothing)"
    assert not_checked(daemons.test_firewalld_is_enabled, replace(system(), units=None), PROFILE) == \
        "the facts hold no units section (an older probe's output): collect them again"
    assert fails(daemons.test_firewalld_is_enabled, system(unit="not-found"), PROFILE) == \
        "firewalld is not installed: systemd knows no firewalld.service"
    assert skips(daemons.test_firewalld_is_enabled, system(unit="no systemctl"), PROFILE) == \
        "no systemctl on this host: boot-time enablement cannot be read"
    assert skips(daemons.test_firewalld_is_enabled, system(unit="disabled"), LAX) == "the profile does not require firewalld"


def test_host04_userland():
    fixes = []
    daemons.test_nat_userland_is_installed(system(), fixes.append)
    daemons.test_nat_userland_is_installed(system(binaries={"dnsmasq": "/d", "nft": "/n"}, driver="/x.so"), fixes.append)
    daemons.test_nat_userland_is_installed(system(binaries={"dnsmasq": "/d", "iptables": "/i", "virtnetworkd": "/v"}), fixes.append)
    assert fixes == []
    assert fails(daemons.test_nat_userland_is_installed, system(binaries={"dnsmasq": None, "iptables": None}, driver=DEBIAN_DRIVER),
                 fixes.append) == "missing: dnsmasq, iptables or nft"
    assert fails(daemons.test_nat_userland_is_installed, system(binaries={"nft": "/n", "dnsmasq": "/d"}), fixes.append) == \
        "missing: libvirt network driver (libvirt_driver_network.so or virtnetworkd)"
    assert fails(daemons.test_nat_userland_is_installed, system(binaries={}), fixes.append) == \
        "missing: dnsmasq, iptables or nft, libvirt network driver (libvirt_driver_network.so or virtnetworkd)"
    assert fixes == [
        "apt-get install dnsmasq-base nftables",
        ("if command -v apt-get >/dev/null; then apt-get install libvirt-daemon-driver-network; elif command -v dnf >/dev/null; "
         "then dnf install libvirt-daemon-driver-network; else pacman -S --needed libvirt; fi"),
        ("if command -v apt-get >/dev/null; then apt-get install dnsmasq-base nftables libvirt-daemon-driver-network; "
         "elif command -v dnf >/dev/null; then dnf install dnsmasq nftables libvirt-daemon-driver-network; "
         "else pacman -S --needed dnsmasq nftables libvirt; fi")]


def test_host05_runtime_forwarding():
    forwarding.test_ipv4_forwarding_is_on(system())
    assert fails(forwarding.test_ipv4_forwarding_is_on, system(runtime={"net.ipv4.ip_forward": "0"})) == \
        "net.ipv4.ip_forward is '0', expected '1'"
    assert not_checked(forwarding.test_ipv4_forwarding_is_on, system(runtime={"net.ipv4.ip_forward": ""})) == \
        "net.ipv4.ip_forward could not be read (/proc/sys/net/ipv4/ip_forward)"


def test_host06_persisted_forwarding():
    FIXES.clear()
    forwarding.test_ipv4_forwarding_is_persisted(system(), NO_FIX)
    off = system(persisted={"net.ipv4.ip_forward": "0"}, sources={"net.ipv4.ip_forward": "/etc/sysctl.d/60.conf"})
    assert fails(forwarding.test_ipv4_forwarding_is_persisted, off, FIXES.append) == \
        f"at boot net.ipv4.ip_forward is set to 0 (/etc/sysctl.d/60.conf): it is 0{UNTIL_LIBVIRT}; expected 1"
    unset = system(persisted={}, conf_at_boot=False)
    assert fails(forwarding.test_ipv4_forwarding_is_persisted, unset, FIXES.append) == \
        f"at boot net.ipv4.ip_forward is set to nothing (no file; /etc/sysctl.conf is not read at boot on this host): it is 0{UNTIL_LIBVIRT}; expected 1"
    unread = system(persisted={}, conf_at_boot=False, unread={"net.ipv4.ip_forward": "1"})
    assert fails(forwarding.test_ipv4_forwarding_is_persisted, unread, FIXES.append) == (
        "at boot net.ipv4.ip_forward is set to nothing (no file; /etc/sysctl.conf sets 1 but is not read at boot on this host): "
        f"it is 0{UNTIL_LIBVIRT}; expected 1")
    assert FIXES == ["sed -i 's|^[[:space:]]*net[./]ipv4[./]ip_forward[[:space:]]*=.*|net.ipv4.ip_forward = 1|' /etc/sysctl.d/60.conf "
                     "&& sysctl --system"]  # the file that sets 0; with no file, the marker's new one


def test_host07_both_families_now_and_persisted():
    FIXES.clear()
    forwarding.test_all_forwarding_is_on(system(), PROFILE, NO_FIX)
    v4only = {"net.ipv4.conf.all.forwarding": "1"}
    forwarding.test_all_forwarding_is_on(system(runtime=v4only, persisted=v4only), LAX, NO_FIX)
    assert not_checked(forwarding.test_all_forwarding_is_on, system(runtime=v4only, persisted=v4only), PROFILE, FIXES.append) == \
        "net.ipv6.conf.all.forwarding could not be read (/proc/sys/net/ipv6/conf/all/forwarding)"
    assert fails(forwarding.test_all_forwarding_is_on, system(persisted=v4only), PROFILE, FIXES.append) == \
        "net.ipv6.conf.all.forwarding is 0 after boot (no file sets it); expected 1"
    wrong = {"net.ipv4.conf.all.forwarding": "0", "net.ipv6.conf.all.forwarding": "1"}
    assert fails(forwarding.test_all_forwarding_is_on, system(runtime=wrong, persisted=FORWARDING), PROFILE, FIXES.append) == \
        "net.ipv4.conf.all.forwarding is '0' now; expected 1"
    assert fails(forwarding.test_all_forwarding_is_on, system(persisted=wrong), PROFILE, FIXES.append) == \
        f"net.ipv4.conf.all.forwarding is 0 after boot (no file sets it){UNTIL_LIBVIRT}; expected 1"
    sourced = system(persisted=wrong, sources={"net.ipv4.conf.all.forwarding": "/etc/sysctl.d/10-off.conf",
                                               "net.ipv6.conf.all.forwarding": "/etc/sysctl.d/20-v6.conf"})  # 1 there
    assert fails(forwarding.test_all_forwarding_is_on, sourced, PROFILE, FIXES.append) == \
        f"net.ipv4.conf.all.forwarding is 0 after boot (/etc/sysctl.d/10-off.conf){UNTIL_LIBVIRT}; expected 1"
    two = {"net.ipv4.conf.all.forwarding": "2", "net.ipv6.conf.all.forwarding": "1"}  # the file's value, as written
    sourced = system(persisted=two, sources={"net.ipv4.conf.all.forwarding": "/etc/sysctl.d/10-two.conf"})
    assert fails(forwarding.test_all_forwarding_is_on, sourced, PROFILE, FIXES.append) == \
        f"net.ipv4.conf.all.forwarding is 2 after boot (/etc/sysctl.d/10-two.conf){UNTIL_LIBVIRT}; expected 1"
    assert FIXES == [  # only where a file persists another value: a new file in sysctl.d would not win over it
        "sed -i 's|^[[:space:]]*net[./]ipv4[./]conf[./]all[./]forwarding[[:space:]]*=.*|net.ipv4.conf.all.forwarding = 1|' "
        f"/etc/sysctl.d/10-off.conf && {forwarding.MARKER_07}",
        "sed -i 's|^[[:space:]]*net[./]ipv4[./]conf[./]all[./]forwarding[[:space:]]*=.*|net.ipv4.conf.all.forwarding = 1|' "
        f"/etc/sysctl.d/10-two.conf && {forwarding.MARKER_07}"]


# -- HOST-08, HOST-09 --------------------------------------------------------------------------

routes_checks = load_checks("host/test_routes.py")


def test_host08_subnet_elsewhere_is_named_once_each():
    from virtnat.facts.model import LinkFacts
    links = {"virbr0": LinkFacts("virbr0", 3, "bridge", True, "UP", "", addresses=("192.168.122.1/24",)),
             "eth1": LinkFacts("eth1", 4, None, True, "UP", "", addresses=("192.168.122.7/24", "10.0.0.1/8"))}
    routes = (RouteFacts("192.168.122.0/24", "virbr0"), RouteFacts("192.168.122.0/24", "eth1"),
              RouteFacts("192.168.122.0/24", "eth1"), RouteFacts("0.0.0.0/0", "eth0", "10.0.0.1"))
    fixes = []
    with pytest.raises(AssertionError) as err:
        routes_checks.test_subnet_is_only_on_the_bridge(routes, links, PROFILE, fixes.append)
    assert str(err.value).splitlines()[0] == \
        "192.168.122.0/24 is also on another interface: eth1 has 192.168.122.7/24; route `192.168.122.0/24 dev eth1`"
    assert fixes == ["ip addr del 192.168.122.7/24 dev eth1"]  # the address's route goes with it
    routes_checks.test_subnet_is_only_on_the_bridge(routes[:1] + routes[3:], {"virbr0": links["virbr0"]}, PROFILE, fixes.append)
    assert len(fixes) == 1


def test_host08_a_route_without_an_address_is_deleted_by_its_own_selector():
    from virtnat.facts.model import LinkFacts
    links = {"virbr0": LinkFacts("virbr0", 3, "bridge", True, "UP", "", addresses=("192.168.122.1/24",)),
             "wg;x": LinkFacts("wg;x", 5, "wireguard", True, "UP", "", addresses=("192.168.122.9/32",))}
    routes = (RouteFacts("192.168.122.0/25", "eth1", "10.0.0.254", metric=100), RouteFacts("192.168.122.128/25", None, type="blackhole"))
    fixes = []
    with pytest.raises(AssertionError):
        routes_checks.test_subnet_is_only_on_the_bridge(routes, links, PROFILE, fixes.append)
    assert fixes == ["ip addr del 192.168.122.9/32 dev 'wg;x' && ip route del 192.168.122.0/25 via 10.0.0.254 dev eth1 metric 100 "
                     "&& ip route del blackhole 192.168.122.128/25"]


def test_host09_route_out_with_notes():
    seen, fixes = [], []
    path = SimpleNamespace(route_out_problem=lambda: None, net=SimpleNamespace(uplink="eth0"), routing_note="",
                           route_out=RouteFacts("0.0.0.0/0", "eth0", "10.0.0.1"))
    routes_checks.test_route_out_exists(path, seen.append, fixes.append)
    assert seen == ["guest traffic leaves by eth0 (`default via 10.0.0.1 dev eth0`)"]
    path.routing_note = "policy rules: 100: x"
    routes_checks.test_route_out_exists(path, seen.append, fixes.append)
    assert seen[1:] == ["guest traffic leaves by eth0 (`default via 10.0.0.1 dev eth0`)", "policy rules: 100: x"]
    assert fixes == []
    path.route_out_problem = lambda: "no route out"
    path.route_out_fix = lambda: ("ip route del blackhole default", None)
    assert fails(routes_checks.test_route_out_exists, path, seen.append, fixes.append) == "no route out"
    assert len(seen) == 3 and fixes == ["ip route del blackhole default"]
    path.route_out_fix = lambda: ("ip -4 route show table all", "no gateway is known")
    fails(routes_checks.test_route_out_exists, path, seen.append, fixes.append)
    assert seen[3:] == ["no gateway is known"] and fixes[1:] == ["ip -4 route show table all"]
