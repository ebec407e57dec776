"""The facts checks assert on. Collectors fill them; checks never see raw output."""
from __future__ import annotations

from dataclasses import dataclass, field

from .fwfiles import FirewallFiles
from .netconfig import LinkConfig
from .ruleset import Table


@dataclass(frozen=True)
class LinkFacts:
    """One network interface as the kernel reports it."""

    name: str
    index: int
    kind: str | None  # rtnetlink kind: bridge, tun, veth, dummy...; None for a physical NIC
    admin_up: bool  # IFF_UP: what `ip link set X up/down` changes
    operstate: str  # UP, DOWN, UNKNOWN...: carrier as well as admin state
    mac: str
    master: str | None = None
    stp_enabled: bool | None = None  # bridges only
    addresses: tuple[str, ...] = ()  # "192.168.122.1/24", IPv4 and IPv6
    mtu: int | None = None  # None: not read (a bundle from an older probe)


@dataclass(frozen=True)
class DhcpRange:
    start: str
    end: str


@dataclass(frozen=True)
class NetworkDefinition:
    """What a network's XML declares that decides how it runs; its live and its persistent
    definition are compared (NET-17): the persistent one is what comes back at the next start."""

    forward_mode: str | None
    bridge: str | None
    addresses: tuple[str, ...]  # "192.168.122.1/24", every <ip>, IPv4 and IPv6
    dhcp_ranges: tuple[DhcpRange, ...]  # of every <ip>


@dataclass(frozen=True)
class NetworkFacts:
    """A libvirt network: its state flags and what its XML declares (once: its definition)."""

    name: str
    active: bool
    persistent: bool
    autostart: bool
    stp: bool
    definition: NetworkDefinition  # as it runs (the XML read; for an inactive network, its persistent one)
    persistent_definition: NetworkDefinition | None = None  # what its next start uses; None: not read

    @property
    def forward_mode(self) -> str | None:
        """"nat", "route", ...; None for an isolated network."""
        return self.definition.forward_mode

    @property
    def bridge(self) -> str | None:
        return self.definition.bridge

    @property
    def gateway(self) -> str | None:
        """The host's address on the network, its first IPv4 one: "192.168.122.1/24"."""
        return next((a for a in self.definition.addresses if ":" not in a), None)

    @property
    def dhcp_ranges(self) -> tuple[DhcpRange, ...]:
        """The IPv4 DHCP ranges."""
        return tuple(r for r in self.definition.dhcp_ranges if ":" not in r.start)


@dataclass(frozen=True)
class GuestNic:
    """One interface of a running guest, as its live XML declares it."""

    guest: str
    mac: str
    tap: str | None  # <target dev=...>: the host side of the interface
    network: str | None  # <source network=...> for type='network'
    bridge: str | None  # <source bridge=...>

    @property
    def label(self) -> str:
        return f"{self.guest}:{self.tap or self.mac}"

    @property
    def expected_tap_mac(self) -> str:
        """libvirt gives the tap the guest's MAC with the first byte set to fe."""
        return "fe" + self.mac.lower()[2:]


@dataclass(frozen=True)
class LibvirtFacts:
    uri: str
    version: str
    networks: dict[str, NetworkFacts]
    guest_nics: tuple[GuestNic, ...]
    running_guests: tuple[str, ...]
    # The daemons that were not running, (daemon, service state, socket state): libvirt was then
    # read from its state files, since a connection would have made systemd start them.
    stopped: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class ProcessFacts:
    pid: int
    comm: str
    cmdline: str
    same_netns: bool  # the process lives in the audited network namespace
    uid: int | None = None  # its real user id, where the probe read it
    exe: str | None = None  # the executable it runs, where the probe read it

    @property
    def executable(self) -> str:
        """The executable's file name (an upgraded binary reads `/usr/sbin/dnsmasq (deleted)`)."""
        return (self.exe or "").removesuffix(" (deleted)").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FirewallFacts:
    """libvirt's and firewalld's rules, reduced to what the checks need."""

    backend: str | None  # "iptables" or "nftables": where libvirt's rules were found
    masquerade_sources: frozenset[str]  # CIDRs masqueraded when leaving their own subnet
    bridge_rules: dict[str, frozenset[str]]  # bridge -> roles: input, output, forward_in, forward_out
    zones: dict[str, str]  # interface -> firewalld zone, from firewalld's own rules
    problems: tuple[str, ...] = ()  # rulesets that could not be read, one line each
    tables: tuple[Table, ...] = ()  # every table of every netfilter, for the packet-path model


@dataclass(frozen=True)
class RouteFacts:
    """One IPv4 route of any table, as `ip route` lists it."""

    dst: str  # CIDR; "0.0.0.0/0" for the default route
    dev: str | None
    gateway: str | None = None
    type: str = "unicast"  # unicast, local, broadcast, blackhole, unreachable, prohibit
    table: str = "main"
    metric: int = 0
    prefsrc: str | None = None


@dataclass(frozen=True)
class PolicyRule:
    """One IPv4 policy routing rule (`ip rule`): which packets it selects and what it does."""

    priority: int
    action: str  # lookup, goto, nop, blackhole, unreachable, prohibit
    table: str | None = None  # lookup: main, local, default or a number
    target: int | None = None  # goto: the priority evaluation continues at
    invert: bool = False  # `not`: it selects the packets its selectors do not
    src: str | None = None  # CIDR; None: from all
    dst: str | None = None  # CIDR; None: to all
    iif: str | None = None
    oif: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None  # None with a fwmark: every bit
    ipproto: str | None = None
    sport: tuple[int, int] | None = None
    dport: tuple[int, int] | None = None
    uidrange: tuple[int, int] | None = None
    tos: int | None = None
    suppress_prefixlength: int | None = None
    suppress_ifgroup: str | None = None
    unknown: tuple[str, ...] = ()  # selectors the model does not read, as iproute2 names them

    @property
    def text(self) -> str:
        """The rule as `ip rule` lists it: `5210: not from all fwmark 0xca6c lookup 51820`."""
        words = [f"{self.priority}:", *(["not"] if self.invert else []), f"from {self.src or 'all'}"]
        words += [f"to {self.dst}"] if self.dst else []
        for name in ("iif", "oif", "ipproto", "tos"):
            value = getattr(self, name)
            if value is not None:
                words.append(f"{name} {hex(value) if name == 'tos' else value}")
        if self.fwmark is not None:
            words.append(f"fwmark {hex(self.fwmark)}" + (f"/{hex(self.fwmask)}" if self.fwmask is not None else ""))
        for name in ("sport", "dport", "uidrange"):
            lo_hi = getattr(self, name)
            if lo_hi is not None:
                words.append(f"{name} {lo_hi[0]}" if lo_hi[0] == lo_hi[1] and name != "uidrange" else f"{name} {lo_hi[0]}-{lo_hi[1]}")
        words += list(self.unknown)
        words += [f"lookup {self.table}"] if self.action == "lookup" else [f"goto {self.target}"] if self.action == "goto" else [self.action]
        if self.suppress_prefixlength is not None:
            words.append(f"suppress_prefixlength {self.suppress_prefixlength}")
        if self.suppress_ifgroup is not None:
            words.append(f"suppress_ifgroup {self.suppress_ifgroup}")
        return " ".join(words)


# The rules every Linux host has: lookups in local, main and default.
DEFAULT_RULES = (PolicyRule(0, "lookup", "local"), PolicyRule(32766, "lookup", "main"),
                 PolicyRule(32767, "lookup", "default"))


@dataclass(frozen=True)
class SocketFacts:
    """A listening TCP or bound UDP socket and the processes that hold it."""

    proto: str  # tcp, udp
    address: str  # "0.0.0.0", "192.168.122.1"; "*" is a dual-stack wildcard, "::" IPv6 only
    port: int
    device: str | None = None  # SO_BINDTODEVICE, as ss shows "0.0.0.0%virbr0"
    processes: tuple[tuple[str, int], ...] = ()  # (command name, pid)


@dataclass(frozen=True)
class UnitFacts:
    """One systemd unit of the daemons, as systemd shows it or (no systemd running) its files say."""

    name: str  # "libvirtd.service"
    enabled: str  # UnitFileState / `systemctl is-enabled`: enabled, disabled, masked, static, not-found...
    loaded: str | None  # LoadState (systemd running): loaded, not-found, masked
    active: str | None  # ActiveState (systemd running): active, inactive, failed...; None without systemd
    after: tuple[str, ...] | None  # the units it is ordered after; None: cannot be known (no readable unit file)
    triggered_by: tuple[str, ...] = ()  # the sockets that start it (systemd running)
    files: tuple[str, ...] = ()  # without systemd: the unit file and drop-ins read


@dataclass(frozen=True)
class UnitsFacts:
    """The daemons' units: firewalld, libvirtd and the modular virtqemud/virtnetworkd, services and sockets."""

    systemd: bool  # PID 1 is systemd (/run/systemd/system exists)
    systemctl: bool  # systemctl is installed (without it, nothing of the boot can be read)
    units: dict[str, UnitFacts]
    libvirt_sockets: tuple[str, ...] = ()  # libvirt's read-only sockets present: libvirt, virtqemud, virtnetworkd
    complete: bool = True  # False: an older probe's output, which read firewalld.service's enablement alone


@dataclass(frozen=True)
class SystemFacts:
    """What the host's commands and files say: sysctls, daemons, packages, service units."""

    sysctl_runtime: dict[str, str]
    sysctl_persisted: dict[str, str]
    sysctl_sources: dict[str, str]  # key -> file that set its persisted value
    sysctl_conf_at_boot: bool  # whether the boot reads /etc/sysctl.conf at all
    processes: tuple[ProcessFacts, ...]
    binaries: dict[str, str | None]  # name -> path, None when absent
    network_driver: str | None  # path of libvirt's network driver, None when absent
    firewall: FirewallFacts | None
    firewall_error: str | None = None
    notes: tuple[str, ...] = field(default=())
    routes: tuple[RouteFacts, ...] | None = None  # None: could not be read
    policy_rules: tuple[PolicyRule, ...] | None = ()  # every `ip rule` in order; (): not read (an older probe); None: could not be read
    sockets: tuple[SocketFacts, ...] | None = None  # None: could not be read
    path_problems: tuple[str, ...] = ()  # what of routes and sockets could not be read, one line each
    units: UnitsFacts | None = None  # None: the facts hold no units section (an older probe)
    sysctl_unread: dict[str, str] = field(default_factory=dict)  # key -> value /etc/sysctl.conf sets, unread at boot
    sysctl_files: dict[str, tuple[str, str]] = field(default_factory=dict)  # sysctl.d and sysctl.conf: path -> (realpath, text)
    link_config: LinkConfig | None = None  # who else sets forwarding at boot; None: an older probe's output
    firewall_files: FirewallFiles | None = None  # who keeps firewall rules past a boot; None: an older probe's output

    def forwarding(self, interface: str, family: int = 4) -> str | None:
        """An interface's own forwarding value ("1", "0"), which decides for the packets that come
        in on it; None: not read (an older probe's output, or no such interface)."""
        return self.sysctl_runtime.get(f"net.ipv{family}.conf.{interface}.forwarding")

    @property
    def route_rules(self) -> tuple[str, ...] | None:
        """The policy rules beyond every host's three (local, main, default), as `ip rule` lists them."""
        return None if self.policy_rules is None else tuple(r.text for r in self.policy_rules if r not in DEFAULT_RULES)

    def running(self, *names: str) -> tuple[ProcessFacts, ...]:
        """Processes of the audited host whose command name is one of names."""
        return tuple(p for p in self.processes if p.same_netns and p.comm in names)
