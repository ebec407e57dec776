"""Done-when 3: auditing the lab changes nothing. A snapshot of its network state, libvirt
state, firewall and sysctls, taken before and after an audit, is identical."""
import hashlib
import re

SNAPSHOT = {
    "links": "ip -d -j link show",
    "addresses": "ip -j addr show",
    "routes": "ip -j route show table all",
    "bridge ports": "bridge -j link show",
    "ruleset": "nft list ruleset",
    "iptables": "iptables-save",
    "iptables-legacy": "iptables-legacy-save",
    "sockets": "ss -l -n -t -u",
    "networks": "virsh -r net-list --all",
    "network xml": "virsh -r net-dumpxml default",
    "guests": "virsh -r list --all",
    "guest xml": "virsh -r dumpxml virtnat-guest",
    "zones": "firewall-cmd --list-all-zones",
    "sysctls": "sysctl -a 2>/dev/null | grep '^net\\.'",
    "daemons": "ps -eo pid,comm --no-headers | grep -E ' (firewalld|libvirtd|virtlogd|dnsmasq|qemu-system-x86)$' | sort",
}
FILES = ["/etc/sysctl.conf", "/etc/libvirt", "/var/lib/libvirt/dnsmasq", "/etc/firewalld", "/run/libvirt/network"]
# What moves on its own: traffic counters, timestamps, and the bridge's STP timers (a
# topology change shortens ageing_time until it settles).
VOLATILE = re.compile(
    r"(# (Generated|Completed) .*|\[\d+:\d+\]|packets \d+ bytes \d+"
    r'|"\w+_timer":[\d.]+|"topology_change\w*":\d+|"ageing_time":\d+'
    r"|net\.netfilter\.nf_conntrack_count = \d+)"  # the kernel expires the guest's connections on its own
)


def _files_digest(lab) -> str:
    listing = lab.sh("find " + " ".join(FILES) + " -type f -exec sha256sum {} + | sort")
    return hashlib.sha256(listing.encode()).hexdigest() + "\n" + listing


def snapshot(lab) -> dict[str, str]:
    # a command that fails would compare two empty outputs: it fails the test instead
    state = {name: VOLATILE.sub("", lab.sh(cmd)) for name, cmd in SNAPSHOT.items()}
    state["files"] = _files_digest(lab)
    return state


def test_audit_changes_nothing_on_the_host(lab):
    before = snapshot(lab)
    run = lab.audit()
    after = snapshot(lab)
    assert run.rc == 0, run.stdout
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, {name: (before[name][:2000], after[name][:2000]) for name in changed}


def test_snapshot_sees_a_change(lab):
    """The snapshot is sharp enough to notice a one-flag change (so the test above can fail)."""
    before = snapshot(lab)
    lab.sh("virsh net-autostart --disable default")
    try:
        after = snapshot(lab)
    finally:
        lab.sh("virsh net-autostart default")
    assert before["networks"] != after["networks"] or before["files"] != after["files"]
