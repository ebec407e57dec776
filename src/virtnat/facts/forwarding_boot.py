"""An interface's IPv4 forwarding after the next boot (pure): sysctl.d as systemd-sysctl applies
it, the kernel's propagation, udev, the network managers and libvirt, in the boot's order.

The kernel (net/ipv4/devinet.c): net.ipv4.ip_forward and net.ipv4.conf.all.forwarding are one
value; writing it sets every existing interface's and conf.default's, but only when the value
changes (devinet_sysctl_forward, inet_forward_change). conf.default.forwarding changes no
existing interface: it is what an interface made later starts with. A per-interface key changes
that interface alone.
systemd-sysctl (src/sysctl/sysctl.c): every file is read first, in file-name order; a key's last
assignment wins and moves to the end of the order (the same value again keeps its place); keys
are then written in that order. A glob (`net.ipv4.conf.*.forwarding`) is written to each match
that exists then, except where a key of its own is set. An interface that appears later gets its
keys and matching globs from udev (99-systemd.rules: systemd-sysctl --prefix=/net/ipv4/conf/$name),
after the program that made it; where udev does not run (a container) it never gets them.
libvirt writes net.ipv4.ip_forward=1 when it starts a NAT network, after making its bridge."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from . import sysctl

IP_FORWARD, CONF_ALL = "net/ipv4/ip_forward", "net/ipv4/conf/all/forwarding"
ALL = (IP_FORWARD, CONF_ALL)  # one value in the kernel, kept under IP_FORWARD
DEFAULT = "net/ipv4/conf/default/forwarding"
LIBVIRT = "libvirt's net.ipv4.ip_forward=1 when it starts the network"


def normalize(key: str) -> str:
    """A key in systemd-sysctl's form, with slashes: in `net.ipv4.conf.eth0/10.forwarding` dots
    separate and a slash stands for a dot of an interface's name (sysctl_normalize); a key whose
    first separator is a slash is in that form already."""
    key = key.strip()
    return key if "/" in key.partition(".")[0] else key.translate(str.maketrans("./", "/."))


def shown(key: str) -> str:
    """A slash-form key as sysctl.d files write it: net.ipv4.conf.eth0/10.forwarding."""
    return key.translate(str.maketrans("./", "/."))


def interface_key(interface: str) -> str:
    return f"net/ipv4/conf/{interface}/forwarding"


def _glob(key: str) -> bool:
    return any(c in key for c in "*?[")


def _matches(pattern: str, key: str) -> bool:
    """glob(3) on /proc/sys paths: a wildcard does not cross a slash."""
    parts, names = pattern.split("/"), key.split("/")
    return len(parts) == len(names) and all(fnmatch.fnmatchcase(n, p) for p, n in zip(parts, names))


def options(files: dict[str, tuple[str, str]], systemd: bool) -> list[tuple[str, str, str]]:
    """(key, value, file) in the order the boot writes them; value "": a `-key` line, which keeps
    globs off that key and writes nothing (the kernel takes no empty value). A comment line (`#`,
    `;`) becomes a key that starts with its mark, which names no sysctl. Without systemd, procps'
    `sysctl --system` writes every line as it reads it."""
    found: list[tuple[str, str, str]] = []
    for path in sysctl.boot_order(files, systemd):
        for raw in files[path][1].splitlines():
            key, equals, value = raw.strip().partition("=")
            if equals or key.startswith("-"):  # `-key = value`: the dash only silences errors
                found.append((normalize(key.removeprefix("-")), value.strip(), path))
    if not systemd:
        return found
    ordered: dict[str, tuple[str, str]] = {}
    for key, value, path in found:
        if key in ordered and ordered[key][0] == value:
            continue
        ordered.pop(key, None)
        ordered[key] = (value, path)
    return [(key, value, path) for key, (value, path) in ordered.items()]


def _number(value: str) -> str | None:
    """What the kernel takes from a write (proc_dointvec): an integer, else the write fails."""
    try:
        return str(int(value.strip()))
    except ValueError:
        return None


@dataclass
class Value:
    value: str
    why: str
    by: str = "kernel"  # what set it last: kernel, sysctl, libvirt, networkd, networkd-global, nm


KERNEL = Value("0", "the kernel's 0")


@dataclass
class Prediction:
    """An interface's forwarding after the next boot, what set it, and what else was said."""

    interface: str
    value: str
    why: str
    by: str
    notes: list[str] = field(default_factory=list)

    @property
    def on(self) -> bool:
        return self.value != "0"


class Boot:
    """The boot's writes, replayed for one interface (and all and default, which it follows). An
    interface made later (the bridge) has its value from the start too: made() replaces it."""

    def __init__(self, interface: str, opts: list[tuple[str, str, str]]):
        self.key, self.opts = interface_key(interface), opts
        self.values = dict.fromkeys([IP_FORWARD, DEFAULT, self.key], KERNEL)
        self.keys = sorted([*ALL, DEFAULT, self.key])  # what a glob may match, in glob(3)'s order
        self.explicit = {k for k, _, _ in opts if not _glob(k)}
        self.notes: list[str] = []

    def write(self, key: str, value: str, why: str, by: str) -> None:
        """Write value to key as the kernel takes it."""
        number = _number(value)
        if number is None:
            return
        if key in ALL:
            if number != self.values[IP_FORWARD].value:  # it sets the others only when it changes
                for name in (IP_FORWARD, DEFAULT, self.key):
                    self.values[name] = Value(number, f"{why}, which sets every interface's", by)
        elif key in (DEFAULT, self.key):
            self.values[key] = Value(number, why, by)

    def sysctl(self, prefix: str | None = None) -> None:
        """systemd-sysctl's run (prefix: udev's, for one interface as it appears)."""
        for key, value, path in self.opts:
            keys = [k for k in self.keys if _matches(key, k) and k not in self.explicit] if _glob(key) else [key]
            for name in keys:
                if prefix is None or name.startswith(prefix):
                    self.write(name, value, f"{shown(key)} = {value} in {path}", "sysctl")

    def made(self, interface: str) -> None:
        """The interface is made (after boot): it starts with conf.default's value."""
        default = self.values[DEFAULT]
        self.values[self.key] = Value(default.value, f"{interface} is made when libvirt starts the network and takes "
                                                     f"net.ipv4.conf.default.forwarding: {default.why}", default.by)

    def libvirt(self) -> None:
        if self.values[IP_FORWARD].value == "1":
            self.notes.append("libvirt's net.ipv4.ip_forward=1 changes nothing: it is 1 already")
        self.write(IP_FORWARD, "1", LIBVIRT, "libvirt")

    def manager(self, setting) -> None:
        """A network manager's write for the interface (netconfig.Setting)."""
        if setting is None:
            return
        if setting.kind == "all":  # networkd before 256: IPForward= turns net.ipv4.ip_forward on
            self.write(IP_FORWARD, "1", f"{setting.source}, which turns net.ipv4.ip_forward on", "networkd")
        else:
            self.write(self.key, setting.value, setting.source, "nm" if "NetworkManager" in setting.source else "networkd")


def next_boot(interface: str, files: dict[str, tuple[str, str]], *, systemd: bool, present: bool, udev: bool,
              networkd_global=None, manager=None) -> Prediction:
    """interface's net.ipv4.conf.IF.forwarding once the boot is over and libvirt has started its
    network. systemd: systemd-sysctl applies sysctl.d, else procps. present: the interface exists
    when systemd-sysctl runs (the uplink); else libvirt makes it (the bridge). udev: udev runs and
    applies sysctl.d to an interface as it appears. networkd_global: networkd's global setting (256
    and later, enabled); manager: what networkd or NetworkManager sets for the interface when it
    configures it."""
    boot = Boot(interface, options(files, systemd))
    prefix = f"net/ipv4/conf/{interface}/"
    boot.sysctl()
    if present and udev:
        boot.sysctl(prefix)  # udev's coldplug: the interface's own keys again
    if networkd_global is not None:
        boot.write(DEFAULT, networkd_global.value, f"networkd's {networkd_global.source}", "networkd-global")
        boot.write(CONF_ALL, networkd_global.value, f"networkd's {networkd_global.source}", "networkd-global")
    if present:
        boot.manager(manager)
    else:
        boot.made(interface)
    boot.libvirt()
    if not present:
        if udev:
            boot.sysctl(prefix)
        boot.manager(manager)
    final = boot.values[boot.key]
    return Prediction(interface, final.value, final.why, final.by, boot.notes)
