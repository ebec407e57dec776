"""The daemons' systemd units, from the probe's units section (pure): what the next boot does.

On a systemd host the section holds `systemctl show` (systemd's loaded view: state, enablement,
ordering with every drop-in applied); elsewhere `systemctl is-enabled` answers (read offline
from the symlinks) and the unit files with their drop-ins, whose After= lines give the ordering."""
from __future__ import annotations

from .model import UnitFacts, UnitsFacts

# What `systemctl is-enabled` / UnitFileState says of a unit the boot starts by itself.
ENABLED = frozenset({"enabled", "enabled-runtime", "alias", "generated"})
_RUNNING = ("active", "reloading", "activating")


def parse_units(text: str) -> UnitsFacts:
    """UnitsFacts from the units section."""
    sockets, systemd, systemctl = [], None, True
    blocks: list[dict[str, str]] = []  # systemctl show: one key=value block per unit
    offline: dict[str, dict] = {}  # no systemd: unit -> {"enabled", "files", "unreadable"}
    current = None  # the offline unit, or the file, lines belong to
    for line in text.splitlines():
        if line.startswith("socket "):
            sockets.append(line.split(" ", 1)[1].strip())
        elif line.startswith("systemd "):
            systemd = line.split(" ", 1)[1].strip() == "running"
        elif line.strip() == "systemctl not-found":
            systemctl = False
        elif line.startswith("@@unit "):
            name, _, answer = line.removeprefix("@@unit ").partition(" ")
            current = offline.setdefault(name, {"enabled": _enablement(answer), "files": {}, "unreadable": []})
            current["file"] = None
        elif line.startswith("@@file ") and current is not None:
            current["file"] = line.removeprefix("@@file ").strip()
            current["files"][current["file"]] = []
        elif line.startswith("@@unreadable ") and current is not None:
            current["unreadable"].append(line.removeprefix("@@unreadable ").strip())
            current["file"] = None
        elif line.startswith("|") and current is not None and current.get("file"):
            current["files"][current["file"]].append(line[1:])
        elif systemd and not line.strip():  # systemctl show: a blank line between two units
            blocks.append({})
        elif systemd and "=" in line:
            key, _, value = line.partition("=")
            if not blocks:
                blocks.append({})
            blocks[-1][key.strip()] = value.strip()
    if systemd:
        units = {b["Id"]: _shown(b) for b in blocks if b.get("Id")}
    else:
        units = {name: _from_files(name, u) for name, u in offline.items()}
    return UnitsFacts(systemd=bool(systemd), systemctl=systemctl, units=units, libvirt_sockets=tuple(sockets))


def _enablement(answer: str) -> str:
    """`systemctl is-enabled`'s answer; "not-found" for a unit it does not know (systemd before
    253 says "Failed to get unit file state for UNIT: No such file or directory")."""
    answer = answer.strip() or "unknown"
    return "not-found" if answer.startswith("Failed to get unit file state") and "No such file" in answer else answer


def _shown(block: dict[str, str]) -> UnitFacts:
    load = block.get("LoadState") or None
    enabled = block.get("UnitFileState") or ("not-found" if load == "not-found" else "unknown")
    return UnitFacts(name=block["Id"], enabled=enabled, loaded=load, active=block.get("ActiveState") or None,
                     after=tuple(block.get("After", "").split()), triggered_by=tuple(block.get("TriggeredBy", "").split()))


def _from_files(name: str, found: dict) -> UnitFacts:
    """A unit as its files say, without systemd: the first unit file on the search path and its
    drop-ins (a drop-in name in an earlier directory hides the same name in a later one).
    Dependencies are never reset by a drop-in (systemd.unit(5)): After= lines add up. Unknown
    (None) when the unit file, or one of its drop-ins, could not be read."""
    files: dict[str, list[str]] = found["files"]
    main = next((f for f in files if f.rsplit("/", 1)[-1] == name), None)
    dropins: dict[str, str] = {}
    for path in files:
        if path.endswith(".conf"):
            dropins.setdefault(path.rsplit("/", 1)[-1], path)
    after: tuple[str, ...] | None
    hidden = [u for u in found["unreadable"] if u.rsplit("/", 1)[-1] == name or u.endswith(".conf")]
    if main is None or hidden:
        after = None
    else:
        names: list[str] = []
        for path in [main, *(dropins[k] for k in sorted(dropins))]:
            names += _after_lines(files[path])
        after = tuple(dict.fromkeys(names))
    return UnitFacts(name=name, enabled=found["enabled"], loaded=None, active=None, after=after, triggered_by=(),
                     files=tuple([main] if main else []) + tuple(dropins[k] for k in sorted(dropins)))


def _after_lines(lines: list[str]) -> list[str]:
    names, section = [], None
    for raw in lines:
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line
        elif section == "[Unit]" and line.startswith("After") and "=" in line:
            key, _, value = line.partition("=")
            if key.strip() == "After":
                names += value.split()
    return names


def running(unit: UnitFacts | None) -> bool:
    return unit is not None and unit.active in _RUNNING


def enabled(unit: UnitFacts | None) -> bool:
    return unit is not None and unit.enabled in ENABLED


def parse_stopped(lines: str) -> tuple[tuple[str, str, str], ...]:
    """(daemon, its service's state, its socket's state) per daemon the probe found stopped
    (its libvirt-stopped section: "libvirtd.service inactive libvirtd.socket active")."""
    found = []
    for line in lines.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].endswith(".service"):
            found.append((words[0].removesuffix(".service"), words[1], words[3] if len(words) >= 4 else "unknown"))
    return tuple(found)


def describe_stopped(stopped) -> str:
    """"libvirtd.service is inactive, libvirtd.socket is active" (and so on per daemon)."""
    return "; ".join(f"{d}.service is {service}, {d}.socket is {socket}" for d, service, socket in stopped)


def libvirt_stopped(units: UnitsFacts) -> tuple[tuple[str, str, str], ...]:
    """The daemons a read-only connection to libvirt would reach that are not running (systemd
    would start them: socket activation), as parse_stopped gives them; () when none is, or
    without systemd. The client takes virtqemud's socket when it exists (and virtqemud asks
    virtnetworkd for networks), else libvirtd's."""
    if not units.systemd:
        return ()
    need = ("virtqemud", "virtnetworkd") if "virtqemud" in units.libvirt_sockets else ("libvirtd",)
    found = []
    for daemon in need:
        service, socket = units.units.get(f"{daemon}.service"), units.units.get(f"{daemon}.socket")
        if not running(service):
            found.append((daemon, service.active if service and service.active else "unknown",
                          socket.active if socket and socket.active else "unknown"))
    return tuple(found)
