"""The daemons' systemd units, from the probe's units section (pure): what the next boot does.

On a systemd host the section holds `systemctl show` (systemd's loaded view: state, enablement,
ordering with every drop-in applied); elsewhere `systemctl is-enabled` answers (read offline
from the symlinks) and the unit files with their drop-ins, whose After= lines give the ordering."""
from __future__ import annotations

from .framed import Framed, basename
from .model import UnitFacts, UnitsFacts

# What `systemctl is-enabled` / UnitFileState says of a unit the boot starts by itself.
ENABLED = frozenset({"enabled", "enabled-runtime", "alias", "generated"})
_RUNNING = ("active", "reloading", "activating")


def parse_units(text: str) -> UnitsFacts:
    """UnitsFacts from the units section."""
    lines = text.splitlines()
    said = {line.strip() for line in lines}
    systemd = "systemd running" in said
    return UnitsFacts(systemd=systemd, systemctl="systemctl not-found" not in said,
                      units=_shown_units(lines) if systemd else _offline_units(lines),
                      libvirt_sockets=tuple(line.removeprefix("socket ").strip() for line in lines
                                            if line.startswith("socket ")))


def _shown_units(lines: list[str]) -> dict[str, UnitFacts]:
    """systemctl show: a block of KEY=VALUE lines per unit, a blank line between two."""
    blocks: list[dict[str, str]] = [{}]
    for line in lines:
        if not line.strip():
            blocks.append({})
        elif "=" in line:
            key, _, value = line.partition("=")
            blocks[-1][key.strip()] = value.strip()
    return {b["Id"]: _shown(b) for b in blocks if b.get("Id")}


def _offline_units(lines: list[str]) -> dict[str, UnitFacts]:
    """No systemd running: `@@unit NAME ANSWER` (`systemctl is-enabled`'s answer), then the unit's
    files and drop-ins, framed."""
    offline: dict[str, tuple[str, Framed]] = {}
    frames = None
    for line in lines:
        if line.startswith("@@unit "):
            name, _, answer = line.removeprefix("@@unit ").partition(" ")
            frames = Framed()
            offline[name] = (enablement(answer), frames)
        elif frames is not None:
            frames.take(line)
    return {name: _from_files(name, enabled, frames) for name, (enabled, frames) in offline.items()}


def enablement(answer: str) -> str:
    """`systemctl is-enabled`'s answer; "not-found" for a unit it does not know (systemd before
    253 says "Failed to get unit file state for UNIT: No such file or directory")."""
    answer = answer.strip() or "unknown"
    return "not-found" if answer.startswith("Failed to get unit file state") and "No such file" in answer else answer


def _shown(block: dict[str, str]) -> UnitFacts:
    load = block.get("LoadState") or None
    enabled = block.get("UnitFileState") or ("not-found" if load == "not-found" else "unknown")
    return UnitFacts(name=block["Id"], enabled=enabled, loaded=load, active=block.get("ActiveState") or None,
                     after=tuple(block.get("After", "").split()), triggered_by=tuple(block.get("TriggeredBy", "").split()))


def _from_files(name: str, enabled: str, frames: Framed) -> UnitFacts:
    """A unit as its files say, without systemd: the first unit file on the search path and its
    drop-ins (a drop-in name in an earlier directory hides the same name in a later one).
    Dependencies are never reset by a drop-in (systemd.unit(5)): After= lines add up. Unknown
    (None) when the unit file, or one of its drop-ins, could not be read."""
    files = frames.files
    main = next((f for f in files if basename(f) == name), None)
    dropins: dict[str, str] = {}
    for path in files:
        if path.endswith(".conf"):
            dropins.setdefault(basename(path), path)
    read = ([main] if main else []) + [dropins[k] for k in sorted(dropins)]
    after: tuple[str, ...] | None = None
    if main is not None and not any(basename(u) == name or u.endswith(".conf") for u in frames.unreadable):
        after = tuple(dict.fromkeys(n for path in read for n in _after_lines(files[path])))
    return UnitFacts(name=name, enabled=enabled, loaded=None, active=None, after=after, files=tuple(read))


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
