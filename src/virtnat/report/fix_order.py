"""The order `virtnat fix` applies the checks' fixes in, and how a script tells that a check still
fails: one table, ORDER. A cause comes before what follows from it: the daemons and the kernel's
forwarding, then the network as libvirt defines and runs it, its bridge, its rules, the guests'
packet path, the guests' taps. Each check's guard is a shell test that succeeds while the host is
still as the check found it (it reads, never changes); the step runs only then, so a script run
twice changes nothing the second time. A guard approximates its check: the re-audit judges."""
from __future__ import annotations

import re
import shlex

from ..path.model import INTERNET

_NET_INFO = "! virsh net-info {network} 2>/dev/null | grep -Eq '^{field}:[[:space:]]+yes'"
_FILES = "/etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/lib/sysctl.d/*.conf"


def _now_off(key: str) -> str:
    return f'[ "$(sysctl -n {key} 2>/dev/null)" != 1 ]'


def _at_boot_off(key: str) -> str:
    """No sysctl.d file sets key to 1, or one sets it to another value (it may win)."""
    name = r"^[[:space:]]*" + key.replace(".", "[./]") + r"[[:space:]]*=[[:space:]]*"
    return (f"! grep -Eqs '{name}1[[:space:]]*$' {_FILES} || "
            f"grep -Eqs '{name}([^1[:space:]]|1[^[:space:]])' {_FILES}")


_LINK_UP = "ip link show dev {0} 2>/dev/null | grep -q '[<,]UP[,>]'"
_RULES = "{ iptables-save; nft list ruleset; } 2>/dev/null"

# check id -> its guard (None: the step is safe to run again as it is), in the order fixes run.
ORDER: tuple[tuple[str, str | None], ...] = (
    ("HOST-01", "! virsh uri >/dev/null 2>&1"),
    ("HOST-04", None),  # installing what is installed changes nothing
    ("HOST-10", "! systemctl is-enabled --quiet libvirtd.service && ! systemctl is-enabled --quiet virtnetworkd.service"),
    ("HOST-02", "! systemctl is-active --quiet firewalld"),
    ("HOST-03", "! systemctl is-enabled --quiet firewalld"),
    ("HOST-11", "! systemctl show -p After --value libvirtd.service virtnetworkd.service 2>/dev/null "
                "| grep -q firewalld.service"),
    ("HOST-05", _now_off("net.ipv4.ip_forward")),
    ("HOST-06", _at_boot_off("net.ipv4.ip_forward")),
    ("HOST-07", "{forwarding_off}"),  # both families' where the profile asks for IPv6 (guard_values)
    ("HOST-12", None),  # it writes its files whole: again, it changes nothing
    # Before the network starts: libvirt refuses a subnet another interface holds.
    ("HOST-08", "ip -o -4 route show table all root {subnet} 2>/dev/null | grep -v ' dev {bridge} ' | grep -q ."),
    ("HOST-09", f"! ip -4 route get {INTERNET} >/dev/null 2>&1 || ip -4 route get {INTERNET} | grep -q ' dev {{bridge}} '"),
    # The network: defined, as the profile says, then started with that definition.
    ("NET-01", _NET_INFO.replace("{field}", "Persistent")),
    ("NET-04", "! virsh net-dumpxml --inactive {network} 2>/dev/null | grep -q \"<forward mode='nat'\""),
    ("NET-05", None),  # its fix opens an editor: by hand
    # What holds the gateway's ports keeps the network from starting: it goes first (NET-15's fix starts it).
    ("NET-15", "! pgrep -f {dnsmasq_conf} >/dev/null || ss -Hlnptu 2>/dev/null "
               "| grep -E '[[:space:]]({gateway_ip}|0\\.0\\.0\\.0|\\*|\\[::\\]):(53|67)[[:space:]]' | grep -vq '\"dnsmasq\"'"),
    ("NET-02", _NET_INFO.replace("{field}", "Active")),
    ("NET-03", _NET_INFO.replace("{field}", "Autostart")),
    ("NET-17", "[ \"$(virsh net-dumpxml {network} 2>/dev/null | grep -E '<(forward|bridge|ip|range) ')\" != "
               "\"$(virsh net-dumpxml --inactive {network} 2>/dev/null | grep -E '<(forward|bridge|ip|range) ')\" ]"),
    # Its bridge.
    ("NET-06", "! ip -d link show dev {bridge} 2>/dev/null | grep -Eq '^[[:space:]]+bridge '"),
    ("NET-07", "! " + _LINK_UP.format("{bridge}")),
    ("NET-08", "! ip -o -4 addr show dev {bridge} 2>/dev/null | grep -q ' inet {gateway} '"),
    ("NET-09", "! ip -d link show dev {bridge} 2>/dev/null | grep -q 'stp_state 1'"),
    ("NET-10", None),  # a port taken off the bridge twice stays off it
    # Its rules and its dnsmasq.
    ("NET-11", f"! {_RULES} | grep -F {{subnet}} | grep -qi masquerade"),
    ("NET-12", f"! {_RULES} | grep -qw -- {{bridge}}"),
    ("NET-13", "! pgrep -f {dnsmasq_conf} >/dev/null"),
    ("NET-14", "[ \"$(firewall-cmd --get-zone-of-interface={bridge} 2>/dev/null)\" != libvirt ]"),
    ("NET-16", "iptables-legacy-save 2>/dev/null | grep -Eq -- '-j (DROP|REJECT)|^:(INPUT|FORWARD|OUTPUT) DROP'"),
    # The guests' packet path: each guard comes from its fix where it is a rule (command_guard).
    ("PATH-01", None),
    ("PATH-02", None),
    ("PATH-03", None),
    # An iptables fix deletes the rule by its place: the guard is that an accept for the subnet is still there.
    ("PATH-04", "iptables -t nat -S POSTROUTING 2>/dev/null | grep -Eq -- '-s {subnet} (.* )?-j (ACCEPT|RETURN)'"),
    ("PATH-05", None),
    # The guests' taps.
    ("VM-01", "! ip link show dev {tap} >/dev/null 2>&1"),
    ("VM-02", "! ip link show dev {tap} 2>/dev/null | grep -q ' master {bridge} '"),
    ("VM-03", "! " + _LINK_UP.format("{tap}")),
    ("VM-04", "mac=$(virsh domiflist --domain {guest} 2>/dev/null | awk -v tap={tap} '$1 == tap {{print $5}}') && "
              "! ip link show dev {tap} 2>/dev/null | grep -qi \"link/ether fe${{mac#??}} \""),
)
RANK = {check: i for i, (check, _) in enumerate(ORDER)}
GUARDS = dict(ORDER)
# The guards that need the guest's tap: none when the guest declares none (a MAC names it).
NEED_TAP = ("VM-01", "VM-02", "VM-03", "VM-04")

# A fix that opens an editor, or only lists what to decide from: it is for the operator, not a script.
_BY_HAND = (re.compile(r"virsh( -c \S+)? net-edit\b"), re.compile(r"ip( -\S+)* (link|route|addr|address) show\b"))


def by_hand(command: str) -> bool:
    return all(any(p.match(part.strip()) for p in _BY_HAND) for part in command.split("&&"))


def rank(check_id: str) -> tuple[int, str]:
    """Where a check's fix goes: its place in ORDER; a check ORDER does not know (a site's) last."""
    return (RANK.get(check_id, len(ORDER)), check_id)


_MAC = re.compile(r"(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}")


def guest_and_tap(subject: str | None) -> tuple[str | None, str | None]:
    """A VM check's subject `guest:tap` (`guest:mac` where the guest declares no tap). A tap's
    name cannot hold a colon (the kernel refuses it), so the guest is all before the last one."""
    if not subject or ":" not in subject:
        return None, None
    if _MAC.fullmatch(subject[-17:]) and subject[-18:-17] == ":":
        return subject[:-18], None
    guest, _, tap = subject.rpartition(":")
    return guest, tap


def guard_values(profile: dict) -> dict[str, str]:
    """The words guards take from the audit's profile, each quoted for the shell."""
    import ipaddress

    from ..profile import Profile

    known = {k: v for k, v in (profile or {}).items() if k in Profile.__dataclass_fields__}  # no guard reads a waiver
    try:
        p = Profile(**known)
        subnet = p.subnet
    except (TypeError, ValueError):
        p = Profile()
        subnet = p.subnet
    keys = ["net.ipv4.conf.all.forwarding"] + (["net.ipv6.conf.all.forwarding"] if p.require_ipv6_forwarding else [])
    forwarding = " || ".join([_now_off(k) for k in keys] + [_at_boot_off(k) for k in keys])
    q = shlex.quote
    return {"network": q(p.network), "bridge": q(p.bridge), "gateway": q(p.gateway), "subnet": q(subnet),
            "gateway_ip": re.escape(str(ipaddress.ip_interface(p.gateway).ip)),
            "dnsmasq_conf": q(f"dnsmasq/{p.network}.conf"), "forwarding_off": forwarding}


def fill(template: str, values: dict[str, str]) -> str:
    """A guard with its {names} filled (already quoted); `{{`, `}}` give braces."""
    filled = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group()), template)
    return filled.replace("{{", "{").replace("}}", "}")


def _guarded_parts(command: str) -> list[tuple[str, str]] | None:
    """(test, part) for each part of a fix joined by ` && `, where every part is a rule to add or
    delete or a sysctl; None when one is of another kind."""
    parts = []
    for part in command.split(" && "):
        try:
            test = _part_guard(shlex.split(part))
        except ValueError:
            return None
        if test is None:
            return None
        parts.append((test, part))
    return parts or None


def command_guard(command: str) -> str | None:
    """A test that succeeds while a fix has not been applied, read from the fix itself where it is
    a rule to add or delete or a sysctl (the packet path's fixes): while any part of it is still
    to do. None when the fix is of another kind."""
    parts = _guarded_parts(command)
    if parts is None:
        return None
    return parts[0][0] if len(parts) == 1 else " || ".join(f"{{ {test}; }}" for test, _ in parts)


def stepwise(command: str) -> str:
    """A fix of several guarded parts with each part run only while it is still to do (a fix
    half applied is finished, never doubled); any other fix as it is."""
    parts = _guarded_parts(command)
    if parts is None or len(parts) == 1:
        return command
    return " && ".join(f"if {test}; then {part}; fi" for test, part in parts)


# lasting.py's insert of a rule's line before the COMMIT of a table's part of rules.v4
_INSERT = re.compile(r"/\^\\\*\w+\[\[:space:\]\]\*\$/,/\^COMMIT\[\[:space:\]\]\*\$/\{/\^COMMIT/i (.+)")


def _file_guard(words: list[str]) -> str | None:
    """A file written whole (`printf '%s\\n' LINE... > FILE`) is to do while it holds anything else; a
    line added at its end (`printf '\\n%s\\n' LINE >> FILE`) while the file has no such line."""
    q = shlex.quote
    if len(words) == 5 and words[3] == ">>" and words[1] == "\\n%s\\n":
        return f"! grep -qxF -- {q(words[2])} {q(words[4])} 2>/dev/null"
    if words[-2:-1] == [">"] and words[1] == "%s\\n":
        lines = " ".join(q(w) for w in words[2:-2])
        return f'[ "$(printf \'%s\\n\' {lines})" != "$(cat {q(words[-1])} 2>/dev/null)" ]'
    return None


def _part_guard(words: list[str]) -> str | None:
    q = " ".join
    quoted = [shlex.quote(w) for w in words]
    if len(words) == 3 and words[:2] == ["sysctl", "-w"] and "=" in words[2]:
        key, _, value = words[2].partition("=")
        return f'[ "$(sysctl -n {shlex.quote(key)} 2>/dev/null)" != {shlex.quote(value)} ]'
    if words[:1] in (["iptables"], ["iptables-legacy"]):
        at = next((i for i, w in enumerate(words) if w in ("-I", "-A", "-D")), None)
        if at is None or at + 2 >= len(words):
            return None
        rest = words[at + 2:]
        if words[at] == "-I" and rest and rest[0].isdecimal():
            rest = rest[1:]
        if words[at] == "-D" and len(rest) == 1 and rest[0].isdecimal():
            return None  # by its place: the rule there after the fix is another
        check = q(quoted[:at] + ["-C", quoted[at + 1]] + [shlex.quote(w) for w in rest])
        return f"{check} 2>/dev/null" if words[at] == "-D" else f"! {check} 2>/dev/null"
    if words[:3] == ["nft", "delete", "rule"] and len(words) == 8 and words[6] == "handle":
        return f"nft -a list chain {q(quoted[3:6])} 2>/dev/null | grep -q '# handle {int(words[7])}$'" \
            if words[7].isdecimal() else None
    if words[:2] == ["nft", "insert"] or words[:2] == ["nft", "add"]:
        if len(words) < 7 or words[2] != "rule":
            return None
        # nft lists a rule in its own spelling (names in quotes, a set without braces): compared without them
        rule = re.sub(r'[\s"{}]', "", "".join(words[6:]))
        return f"! nft list chain {q(quoted[3:6])} 2>/dev/null | tr -d '\" \\t{{}}' | grep -qF -- {shlex.quote(rule)}"
    if words[:1] == ["ufw"] and len(words) > 2 and "allow" in words[1:3]:
        # `ufw show added` lists each user rule as the command that adds it, in ufw's own spelling
        # (the one ufw_rule writes); ufw would skip an existing rule anyway ("Skipping adding existing rule").
        return f"! ufw show added 2>/dev/null | grep -qxF -- {shlex.quote(' '.join(words))}"
    if words[:1] == ["printf"]:
        return _file_guard(words)
    if len(words) == 7 and words[:3] == ["sed", "-i", "-e"] and words[4:6] == ["-e", "}"] and _INSERT.fullmatch(words[3]):
        # a line put in an iptables-restore file's part for a table (lasting.py): there once it is
        return f"! grep -qxF -- {shlex.quote(_INSERT.fullmatch(words[3]).group(1))} {quoted[6]} 2>/dev/null"
    if len(words) == 3 and words[:2] == ["systemctl", "enable"]:
        return f"! systemctl is-enabled --quiet {quoted[2]}"
    if words[:2] == ["virsh", "net-start"] and len(words) == 3:
        return _NET_INFO.replace("{field}", "Active").replace("{network}", quoted[2])
    return None
