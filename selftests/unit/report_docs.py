"""Audit documents and evidence of the shapes the plugin writes, for the HTML page's tests."""
from __future__ import annotations

import copy

IDS = {
    "HOST-01": ("a libvirt daemon serves the system URI", "critical", "systemctl enable --now libvirtd"),
    "HOST-02": ("firewalld is installed and running", "high", "systemctl enable --now firewalld"),
    "HOST-03": ("firewalld is enabled at boot", "medium", "systemctl enable firewalld"),
    "HOST-04": ("the NAT userland is present", "high", "apt-get install dnsmasq-base nftables"),
    "HOST-05": ("net.ipv4.ip_forward is 1 now", "critical", "sysctl -w net.ipv4.ip_forward=1"),
    "HOST-06": ("net.ipv4.ip_forward = 1 is persisted", "high",
                "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-virtnat.conf"),
    "HOST-07": ("conf.all.forwarding is 1, now and persisted", "medium", "sysctl -w net.ipv4.conf.all.forwarding=1"),
    "HOST-08": ("no other interface in 192.168.122.0/24", "high", "ip addr del 192.168.122.5/24 dev eth1"),
    "HOST-09": ("a route out that does not lead back into virbr0", "high", "ip route add default via 10.0.0.1"),
    **{f"NET-{n:02}": (title, impact, fix) for n, title, impact, fix in (
        (1, "the network is defined and persistent", "critical", "virsh net-define default.xml"),
        (2, "the network is active", "critical", "virsh net-start default"),
        (3, "the network autostarts", "high", "virsh net-autostart default"),
        (4, "its forward mode is nat", "high", "virsh net-edit default"),
        (5, "its XML declares bridge, STP, address and DHCP", "medium", "virsh net-edit default"),
        (6, "virbr0 exists and is a bridge", "critical", "virsh net-destroy default && virsh net-start default"),
        (7, "virbr0 is administratively UP", "critical", "ip link set virbr0 up"),
        (8, "virbr0 carries 192.168.122.1/24", "critical", "ip addr add 192.168.122.1/24 dev virbr0"),
        (9, "STP is enabled on virbr0", "low", "ip link set virbr0 type bridge stp_state 1"),
        (10, "no physical interface is enslaved to virbr0", "high", "ip link set eth1 nomaster"),
        (11, "NAT masquerade for 192.168.122.0/24 is in place", "critical", "virsh net-destroy default && virsh net-start default"),
        (12, "libvirt's filter rules for virbr0 are in place", "high", "systemctl restart libvirtd"),
        (13, "the network's dnsmasq is running", "critical", "virsh net-destroy default && virsh net-start default"),
        (14, "virbr0 is in firewalld's libvirt zone", "medium", "firewall-cmd --zone=libvirt --add-interface=virbr0"),
        (15, "udp/tcp 53 and udp 67 are held by the network's dnsmasq", "high", "systemctl stop systemd-resolved"),
        (16, "no iptables-legacy rules beside nftables", "medium", "iptables-legacy -F"),
    )},
    "PATH-01": ("DHCP from guests is accepted", "critical", "firewall-cmd --zone=libvirt --add-service=dhcp"),
    "PATH-02": ("DNS from guests is accepted", "critical", "firewall-cmd --zone=libvirt --add-service=dns"),
    "PATH-03": ("guest traffic to the outside is forwarded", "critical", "nft delete rule inet filter forward handle 7"),
    "PATH-04": ("guest traffic to the outside is masqueraded", "critical", "nft delete rule ip nat postrouting handle 3"),
    "VM-01": ("every running guest's interface has its host tap", "high", "virsh reboot {guest}"),
    "VM-02": ("that tap is attached to virbr0", "high", "ip link set {tap} master virbr0"),
    "VM-03": ("that tap is administratively UP", "high", "ip link set {tap} up"),
    "VM-04": ("that tap's MAC matches the guest's", "medium", "virsh domiflist {guest}"),
}
PROFILE_DEFAULTS = {"network": "default", "bridge": "virbr0", "gateway": "192.168.122.1/24",
                    "dhcp_start": "192.168.122.2", "dhcp_end": "192.168.122.254", "require_firewalld": True,
                    "require_ipv6_forwarding": True, "libvirt_uri": "qemu:///system", "source": "built-in defaults"}
PIECES = {"libvirt": "libvirt 9.0.0 · network default: active, autostart",
          "bridge": "virbr0 · UP · 192.168.122.1/24 · STP on", "dnsmasq": "dnsmasq pid 812",
          "forwarding": "ip_forward 1 (at boot: 1)", "firewall": "nftables · masquerade 192.168.122.0/24",
          "uplink": "default via 10.0.0.1 dev eth0"}


def checks(guests=(("vm1", "vnet0"),)) -> list[dict]:
    """Every check passed, the VM checks once per (guest, tap)."""
    found = []
    for check_id, (title, impact, fix) in IDS.items():
        for guest, tap in (guests if check_id.startswith("VM-") else ((None, None),)):
            found.append({"id": check_id, "title": title, "impact": impact, "outcome": "passed", "message": "",
                          "subject": f"{guest}:{tap}" if guest else None,
                          "remediation": fix.format(guest=guest, tap=tap)})
    return found


def host(name: str, changes: dict | None = None, guests=(("vm1", "vnet0"),)) -> dict:
    """A host entry: every check passed but those in changes ({id or id[subject]: fields})."""
    found = checks(guests)
    for c in found:
        key = c["id"] + (f"[{c['subject']}]" if c["subject"] else "")
        c.update((changes or {}).get(key, {}))
    summary = {o: sum(c["outcome"] == o for c in found) for o in ("passed", "failed", "skipped", "error", "waived")}
    return {"host": name, "summary": summary, "checks": found}


def unreachable(name: str, cause: str = "ssh: connect to host 10.0.0.9 port 22: Connection refused") -> dict:
    entry = host(name, guests=())
    for c in entry["checks"]:
        c.update(outcome="error", message=cause)
    entry["summary"] = {"passed": 0, "failed": 0, "skipped": 0, "error": len(entry["checks"]), "waived": 0}
    return entry


def document(*hosts: dict, profile: dict | None = None, error: str | None = None) -> dict:
    doc = {"tool": "virtnat", "version": "0.1.0", "started": "2026-11-28T10:00:00+00:00",
           "finished": "2026-11-28T10:00:01.400000+00:00", "profile": profile, "hosts": list(hosts)}
    if error:
        doc["error"] = error
    return doc


def host_evidence(guests=(("vm1", "vnet0"),), **pieces) -> dict:
    """A reachable host's evidence: the pieces' lines (overridden by pieces), facts, two walks."""
    return {"pieces": {**PIECES, "guests": [{"guest": g, "tap": t, "detail": "UP on virbr0"} for g, t in guests], **pieces},
            "facts": {"libvirt": {"version": "9.0.0", "networks": [{"name": "default", "active": True}]},
                      "links": [{"ifname": "virbr0", "state": "UP", "address": "<52:54:00>"}],
                      "system": "not collected: Permission denied"},
            "checks": {"PATH-03": {"text": "virbr0 -> FORWARD\n  rule 7: drop <guest traffic>", "facts": ["system", "links"]},
                       **{f"VM-02[{g}:{t}]": {"text": "", "facts": ["libvirt", "links"]} for g, t in guests}}}


XSS = "<img src=x onerror=alert(1)>"


def one_host_with_failures() -> tuple[dict, dict]:
    """hv1: three failures (two critical), a waived check, a skipped one, a guest named with markup."""
    guests = (("vm1", "vnet0"), (XSS, "vnet1"), ("a'b", "vnet2"))
    entry = host("hv1", {
        "NET-07": {"outcome": "failed", "message": "virbr0 is DOWN, expected UP"},
        "PATH-03": {"outcome": "failed", "message": "guest traffic is dropped in FORWARD (rule 7)"},
        f"VM-03[{XSS}:vnet1]": {"outcome": "failed", "message": f"tap vnet1 of {XSS} is DOWN"},
        "NET-09": {"outcome": "waived", "message": "STP is off",
                   "waiver": {"reason": "single-bridge host <ok>", "expires": "2026-12-31"}},
        "HOST-03": {"outcome": "skipped", "message": "firewalld not required by the profile"},
    }, guests)
    profile = {**PROFILE_DEFAULTS, "bridge": "br-nat", "source": "profiles/site.toml"}
    return document(entry, profile=profile), {"profile_defaults": PROFILE_DEFAULTS,
                                              "hosts": {"hv1": host_evidence(guests, bridge="br-nat · DOWN")}}


def unreachable_beside_healthy() -> tuple[dict, dict]:
    doc = document(host("ok1"), unreachable("down1"))
    return doc, {"hosts": {"ok1": host_evidence(), "down1": {"facts": {"libvirt": "not collected: host unreachable"}}}}


def fleet(n: int = 100) -> tuple[dict, dict]:
    """n hosts: every tenth unreachable, every third failing NET-07 (and one guest's VM-03), the rest healthy."""
    hosts, evidence = [], {}
    for i in range(n):
        name = f"hv{i:03}"
        if i % 10 == 9:
            hosts.append(unreachable(name))
            continue
        changes = {"NET-07": {"outcome": "failed", "message": "virbr0 is DOWN"},
                   "VM-03[vm1:vnet0]": {"outcome": "failed", "message": "tap vnet0 is DOWN"}} if i % 3 == 0 else {}
        hosts.append(host(name, changes))
        evidence[name] = host_evidence()
    return document(*hosts), {"profile_defaults": PROFILE_DEFAULTS, "hosts": evidence}


def fresh(pair: tuple[dict, dict]) -> tuple[dict, dict]:
    return copy.deepcopy(pair)
