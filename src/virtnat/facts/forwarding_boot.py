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

ALL = ("net/ipv4/ip_forward", "net/ipv4/conf/all/forwarding")
DEFAULT = "net/ipv4/conf/default/forwarding"
LIBVIRT = "libvirt's net.ipv4.ip_forward=1 when it starts the network"


def normalize(key: str) -> str:
    """A key in systemd-sysctl's form, with slashes: in `net.ipv4.conf.eth0/10.forwarding` dots
    separate and a slash stands for a dot of an interface's name (sysctl_normalize)."""
    key = key.strip()
    first = next((c for c in key if c in "./"), "/")
    return key.translate(str.maketrans("./", "/.")) if first == "." else key


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


def options(files: dict[str, tuple[str, str]], systemd: bool = True) -> list[tuple[str, str | None, str]]:
    """(key, value, file) in the order the boot writes them; value None: a `-key` line, which keeps
    globs off that key. Without systemd, procps' `sysctl --system` writes every line as it reads it."""
    found: list[tuple[str, str | None, str]] = []
    for path in sysctl.boot_order(files, systemd):
        for raw in files[path][1].splitlines():
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            key, equals, value = line.partition("=")
            if not equals and not key.startswith("-"):
                continue
            found.append((normalize(key.lstrip("-")), value.strip() if equals else None, path))
    if not systemd:
        return found
    ordered: dict[str, tuple[str | None, str]] = {}
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
    """The boot's writes, replayed for one interface (and all and default, which it follows)."""

    def __init__(self, interface: str, present: bool, opts: list[tuple[str, str | None, str]]):
        self.key, self.opts = interface_key(interface), opts
        self.values = {ALL[0]: Value("0", "the kernel's 0"), DEFAULT: Value("0", "the kernel's 0")}
        if present:
            self.values[self.key] = Value("0", "the kernel's 0")
        self.explicit = {k for k, _, _ in opts if not _glob(k)}
        self.notes: list[str] = []

    def write(self, key: str, value: str, why: str, by: str) -> bool:
        """Write value to key as the kernel takes it; False: nothing changed."""
        number = _number(value)
        if number is None:
            return False
        if key in ALL:
            if number == self.values[ALL[0]].value:
                return False
            for name in [ALL[0], DEFAULT] + ([self.key] if self.key in self.values else []):
                self.values[name] = Value(number, why if name == ALL[0] else f"{why}, which sets every interface's", by)
        elif key in (DEFAULT, self.key) and (key == DEFAULT or self.key in self.values):
            self.values[key] = Value(number, why, by)
        return True

    def sysctl(self, prefix: str | None = None) -> None:
        """systemd-sysctl's run (prefix: udev's, for one interface as it appears)."""
        for key, value, path in self.opts:
            if value is None:
                continue
            present = sorted([*ALL, DEFAULT] + ([self.key] if self.key in self.values else []))
            keys = [k for k in present if _matches(key, k) and k not in self.explicit] if _glob(key) else [key]
            for name in keys:
                if prefix is None or name.startswith(prefix):
                    self.write(name, value, f"{shown(key)} = {value} in {path}", "sysctl")

    def made(self, interface: str) -> None:
        """The interface is made (after boot): it starts with conf.default's value."""
        default = self.values[DEFAULT]
        self.values[self.key] = Value(default.value, f"{interface} is made when libvirt starts the network and takes "
                                                     f"net.ipv4.conf.default.forwarding: {default.why}", default.by)

    def libvirt(self) -> None:
        if not self.write(ALL[0], "1", LIBVIRT, "libvirt"):
            self.notes.append("libvirt's net.ipv4.ip_forward=1 changes nothing: it is 1 already")

    def manager(self, setting) -> None:
        """A network manager's write for the interface (netconfig.Setting)."""
        if setting is None or setting.value is None:
            return
        if setting.kind == "all":  # networkd before 256: IPForward= turns net.ipv4.ip_forward on
            self.write(ALL[0], "1", f"{setting.source}, which turns net.ipv4.ip_forward on", "networkd")
        else:
            self.write(self.key, setting.value, setting.source, "nm" if "NetworkManager" in setting.source else "networkd")


def next_boot(interface: str, files: dict[str, tuple[str, str]], *, systemd: bool = True, present: bool = True,
              udev: bool = True, networkd_global=None, manager=None) -> Prediction:
    """interface's net.ipv4.conf.IF.forwarding once the boot is over and libvirt has started its
    network. present: the interface exists when systemd-sysctl runs (the uplink); else libvirt
    makes it (the bridge). networkd_global: networkd's global setting (256 and later, enabled);
    manager: what networkd or NetworkManager sets for the interface when it configures it."""
    boot = Boot(interface, present, options(files, systemd))
    prefix = f"net/ipv4/conf/{interface}/"
    boot.sysctl()
    if present and udev:
        boot.sysctl(prefix)  # udev's coldplug: the interface's own keys again
    if networkd_global is not None and networkd_global.value is not None:
        boot.write(DEFAULT, networkd_global.value, f"networkd's {networkd_global.source}", "networkd-global")
        boot.write(ALL[1], networkd_global.value, f"networkd's {networkd_global.source}", "networkd-global")
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
