"""HOST-12's own helpers (tests/host/test_next_boot_forwarding.py), called on a recorded host's
facts with one thing changed: which facts each prediction reads, and each form of the fix."""
import dataclasses
from pathlib import Path

import pytest

from selftests.unit import checkrun
from selftests.unit import probe_edits as e
from virtnat.checks import NotChecked
from virtnat.facts import netconfig
from virtnat.facts.forwarding_boot import Prediction
from virtnat.facts.model import DEFAULT_RULES, PolicyRule, RouteFacts

CHECKS = checkrun.load_checks("host/test_next_boot_forwarding.py")
TEXT = (Path(__file__).resolve().parents[1] / "data" / "systemd" / "libvirt9" / "default-forwarding-off-at-boot.txt").read_text()
SYSTEM, LINKS, _ = checkrun.facts(TEXT)
FWD = ("/etc/sysctl.d/60-virtnat.conf", "net.ipv4.ip_forward = 1\n")
DEFAULT_OFF = ("/etc/sysctl.d/70-default.conf", "net.ipv4.conf.default.forwarding = 0\n")
UPLINK = "/etc/systemd/network/10-uplink.network"


def system(*files, sysctl_binary=True):
    """The recorded host with these sysctl files (path, text), with or without systemd-sysctl."""
    binaries = {**SYSTEM.binaries, "systemd-sysctl": "/usr/lib/systemd/systemd-sysctl" if sysctl_binary else None}
    return dataclasses.replace(SYSTEM, sysctl_files={path: (path, text) for path, text in files}, binaries=binaries)


def config(networkd="disabled", udev=False, files=None, states=None, unreadable=(), nm="disabled", nm_version=None):
    return netconfig.LinkConfig(systemd_version=257, udev=udev, networkd=networkd, nm_version=nm_version, nm=nm,
                                link_states=states or {}, files=files or {}, unreadable=unreadable)


def bridge(host, conf, links=None):
    return CHECKS.predict(host, conf, LINKS if links is None else links, "virbr0", present=False)[0]


# -- which uplink is judged ------------------------------------------------------------------

ROUTES = (RouteFacts("0.0.0.0/0", "vlabsd-lab", "10.77.0.1"), RouteFacts("192.168.122.0/24", "virbr0"),
          RouteFacts("0.0.0.0/0", "wg0", table="100"))


def uplink_of(rules, routes=ROUTES):
    return CHECKS.uplink_of(dataclasses.replace(SYSTEM, policy_rules=rules), routes, checkrun.PROFILE)


def test_the_uplink_is_where_a_guests_ping_leaves_by_the_policy_rules():
    assert uplink_of(DEFAULT_RULES) == "vlabsd-lab"
    icmp_out = PolicyRule(100, "lookup", "100", src="192.168.122.0/24", iif="virbr0", ipproto="icmp")
    assert uplink_of((icmp_out, *DEFAULT_RULES)) == "wg0"
    assert uplink_of((PolicyRule(100, "lookup", "100", src="192.168.122.0/24", ipproto="tcp"), *DEFAULT_RULES)) == "vlabsd-lab"


def test_no_uplink_where_guest_traffic_has_no_way_out_but_the_bridge():
    assert uplink_of(DEFAULT_RULES, (RouteFacts("0.0.0.0/0", "virbr0"),)) is None
    assert uplink_of(DEFAULT_RULES, (RouteFacts("192.168.122.0/24", "virbr0"),)) is None


def test_rules_that_could_not_be_read_make_it_not_checked():
    host = dataclasses.replace(SYSTEM, policy_rules=None, path_problems=("ip rule: exit 2", "ip route: exit 2"))
    with pytest.raises(NotChecked, match="^policy routing rules could not be read: ip rule: exit 2; ip route: exit 2$"):
        CHECKS.uplink_of(host, ROUTES, checkrun.PROFILE)


# -- what a prediction reads ------------------------------------------------------------------

def test_the_boot_reads_sysctl_conf_only_where_systemd_sysctl_is_missing():
    unlinked = ("/etc/sysctl.conf", "net.ipv4.conf.default.forwarding = 0\n")
    assert bridge(system(FWD, unlinked), config()).value == "1"
    assert bridge(system(FWD, unlinked, sysctl_binary=False), config()).value == "0"


def test_a_bridge_key_reaches_the_bridge_where_udev_runs():
    off = ("/etc/sysctl.d/70-br.conf", "net.ipv4.conf.virbr0.forwarding = 0\n")
    assert bridge(system(FWD, off), config(udev=True)).value == "0"
    assert bridge(system(FWD, off), config(udev=False)).value == "1"


def test_networkds_global_setting_counts_where_networkd_is_enabled():
    conf = {"/etc/systemd/networkd.conf": "[Network]\nIPv4Forwarding=yes\n"}
    found = bridge(system(FWD, DEFAULT_OFF), config("enabled", files=conf, states={1: {"ADMIN_STATE": "unmanaged"}}))
    assert (found.value, found.by) == ("1", "networkd-global")
    assert bridge(system(FWD, DEFAULT_OFF), config("disabled", files=conf)).value == "0"


def test_a_bridge_not_made_yet_asks_networkd_nothing():
    """The network is not running: no virbr0 now, networkd has no state of it, and none is missing."""
    links = {name: link for name, link in LINKS.items() if name != "virbr0"}
    found = bridge(system(FWD), config("enabled"), links)
    assert (found.value, found.notes) == ("1", ["libvirt's net.ipv4.ip_forward=1 changes nothing: it is 1 already"])


def test_an_uplink_whose_link_was_not_read_is_not_checked_where_networkd_is_enabled():
    with pytest.raises(NotChecked, match=r"^systemd-networkd is enabled but its state of the link \(/run/systemd/netif/links/None\)"):
        CHECKS.predict(system(FWD), config("enabled"), {}, "uplink0", present=True)


def test_a_keyfile_networkmanager_could_not_read_makes_it_not_checked():
    conf = config(nm="enabled", nm_version=(1, 54, 0), unreadable=("/etc/NetworkManager/system-connections/up.nmconnection",))
    with pytest.raises(NotChecked, match="^NetworkManager's keyfiles /etc/NetworkManager/system-connections/up.nmconnection "
                                         "could not be read$"):
        CHECKS.predict(system(FWD), conf, LINKS, "vlabsd-lab", present=True)


# -- the fix ----------------------------------------------------------------------------------

def sysctl_fix(*files, bridge=True, interface="virbr0"):
    assert CHECKS.fix_for(config(), LINKS, Prediction(interface, "0", "", "sysctl"), None) is None  # sysctl.d's, not a manager's
    return CHECKS.sysctl_fix(system(*files), CHECKS.sysctl_keys(interface, bridge))


def test_the_sysctl_fix_sets_default_too_for_the_bridge():
    assert sysctl_fix(FWD, ("/usr/lib/sysctl.d/50-default.conf", "")) == (
        "printf '%s\\n' 'net.ipv4.conf.default.forwarding = 1' 'net.ipv4.conf.virbr0.forwarding = 1' > "
        "/etc/sysctl.d/99-virtnat-forwarding.conf && sysctl -p /etc/sysctl.d/99-virtnat-forwarding.conf")
    assert sysctl_fix(FWD, bridge=False, interface="vlabsd-lab") == (
        "printf '%s\\n' 'net.ipv4.conf.vlabsd-lab.forwarding = 1' > "
        "/etc/sysctl.d/99-virtnat-forwarding.conf && sysctl -p /etc/sysctl.d/99-virtnat-forwarding.conf")


def test_the_sysctl_fix_sorts_after_every_file_the_boot_reads():
    assert sysctl_fix(FWD, ("/etc/sysctl.d/zz-local.conf", "")).endswith(
        "> /etc/sysctl.d/zz99-virtnat-forwarding.conf && sysctl -p /etc/sysctl.d/zz99-virtnat-forwarding.conf")
    # one of its own name from an earlier fix is not overwritten
    assert CHECKS.last_name(["99-virtnat-forwarding.conf"], "99-virtnat-forwarding.conf") == "zz99-virtnat-forwarding.conf"


def networkd_fix(*dropins):
    files = {UPLINK: "[Network]\n", "/etc/systemd/networkd.conf": "", **{path: "" for path in dropins}}
    conf = config("enabled", files=files, states={LINKS["vlabsd-lab"].index: {"ADMIN_STATE": "configured", "NETWORK_FILE": UPLINK}})
    return CHECKS.fix_for(conf, LINKS, Prediction("vlabsd-lab", "0", "", "networkd"), None)


def test_the_networkd_fix_is_a_drop_in_after_the_network_files_others():
    assert networkd_fix(f"{UPLINK}.d/50-a.conf") == (
        "mkdir -p /etc/systemd/network/10-uplink.network.d && printf '[Network]\\nIPv4Forwarding=yes\\n' > "
        "/etc/systemd/network/10-uplink.network.d/90-virtnat-forwarding.conf && networkctl reload")
    assert "/10-uplink.network.d/zz90-virtnat-forwarding.conf &&" in networkd_fix(
        f"{UPLINK}.d/50-a.conf", "/usr/lib/systemd/network/10-uplink.network.d/95-site.conf")


# -- the check, both interfaces off ----------------------------------------------------------

UPLINK_OFF = "@@file /etc/sysctl.d/80-uplink.conf /etc/sysctl.d/80-uplink.conf\nnet.ipv4.conf.vlabsd-lab.forwarding = 0\n"
BRIDGE_WRONG = ("net.ipv4.conf.virbr0.forwarding is 0 after the next boot (virbr0 is made when libvirt starts the network and "
                "takes net.ipv4.conf.default.forwarding: net.ipv4.conf.default.forwarding = 0 in "
                "/etc/sysctl.d/70-virtnat-default.conf)")


UPLINK_WRONG = ("net.ipv4.conf.vlabsd-lab.forwarding is 0 after the next boot (net.ipv4.conf.vlabsd-lab.forwarding = 0 in "
                "/etc/sysctl.d/80-uplink.conf)")


def test_with_both_off_by_sysctl_d_one_file_sets_both():
    """Two files of the fix's one name would leave the first's keys unset at the next boot."""
    text = e.with_body(TEXT, "sysctl-files", e.body(TEXT, "sysctl-files").rstrip("\n") + "\n" + UPLINK_OFF)
    assert checkrun.outcomes(text)["HOST-12"] == ("failed", f"{BRIDGE_WRONG}; {UPLINK_WRONG}; expected 1")
    assert checkrun.findings(text)["HOST-12"]["fix"] == (
        "printf '%s\\n' 'net.ipv4.conf.default.forwarding = 1' 'net.ipv4.conf.virbr0.forwarding = 1' "
        "'net.ipv4.conf.vlabsd-lab.forwarding = 1' > /etc/sysctl.d/99-virtnat-forwarding.conf && "
        "sysctl -p /etc/sysctl.d/99-virtnat-forwarding.conf")


def test_a_managers_fix_comes_with_sysctl_ds():
    keyfile = "/etc/NetworkManager/system-connections/lab.nmconnection"
    lines = e.body(TEXT, "link-config").replace("nm-version \nnm \n", "nm-version 1.54.0\nnm enabled\n")
    text = e.with_body(TEXT, "link-config", lines.rstrip("\n") + f"\n@@file {keyfile}\n|[connection]\n|id=lab\n"
                                                                  "|interface-name=vlabsd-lab\n|[ipv4]\n|forwarding=no\n")
    assert checkrun.findings(text)["HOST-12"]["fix"] == (
        "nmcli connection modify lab ipv4.forwarding yes && nmcli connection up lab && "
        "printf '%s\\n' 'net.ipv4.conf.default.forwarding = 1' 'net.ipv4.conf.virbr0.forwarding = 1' > "
        "/etc/sysctl.d/99-virtnat-forwarding.conf && sysctl -p /etc/sysctl.d/99-virtnat-forwarding.conf")
