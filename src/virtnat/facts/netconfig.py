"""What the network managers will set for a link's IPv4 forwarding at the next boot, from their
files (pure): systemd-networkd's .network files, their drop-ins and networkd.conf, and
NetworkManager's keyfiles, as the probe's link-config section holds them.

systemd-networkd, as src/network/networkd-sysctl.c decides it:
- 256 and later (PR 31423): for a link it manages, the .network file's `IPv4Forwarding=` (its
  drop-ins applied), else `IPMasquerade=ipv4|both` (yes), else networkd.conf's `[Network]
  IPv4Forwarding=`; unset everywhere: the link's value is kept (link_get_ip_forwarding). A set
  global value is written to conf.default and then conf.all when networkd starts
  (manager_set_ip_forwarding). Since 256.x (PR 34014, issue 34010; PR 39419 shows where) a link
  configured with `IPMasquerade=ipv4|both` turns the global `IPv4Forwarding=yes` on unless
  networkd.conf sets it (link_set_ip_forwarding).
  The deprecated `IPForward=` is taken as the link's `IPv4Forwarding=` where that is unset.
- before 256: `IPForward=yes|ipv4|both` (or `IPMasquerade=`, which implied it) writes 1 to
  net.ipv4.ip_forward when the link is configured; nothing turns forwarding off.
Which .network file a link uses is what networkd says now: /run/systemd/netif/links/IFINDEX's
NETWORK_FILE= (and ADMIN_STATE=), not a reimplementation of [Match].

NetworkManager 1.54 and later has a per-connection `ipv4.forwarding` (default, no, yes, auto):
a keyfile's `[ipv4] forwarding=yes|no` is applied to the connection's interface when NetworkManager
activates it; default and auto are not modelled (named in the note)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .framed import Framed, basename

NETWORK_DIRS = ("/etc/systemd/network", "/run/systemd/network", "/usr/local/lib/systemd/network",
                "/usr/lib/systemd/network", "/lib/systemd/network")
CONF_DIRS = ("/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd", "/lib/systemd")
ENABLED = ("enabled", "enabled-runtime", "alias", "static", "indirect", "generated")
_TRUE, _FALSE = ("1", "yes", "y", "true", "t", "on"), ("0", "no", "n", "false", "f", "off")
MANAGED_NOT = ("unmanaged", "")


@dataclass(frozen=True)
class LinkConfig:
    """The probe's link-config section: who configures links at boot, and their files."""

    systemd_version: int | None  # systemctl --version; None: no systemd
    udev: bool  # systemd-udevd runs (it does not in a container): it applies sysctl.d to interfaces as they appear
    networkd: str | None  # `systemctl is-enabled systemd-networkd.service`; None: the section does not say
    nm_version: tuple[int, ...] | None  # NetworkManager --version; None: not installed
    nm: str | None  # `systemctl is-enabled NetworkManager.service`; None: the section does not say
    link_states: dict[int, dict[str, str]] = field(default_factory=dict)  # ifindex -> /run/systemd/netif/links/IFINDEX
    files: dict[str, str] = field(default_factory=dict)  # path -> text: networkd.conf(.d), .network(.d), keyfiles
    masked: tuple[str, ...] = ()  # files linked to /dev/null
    unreadable: tuple[str, ...] = ()
    incomplete: str | None = None  # why not every file was read (a name the probe would not print, too many)

    @property
    def networkd_enabled(self) -> bool:
        return self.networkd in ENABLED

    @property
    def nm_enabled(self) -> bool:
        return self.nm in ENABLED


def _version(text: str | None) -> tuple[int, ...] | None:
    found = re.match(r"\s*(\d+(?:\.\d+)*)", text) if text else None
    return tuple(int(n) for n in found.group(1).split(".")) if found else None


def parse_link_config(text: str) -> LinkConfig:
    """LinkConfig from the link-config section (probe.sh's link_config)."""
    said: dict[str, str] = {}
    frames, states, masked, incomplete = Framed(), {}, [], []
    state_lines: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@@link "):
            index = line.removeprefix("@@link ").strip()
            state_lines = states.setdefault(int(index), []) if index.isdecimal() else None
            continue
        if state_lines is not None and line.startswith("|"):
            state_lines.append(line[1:])
            continue
        state_lines = None
        if line.startswith("@@masked "):
            masked.append(line.removeprefix("@@masked ").strip())
        elif line.startswith(("@@unsafe-name", "@@too-many")):
            incomplete.append("a file name the probe does not print" if "unsafe" in line else "more files than the probe reads")
        elif not frames.take(line):
            word, _, rest = line.partition(" ")
            said.setdefault(word, rest.strip())
    systemd = _version(said.get("systemd"))
    return LinkConfig(systemd_version=systemd[0] if systemd else None, udev=said.get("udev") == "running",
                      networkd=said.get("networkd"), nm_version=_version(said.get("nm-version")), nm=said.get("nm"),
                      link_states={i: _keys(lines) for i, lines in states.items()}, files=frames.texts(),
                      masked=tuple(masked), unreadable=tuple(frames.unreadable),
                      incomplete="; ".join(dict.fromkeys(incomplete)) or None)


def _keys(lines: list[str]) -> dict[str, str]:
    """A networkd state file's KEY=value lines. The keys read (ADMIN_STATE, NETWORK_FILE) are never
    quoted; its comment and any line without `=` name no key that is read."""
    return {key.strip(): value.strip() for key, _, value in (line.partition("=") for line in lines)}


def ini(text: str, section: str) -> dict[str, str]:
    """The keys of one section of a systemd-style (or keyfile) ini text: the last assignment wins.
    A comment line (`#`, `;`) is kept under a key that starts with its mark, which no reader asks for."""
    found, current = {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == section and "=" in line:
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    value = value.strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


@dataclass(frozen=True)
class Setting:
    """What a manager sets: value "1"/"0" and where it says so."""

    value: str
    source: str
    kind: str = "link"  # link: the interface's own value; all: net.ipv4.ip_forward (networkd < 256)


def _read(config: LinkConfig, paths: list[str]) -> list[str]:
    """Those of paths the probe read: a masked file (a link to /dev/null) is not; an empty one,
    which masks too, is read and says nothing."""
    return [path for path in paths if path in config.files]


def _dropins(config: LinkConfig, dirs: tuple[str, ...], dropin_dir: str) -> list[str]:
    """The drop-ins in dropin_dir of every dir, in file-name order; a name in an earlier dir hides
    (masked too) the same name in a later one. The probe lists only their .conf files."""
    found: dict[str, str] = {}
    for d in dirs:
        for path in (*config.files, *config.masked):
            if path.startswith(f"{d}/{dropin_dir}/"):
                found.setdefault(basename(path), path)
    return [found[n] for n in sorted(found)]


def _layered(config: LinkConfig, dirs: tuple[str, ...], name: str, dropin_dir: str) -> list[str]:
    """The file `name` (the first of dirs that has it, masked or not) and then its drop-ins, as
    systemd reads them."""
    main = next((f"{d}/{name}" for d in dirs if f"{d}/{name}" in (*config.files, *config.masked)), None)
    return _read(config, [main, *_dropins(config, dirs, dropin_dir)])


def network_keys(config: LinkConfig, network_file: str) -> tuple[dict[str, str], dict[str, str]]:
    """A .network file's [Network] keys with its drop-ins applied, and which file set each."""
    keys, where = {}, {}
    for path in _read(config, [network_file, *_dropins(config, NETWORK_DIRS, basename(network_file) + ".d")]):
        for key, value in ini(config.files[path], "Network").items():
            keys[key], where[key] = value, path
    return keys, where


def _masquerades_ipv4(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("ipv4", "both", *_TRUE)


def _forward_ipv4(value: str | None) -> bool | None:
    """The deprecated IPForward= for IPv4: yes/ipv4/both on, no/ipv6 off, kernel or unset: None."""
    if value is None:
        return None
    value = value.strip().lower()
    if value in ("ipv4", "both") or value in _TRUE:
        return True
    return False if value in ("ipv6", *_FALSE) else None


def networkd_global(config: LinkConfig) -> Setting | None:
    """networkd's global IPv4Forwarding= (256 and later, enabled): networkd.conf and its drop-ins,
    else (PR 34014) yes when a link it manages masquerades IPv4; None: unset (the kernel's values
    are kept), or networkd is not enabled or older. next_boot writes it to conf.default and conf.all."""
    if not config.networkd_enabled or config.systemd_version is None or config.systemd_version < 256:
        return None
    said = [(value, path) for path in _layered(config, CONF_DIRS, "networkd.conf", "networkd.conf.d")
            if (value := boolean(ini(config.files[path], "Network").get("IPv4Forwarding"))) is not None]
    if said:
        value, path = said[-1]
        return Setting("1" if value else "0", f"IPv4Forwarding= in {path}")
    for index in config.link_states:
        network = network_file(config, index)
        if network:
            keys, where = network_keys(config, network)
            if _masquerades_ipv4(keys.get("IPMasquerade")):
                return Setting("1", f"IPMasquerade= in {where['IPMasquerade']}, which turns the global IPv4Forwarding= on")
    return None


def networkd_link(config: LinkConfig, index: int | None) -> tuple[Setting | None, str | None]:
    """What networkd sets for the link with this ifindex at the next boot (None: it does not
    manage it, or is not enabled), and why that cannot be known (None: it can)."""
    if not config.networkd_enabled or config.systemd_version is None:
        return None, None
    if index not in config.link_states:
        return None, (f"systemd-networkd is enabled but its state of the link (/run/systemd/netif/links/{index}) could not "
                      f"be read: which .network file manages it is not known")
    network = network_file(config, index)
    if network is None:
        return None, None
    if network not in config.files:
        return None, f"{network}, the .network file of the link, could not be read"
    keys, where = network_keys(config, network)
    if config.systemd_version < 256:
        on = _forward_ipv4(keys.get("IPForward")) or _masquerades_ipv4(keys.get("IPMasquerade"))
        said = "IPForward" if _forward_ipv4(keys.get("IPForward")) else "IPMasquerade"
        return (Setting("1", f"{said}= in {where[said]}", "all") if on else None), None
    explicit = boolean(keys.get("IPv4Forwarding"))
    if explicit is None and _forward_ipv4(keys.get("IPForward")) is not None:
        return Setting("1" if _forward_ipv4(keys["IPForward"]) else "0", f"IPForward= in {where['IPForward']}"), None
    if explicit is not None:
        return Setting("1" if explicit else "0", f"IPv4Forwarding= in {where['IPv4Forwarding']}"), None
    if _masquerades_ipv4(keys.get("IPMasquerade")):
        return Setting("1", f"IPMasquerade= in {where['IPMasquerade']}"), None
    glob = networkd_global(config)
    if glob is not None:
        return Setting(glob.value, f"networkd's global {glob.source} (no IPv4Forwarding= in {network})"), None
    return None, None


def network_file(config: LinkConfig, index: int) -> str | None:
    """The .network file networkd configures the link with now (its state's NETWORK_FILE=), the
    link's state read; None: networkd does not manage the link."""
    state = config.link_states[index]
    return None if state.get("ADMIN_STATE", "") in MANAGED_NOT else state.get("NETWORK_FILE") or None


def nm_connection(config: LinkConfig, interface: str) -> tuple[Setting | None, str | None, str | None]:
    """What NetworkManager (1.54 and later, enabled) sets for the interface: its keyfile's
    [ipv4] forwarding=yes|no; the connection's id (for the fix), and what was not modelled."""
    if config.nm_version is None or not config.nm_enabled or config.nm_version < (1, 54, 0):
        return None, None, None
    found = []
    for path in sorted(p for p in config.files if p.endswith(".nmconnection")):  # the probe's only from its two dirs
        text = config.files[path]
        if ini(text, "connection").get("interface-name") == interface and boolean(ini(text, "connection").get("autoconnect")) is not False:
            found.append((path, ini(text, "connection").get("id") or basename(path).removesuffix(".nmconnection"),
                          ini(text, "ipv4").get("forwarding", "")))
    unread = [p for p in config.unreadable if p.endswith(".nmconnection")]
    if not found:
        return None, None, (f"NetworkManager's keyfiles {', '.join(unread)} could not be read" if unread else None)
    path, name, said = found[0]
    value = {"1": "1", "yes": "1", "0": "0", "no": "0"}.get(said.strip().lower())
    if value is None:
        what = said.strip() or "default"
        return None, name, f"NetworkManager's ipv4.forwarding={what} of connection {name!r} ({path}) is not modelled"
    return Setting(value, f"ipv4.forwarding={said.strip()} of NetworkManager's connection {name!r} ({path})"), name, None
