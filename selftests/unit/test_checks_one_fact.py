"""Every check (all 38 ids) on each generation's recorded healthy host (libvirt 9, libvirt 11
with each backend, and the document's libvirt 5.5 host) with ONE fact changed per fault:
exactly the expected checks fail, each with its message. The edits change the probe's text,
so each fact also goes through its parser."""
import json

import pytest

from selftests.unit import probe_edits as e
from selftests.unit.checkrun import DATA, GENERATIONS, STANDING, outcomes

LIBVIRT55 = "libvirt5.5"
BACKENDS = {**GENERATIONS, LIBVIRT55: "iptables"}


def libvirt55() -> str:
    """The document's libvirt 5.5 state on the libvirt 9 recording's host (Debian 12, iptables
    rules in libvirt's own chains, which libvirt has made since 5.1): libvirt 5.5.0, virbr0-nic (a
    DOWN tun on virbr0; libvirt before 6.6 made one per network) and br0 (another bridge, no STP)
    as the document's `ip addr` and `brctl show` showed them."""
    text = e.sub((DATA / "libvirt9" / "healthy.txt").read_text(), "libvirt-version", "9.0.0", "5.5.0")

    def add_links(entries):
        top = max(x["ifindex"] for x in entries)
        entries.append({"ifindex": top + 1, "ifname": "virbr0-nic", "flags": ["BROADCAST", "MULTICAST"], "master": "virbr0",
                        "operstate": "DOWN", "link_type": "ether", "address": "52:54:00:45:db:25",
                        "linkinfo": {"info_kind": "tun", "info_slave_kind": "bridge"}, "addr_info": []})
        entries.append({"ifindex": top + 2, "ifname": "br0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
                        "operstate": "UP", "link_type": "ether", "address": "7e:33:f1:ea:9e:e3",
                        "linkinfo": {"info_kind": "bridge", "info_data": {"stp_state": 0}}, "addr_info": []})

    return e.edit_links(e.edit_links(text, "ip-link", add_links), "ip-addr", add_links)


def healthy(generation: str) -> str:
    return libvirt55() if generation == LIBVIRT55 else (DATA / generation / "healthy.txt").read_text()


# -- the faults: one fact each ---------------------------------------------------------------

def _flags_down(name):
    def change(entries):
        entry = e.link(entries, name)
        entry["flags"] = [f for f in entry["flags"] if f not in ("UP", "LOWER_UP")]
        entry["operstate"] = "DOWN"
    return lambda text, _: e.edit_links(text, "ip-link", change)


def _masquerade_elsewhere(text, backend):
    if backend == "iptables":
        part = e.body(text, "iptables-save")
        lines = [l.replace("-s 192.168.122.0/24", "-s 192.168.123.0/24") if "MASQUERADE" in l else l for l in part.splitlines()]
        return e.with_body(text, "iptables-save", "\n".join(lines))

    def change(items):
        for item in items:
            rule = item.get("rule")
            if rule and rule["chain"] == "guest_nat":
                rule["expr"] = json.loads(json.dumps(rule["expr"]).replace("192.168.122.0", "192.168.123.0"))
    return e.edit_nft(text, change)


def _set_bridge_addr(address):
    def change(entries):
        for info in e.link(entries, "virbr0")["addr_info"]:
            if info["family"] == "inet":
                info["local"] = address
    return lambda text, _: e.edit_links(text, "ip-addr", change)


def _stp_off(text, _):
    return e.edit_links(text, "ip-link", lambda entries: e.link(entries, "virbr0")["linkinfo"]["info_data"].update(stp_state=0))


def _physical_port(text, _):
    def change(entries):
        entries.append({"ifindex": 90, "ifname": "eth1", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "master": "virbr0",
                        "operstate": "UP", "link_type": "ether", "address": "52:54:00:aa:bb:cc", "addr_info": []})
    return e.edit_links(e.edit_links(text, "ip-link", change), "ip-addr", change)


def _tap_detached(text, _):
    return e.edit_links(text, "ip-link", lambda entries: e.link(entries, "vnet0").pop("master"))


def _tap_mac(text, _):
    return e.edit_links(text, "ip-link", lambda entries: e.link(entries, "vnet0").update(address="fe:54:00:00:00:01"))


def _forwarding_runtime_off(text, _):
    return e.sub(e.sub(text, "runtime", "net/ipv4/ip_forward=1", "net/ipv4/ip_forward=0"),
                 "runtime", "net/ipv4/conf/all/forwarding=1", "net/ipv4/conf/all/forwarding=0")


def _forwarding_only_in_sysctl_conf(text, _):
    """Forwarding persisted in /etc/sysctl.conf alone (and in every sysctl.d link to it; Debian 13
    ships no sysctl.conf, so there the operator creates it, as the document says)."""
    lines = "net.ipv4.ip_forward=1\nnet.ipv4.conf.all.forwarding=1\nnet.ipv6.conf.all.forwarding=1"
    text = e.without_forwarding_files(text)
    if " /etc/sysctl.conf\n" not in e.body(text, "sysctl-files"):
        return e.add_sysctl_file(text, "/etc/sysctl.conf", lines)
    return e.with_body(text, "sysctl-files", e.body(text, "sysctl-files").replace(" /etc/sysctl.conf\n", f" /etc/sysctl.conf\n{lines}\n"))


def _drop_link(name):
    def edit(text, _):
        for section in ("ip-link", "ip-addr"):
            text = e.edit_links(text, section, lambda entries: entries.remove(e.link(entries, name)))
        return text
    return edit


def _no_default_route(text, _):
    return e.with_body(text, "routes", json.dumps([r for r in json.loads(e.body(text, "routes")) if r["dst"] != "default"]))


def _dnsmasq_owners(change):
    """change(uid, exe) -> (uid, exe) for every dnsmasq of the process-owners section."""
    def edit(text, _):
        lines = []
        for line in e.body(text, "process-owners").splitlines():
            pid, uid, exe = line.split(" ", 2)
            lines.append(" ".join((pid, *change(uid, exe))) if exe.endswith("/dnsmasq") else line)
        return e.with_body(text, "process-owners", "\n".join(lines))
    return edit


def _sub(section: str, old: str, new: str):
    """The edit that replaces old by new in one section of the recording."""
    return lambda text, _: e.sub(text, section, old, new)


def _same(checks: str, text: str) -> dict:
    return dict.fromkeys(checks.split(), text)


NETWORK_USERS = "NET-11 NET-12 NET-13 NET-14 PATH-01 PATH-02 PATH-03 PATH-04 PATH-05"
BRIDGE_USERS = "NET-06 NET-07 NET-08 NET-09 NET-10 PATH-01 PATH-02 PATH-03 PATH-04 PATH-05 VM-02"


def _sysctl_pair(etc_value, run_value):
    """The same file name in /etc/sysctl.d and /run/sysctl.d, named to be applied last."""
    def edit(text, _):
        for directory, value in (("/etc/sysctl.d", etc_value), ("/run/sysctl.d", run_value)):
            text = e.add_sysctl_file(text, f"{directory}/zz-virtnat.conf", f"net.ipv4.ip_forward = {value}")
        return text
    return edit


NOT_PERSISTED = "at boot net.ipv4.ip_forward is set to nothing (no file"

# name -> (edit(text, backend), {check: text in its message} for every check that must fail)
FAULTS = {
    "autostart-off": (_sub("net-info:default", "Autostart:      yes", "Autostart:      no"),
                      {"NET-03": "autostart"}),
    "not-persistent": (_sub("net-info:default", "Persistent:     yes", "Persistent:     no"),
                       {"NET-01": "transient", "NET-17": "network 'default' is transient: nothing of it comes back (NET-01)"}),
    "forward-mode-route": (_sub("net-xml:default", "<forward mode='nat'>", "<forward mode='route'>"),
                           {"NET-04": "route"}),
    "no-dhcp-in-xml": (_sub("net-xml:default", "<range start='192.168.122.2'", "<xrange start='192.168.122.2'"),
                       {"NET-05": "DHCP"}),
    # As on a real host (selftests/e2e/test_faults.py): a DOWN bridge takes the guests' DHCP, DNS and NAT with it.
    "bridge-admin-down": (_flags_down("virbr0"), {"NET-07": "administratively DOWN",
                                                  **dict.fromkeys(("PATH-01", "PATH-02", "PATH-03", "PATH-05"), "administratively DOWN")}),
    "bridge-other-address": (_set_bridge_addr("192.168.122.9"), {"NET-08": "192.168.122.9"}),
    "stp-off": (_stp_off, {"NET-09": "STP"}),
    "physical-port": (_physical_port, {"NET-10": "eth1"}),
    "forwarding-off": (_forwarding_runtime_off, {"HOST-05": "net.ipv4.ip_forward is '0', expected '1'",
                                                 "HOST-07": "net.ipv4.conf.all.forwarding is '0' now",
                                                 "PATH-03": "the kernel forwards nothing: net.ipv4.ip_forward is '0' (HOST-05)"}),
    "forwarding-not-persisted": (lambda t, _: e.without_forwarding_files(t),
                                 {"HOST-06": NOT_PERSISTED, "HOST-07": "net.ipv4.conf.all.forwarding is 0 after boot (no file sets it) until libvirt"}),
    "etc-wins-over-run": (_sysctl_pair(1, 0), {}),
    "etc-0-masks-run-1": (_sysctl_pair(0, 1), {"HOST-06": "/etc/sysctl.d/zz-virtnat.conf",
                                               "HOST-07": "net.ipv4.conf.all.forwarding is 0 after boot (/etc/sysctl.d/zz-virtnat.conf)"}),
    "firewalld-stopped": (lambda t, _: e.drop_lines(t, "processes", r" firewalld "),
                          {"HOST-02": "firewalld is installed but not running",
                           "NET-14": "firewalld is not running (HOST-02), so virbr0 is in no zone"}),
    "firewalld-disabled": (_sub("units", "@@unit firewalld.service enabled", "@@unit firewalld.service disabled"),
                           {"HOST-03": "disabled", "HOST-11": "firewalld.service is disabled, not enabled"}),
    "firewalld-unit-unknown": (_sub("units", "@@unit firewalld.service enabled", "@@unit firewalld.service Failed to get "
                                    "unit file state for firewalld.service: No such file or directory"),
                               {"HOST-03": "firewalld is not installed: systemd knows no firewalld.service",
                                "HOST-11": "firewalld.service is not-found, not enabled"}),
    "dnsmasq-not-installed": (_sub("binaries", "dnsmasq /usr/sbin/dnsmasq", "dnsmasq "), {"HOST-04": "dnsmasq"}),
    "masquerade-other-subnet": (_masquerade_elsewhere, {
        "NET-11": "no masquerade for 192.168.122.0/24",
        "PATH-04": "nothing masquerades it: no NAT rule for 192.168.122.0/24 on the way out (NET-11)"}),
    "tap-detached": (_tap_detached, {"VM-02": "vnet0"}),
    "tap-down": (_flags_down("vnet0"), {"VM-03": "administratively DOWN"}),
    "tap-mac-wrong": (_tap_mac, {"VM-04": "fe:54:00:00:00:01"}),
    "network-not-defined": (lambda t, _: e.with_body(t, "virsh-networks", ""),
                            _same(f"NET-01 NET-02 NET-03 NET-04 NET-05 NET-17 {NETWORK_USERS}",
                                  "network 'default' is not defined (NET-01; defined networks: none)")),
    "network-inactive": (_sub("net-info:default", "Active:         yes", "Active:         no"),
                         {"NET-02": "network 'default' is inactive, expected active",
                          "NET-17": "network 'default' is inactive: its next start uses its persistent definition (NET-02)",
                          **_same(NETWORK_USERS, "network 'default' is inactive (NET-02), so nothing of it runs")}),
    "bridge-gone": (_drop_link("virbr0"), _same(BRIDGE_USERS, "virbr0 does not exist: network 'default' is active but its bridge is gone")),
    "tap-gone": (_drop_link("vnet0"), {"VM-01": "tap vnet0 of guest virtnat-guest does not exist",
                                       **_same("VM-02 VM-03 VM-04", "tap vnet0 of guest virtnat-guest does not exist (VM-01)")}),
    "guest-declares-no-tap": (_sub("dom-xml:virtnat-guest", "<target dev='vnet0'/>", ""),
                              _same("VM-01 VM-02 VM-03 VM-04", "declares no host device")),
    "firewalld-not-installed": (_sub("binaries", "firewalld /usr/sbin/firewalld", "firewalld "),
                                {"HOST-02": "firewalld is not installed"}),
    "no-systemctl": (lambda t, _: e.with_body(e.sub(t, "binaries", "systemctl /usr/bin/systemctl", "systemctl "),
                                              "units", "systemd not-running\nsystemctl not-found"),
                     {"HOST-03": "no systemctl on this host: boot-time enablement cannot be read",
                      "HOST-10": "no systemctl on this host: boot-time enablement cannot be read",
                      "HOST-11": "no systemctl on this host: the boot's order cannot be read"}),
    "no-network-driver": (lambda t, _: e.drop_lines(t, "binaries", r"^network-driver "),
                          {"HOST-04": "missing: libvirt network driver (libvirt_driver_network.so or virtnetworkd)"}),
    "no-iptables-nor-nft": (lambda t, _: e.sub(e.sub(t, "binaries", "iptables /usr/sbin/iptables", "iptables "),
                                               "binaries", "nft /usr/sbin/nft", "nft "), {"HOST-04": "missing: iptables or nft"}),
    "xml-stp-off": (_sub("net-xml:default", "<bridge name='virbr0' stp='on'", "<bridge name='virbr0' stp='off'"),
                    {"NET-05": "network 'default': stp off, expected on"}),
    "xml-other-bridge": (_sub("net-xml:default", "<bridge name='virbr0'", "<bridge name='virbr1'"),
                         {"NET-05": "network 'default': bridge 'virbr1', expected 'virbr0'"}),
    "xml-other-address": (_sub("net-xml:default", "<ip address='192.168.122.1'", "<ip address='192.168.122.9'"),
                          {"NET-05": "network 'default': address 192.168.122.9/24, expected 192.168.122.1/24"}),
    "xml-range-outside": (_sub("net-xml:default", "end='192.168.122.254'", "end='192.168.123.254'"),
                          {"NET-05": "DHCP ranges [('192.168.122.2', '192.168.123.254')], expected 192.168.122.2-192.168.122.254; "
                                     "DHCP range 192.168.122.2-192.168.123.254 outside 192.168.122.0/24"}),
    "sockets-unreadable": (lambda t, _: e.with_body(t, "sockets", "sh: 1: ss: not found", rc=127),
                           {"NET-15": "listening sockets could not be read: sockets: sh: 1: ss: not found"}),
    "dnsmasq-not-running": (lambda t, _: e.drop_lines(t, "processes", r" dnsmasq "),
                            {"NET-13": "no dnsmasq runs with libvirt's config for network 'default'",
                             "NET-15": "not by the dnsmasq of network 'default'"}),
    "no-route-out": (_no_default_route, {
        "HOST-09": "no route out: nothing in the main routing table leads to 203.0.113.10 (no default route)",
        "PATH-03": "cannot leave: no route out: nothing in the main routing table leads to 203.0.113.10"}),
    # Any user can start a process named dnsmasq with libvirt's arguments; libvirt runs its own as root.
    "dnsmasq-impostor": (_dnsmasq_owners(lambda uid, exe: ("1000", exe)), {
        "NET-13": "processes named dnsmasq with its config run, but none as root from a dnsmasq executable (pid ",
        "NET-15": "not by the dnsmasq of network 'default'"}),
    "dnsmasq-binary-upgraded": (_dnsmasq_owners(lambda uid, exe: (uid, exe + " (deleted)")), {}),
    "guest-on-other-network": (_sub("dom-xml:virtnat-guest", "<source network='default'", "<source network='isolated'"),
                               {f"VM-0{n}": "no running guest has an interface on network 'default'" for n in range(1, 5)}),
}

# Where a generation's boot reads /etc/sysctl.conf (Debian 12: 99-sysctl.conf links to it;
# Debian 13: nothing does), forwarding persisted only there is a pass or a failure.
SYSCTL_CONF_ONLY = {g: {} if g in ("libvirt9", LIBVIRT55) else {
    "HOST-06": "/etc/sysctl.conf sets 1 but is not read at boot on this host", "HOST-07": "net.ipv4.conf.all.forwarding is 0 after boot (no file sets it) until libvirt"}
                    for g in BACKENDS}


def _cases():
    for generation in BACKENDS:
        for name, (edit, expected) in FAULTS.items():
            yield pytest.param(generation, edit, expected, id=f"{generation}-{name}")
        yield pytest.param(generation, _forwarding_only_in_sysctl_conf, SYSCTL_CONF_ONLY[generation], id=f"{generation}-sysctl-conf-only")


def not_passed(found: dict, generation: str) -> dict[str, str]:
    """check id -> message of every check that did not pass (VM checks by id, without the guest),
    but for what the generation's recordings always report (checkrun.STANDING)."""
    standing = STANDING["libvirt9" if generation == LIBVIRT55 else generation]
    return {check.split("[")[0]: message for check, (outcome, message) in found.items()
            if outcome != "passed" and standing.get(check) != (outcome, message)}


@pytest.mark.parametrize("generation", list(BACKENDS))
def test_healthy_host_passes_every_check(generation):
    found = outcomes(healthy(generation))
    assert not_passed(found, generation) == {}
    assert len(found) == 38


@pytest.mark.parametrize("generation, edit, expected", list(_cases()))
def test_one_fact_fails_exactly_its_checks(generation, edit, expected):
    found = not_passed(outcomes(edit(healthy(generation), BACKENDS[generation])), generation)
    assert set(found) == set(expected), found
    for check, text in expected.items():
        assert text in found[check], (check, found[check])
