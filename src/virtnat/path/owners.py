"""Whose a table or rule looks like, and the accept to add there (pure)."""
from __future__ import annotations

import re
import shlex

from ..facts.ruleset import Table
from .packets import FORWARD, LOCAL_IN, Packet

# Chain name prefixes of the tools that write iptables rules.
PREFIXES = (
    ("LIBVIRT_", "libvirt"), ("DOCKER", "Docker"), ("ufw-", "ufw"), ("ufw6-", "ufw"), ("f2b-", "fail2ban"),
    ("KUBE-", "Kubernetes"), ("cali-", "Calico"), ("ts-", "Tailscale"), ("CNI-", "CNI (podman)"),
    ("NETAVARK", "podman (netavark)"), ("IN_", "firewalld"), ("FWD_", "firewalld"), ("INPUT_ZONES", "firewalld"),
)
NFT_TABLES = (("libvirt", "libvirt"), ("firewalld", "firewalld"), ("docker", "Docker"), ("netavark", "podman (netavark)"),
              ("tailscale", "Tailscale"), ("kube", "Kubernetes"), ("ufw", "ufw"))

# The iptables option that matches each field of an accept (ct_state needs -m conntrack).
IPT_OPTIONS = {"iif": "-i", "oif": "-o", "l4proto": "-p", "dport": "--dport"}


def _by_prefix(name: str) -> str | None:
    return next((who for prefix, who in PREFIXES if name.startswith(prefix)), None)


def owner(table: Table, chain: str | None = None, policy: bool = True) -> str:
    """A short name for who wrote this table, or this chain of it. A policy is the table's
    owner's; a rule in a builtin chain (INPUT, FORWARD...) is the host's own unless its chain
    says otherwise: Docker's chains in the table do not make an admin's rule Docker's."""
    if table.source == "nftables":
        for part, who in NFT_TABLES:
            if part in table.name.lower():
                return who
        if chain and _by_prefix(chain):
            return _by_prefix(chain)
        if table.family == "inet" and table.name == "filter":
            return "a host nftables table, like Debian's /etc/nftables.conf"
        return "a host nftables table"
    if chain and _by_prefix(chain):
        return _by_prefix(chain)
    if not policy:
        return f"a host {table.source} rule"
    tools = sorted({who for name in table.chains for who in [_by_prefix(name)] if who and who != "libvirt"})
    if tools:
        return f"{' or '.join(tools)}, whose chains are in this table"
    return f"host {table.source} rules"


# A name a host gave (a table, a chain, an interface) goes into a fix as it is only when it is
# plain; any other is quoted for the shell (and, for nft, as nft's own string): a fix runs what
# it says and nothing a name says.
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _sh(value) -> str:
    """A word of an iptables command: the shell hands it to iptables as it is."""
    return shlex.quote(str(value))


def _nft(value, quoted: bool = False) -> str:
    """A name in an nft command: nft parses its arguments as one line, so a name that is not
    plain goes in nft's double quotes, inside the shell's single ones (a name with a double
    quote or a line break in it has no nft spelling: it stays shell-quoted, and nft refuses it)."""
    text = str(value)
    if _PLAIN.fullmatch(text):
        return f'"{text}"' if quoted else text
    if '"' in text or "\n" in text:
        return shlex.quote(text)
    return shlex.quote(f'"{text}"')


def _nft_words(accept) -> str:
    words = []
    for key, value in accept:
        if key == "iif":
            words.append(f"iifname {_nft(value, quoted=True)}")
        elif key == "oif":
            words.append(f"oifname {_nft(value, quoted=True)}")
        elif key == "l4proto":  # with the dport, if any
            port = dict(accept).get("dport")
            words.append(f"{value} dport {port}" if port else f"meta l4proto {value}")
        elif key == "ct_state":
            words.append("ct state { " + ", ".join(str(value).split(",")) + " }")
    return " ".join(words + ["accept"])


def _ipt_words(accept) -> str:
    words = []
    for key, value in accept:
        if key in IPT_OPTIONS:
            words += [IPT_OPTIONS[key], _sh(value)]
        elif key == "ct_state":
            words += ["-m", "conntrack", "--ctstate", str(value).upper()]
    return " ".join(words + ["-j", "ACCEPT"])


def accept_rule(table: Table, chain: str, accept) -> str:
    """The command that puts an accept for the packet at the top of that base chain."""
    if table.source == "nftables":
        return f"nft insert rule {_nft(table.family)} {_nft(table.name)} {_nft(chain)} {_nft_words(accept)}"
    tool = "iptables-legacy" if table.source == "iptables-legacy" else "iptables"
    if table.name == "filter" and chain == "FORWARD" and "DOCKER-USER" in table.chains:
        chain = "DOCKER-USER"  # Docker's place for the host's own forward rules
    flag = "" if table.name == "filter" else f" -t {_sh(table.name)}"
    return f"{tool}{flag} -I {_sh(chain)} {_ipt_words(accept)}"


def delete_rule(table: Table, chain: str, rule) -> str:
    """The command that removes one rule."""
    if table.source == "nftables":
        return f"nft delete rule {_nft(table.family)} {_nft(table.name)} {_nft(chain)} handle {_nft(rule.handle)}"
    tool = "iptables-legacy" if table.source == "iptables-legacy" else "iptables"
    flag = "" if table.name == "filter" else f" -t {_sh(table.name)}"
    return f"{tool}{flag} -D {_sh(chain)} {_sh(rule.position)}"


def ufws(who: str) -> bool:
    """owner() names ufw alone: a rule in one of its chains, or the policy of a table whose only
    tool chains are ufw's (ufw sets the builtin chains' policies from /etc/default/ufw)."""
    return who.split(",")[0] == "ufw"


def ufw_rule(packet: Packet) -> str:
    """ufw's own command that lets the packet through: a user rule, which ufw applies at once,
    keeps in /etc/ufw/user.rules and loads at every reload and boot (an iptables rule beside its
    chains outlives `ufw reload`, which leaves the builtin chains alone, but is in no file: the
    next boot loses it; measured on lab 11). Forwarded: a route rule from its input to its output
    interface; to or from the host: a rule in or out on its interface, with its port and protocol.
    ufw has no connection state: a reply is let through as its interfaces say (its before.rules
    accept RELATED,ESTABLISHED ahead of every user rule, so a reply it drops is rare)."""
    fields = dict(packet.accept)
    if packet.hooks == FORWARD:
        words = ["ufw", "route", "allow", "in", "on", _sh(packet.iif)] + (["out", "on", _sh(packet.oif)] if packet.oif else [])
    elif packet.hooks == LOCAL_IN:
        words = ["ufw", "allow", "in", "on", _sh(packet.iif)]
    else:
        words = ["ufw", "allow", "out", "on", _sh(packet.oif)]
    if fields.get("dport"):
        words += ["to", "any", "port", _sh(fields["dport"])]
    if fields.get("l4proto") in ("tcp", "udp"):
        words += ["proto", fields["l4proto"]]
    return " ".join(words)
