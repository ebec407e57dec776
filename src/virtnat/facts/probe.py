"""Parse the probe's output (see probe.sh) into SystemFacts (pure)."""
from __future__ import annotations

import re
from importlib import resources

from ..errors import FactError
from . import sysctl
from .firewall import firewall_facts
from .model import ProcessFacts, SystemFacts
from .routes import parse_routes, parse_rules
from .sockets import parse_sockets

SYSCTL_KEYS = ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv6.conf.all.forwarding"]
_BEGIN = re.compile(r"^@@virtnat:begin (\S+)$")
_END = re.compile(r"^@@virtnat:end (\S+) rc=(\d+)$")
_ROOT_NEEDED = re.compile(r"permission denied|operation not permitted|must be root", re.I)


def script() -> str:
    return resources.files(__package__).joinpath("probe.sh").read_text()


def split_sections(output: str) -> dict[str, tuple[int, str]]:
    """section name -> (exit code, text)."""
    sections: dict[str, tuple[int, str]] = {}
    name, lines = None, []
    for line in output.splitlines():
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            name, lines = begin.group(1), []
        elif end and name == end.group(1):
            sections[name] = (int(end.group(2)), "\n".join(lines))
            name = None
        elif name:
            lines.append(line)
    return sections


def parse_sysctl_files(text: str) -> dict[str, tuple[str, str]]:
    """path -> (realpath, content) from the sysctl-files section."""
    files: dict[str, tuple[str, str]] = {}
    path = None
    for line in text.splitlines():
        if line.startswith("@@file "):
            _, path, real = (line.split(" ", 2) + [""])[:3]
            files[path] = (real or path, "")
        elif path:
            real, content = files[path]
            files[path] = (real, content + line + "\n")
    return files


def parse_processes(text: str) -> tuple[ProcessFacts, ...]:
    lines = text.splitlines()
    own = lines[0].split(" ", 1)[1] if lines and lines[0].startswith("self ") else None
    procs = []
    for line in lines[1:]:
        parts = line.split(" ", 3)
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        cmdline = parts[3].strip() if len(parts) > 3 else ""
        if not cmdline:  # a zombie: it has exited, it serves nothing
            continue
        # An unreadable namespace (not root, another user's process) is taken as the host's own:
        # on a real host every daemon shares it, and a false "not running" is worse.
        procs.append(ProcessFacts(int(parts[0]), parts[2], cmdline, same_netns=not parts[1] or parts[1] == own))
    return tuple(procs)


def parse_binaries(text: str) -> tuple[dict[str, str | None], str | None]:
    found: dict[str, str | None] = {}
    driver = None
    for line in text.splitlines():
        name, _, path = line.partition(" ")
        if name == "network-driver":
            driver = driver or path.strip()
        elif name:
            found[name] = path.strip() or None
    return found, driver


def _ruleset(sections, name: str, problems: list[str]) -> str | None:
    rc, text = sections.get(name, (127, ""))
    if rc == 0:
        return text
    if rc == 127 or "not found" in text:
        return None  # that tool is not installed: the other backend may still answer
    first = text.strip().splitlines()[-1] if text.strip() else f"exit {rc}"
    if _ROOT_NEEDED.search(text):
        problems.append(f"{name}: needs root: run with --sudo, or audit as root ({first})")
    else:
        problems.append(f"{name}: {first}")
    return None


def parse_probe(output: str) -> SystemFacts:
    return system_from_sections(split_sections(output))


def system_from_sections(sections: dict[str, tuple[int, str]]) -> SystemFacts:
    missing = [s for s in ("runtime", "sysctl-files", "processes", "binaries") if s not in sections]
    if missing:
        raise FactError(f"host probe returned no {', '.join(missing)} section: is /bin/sh usable on the host?")
    runtime = {}
    for line in sections["runtime"][1].splitlines():
        key, _, value = line.partition("=")
        runtime[sysctl.normalize_key(key)] = value.strip()
    binaries, driver = parse_binaries(sections["binaries"][1])
    files = parse_sysctl_files(sections["sysctl-files"][1])
    systemd = bool(binaries.get("systemd-sysctl"))
    persisted = sysctl.persisted_values(files, SYSCTL_KEYS, systemd)
    rc, enabled = sections.get("firewalld-enabled", (127, ""))
    problems: list[str] = []
    ipt = _ruleset(sections, "iptables-save", problems)
    nft_json = _ruleset(sections, "nft", problems)
    legacy = _ruleset(sections, "iptables-legacy-save", problems)
    firewall, firewall_error = None, None
    try:
        firewall = firewall_facts(ipt, nft_json, tuple(problems), legacy)
    except FactError as exc:
        firewall_error = str(exc)
    if ipt is None and nft_json is None:
        firewall, firewall_error = None, "; ".join(problems) or "neither iptables-save nor nft is installed"
    return SystemFacts(
        sysctl_runtime=runtime,
        sysctl_persisted={k: v for k, (v, _) in persisted.items()},
        sysctl_sources={k: src for k, (_, src) in persisted.items()},
        sysctl_conf_at_boot=sysctl.sysctl_conf_read_at_boot(files, systemd),
        processes=parse_processes(sections["processes"][1]),
        binaries=binaries,
        network_driver=driver,
        unit_enabled={"firewalld": (enabled.strip().splitlines() or ["unknown"])[-1] if binaries.get("systemctl") else "no systemctl"},
        firewall=firewall,
        firewall_error=firewall_error,
        **path_facts(sections),
    )


def path_facts(sections: dict[str, tuple[int, str]]) -> dict:
    """Routes, policy rules and listening sockets, or why they could not be read."""
    problems = []
    found: dict = {}
    for name, key, parse in (("routes", "routes", parse_routes), ("route-rules", "route_rules", parse_rules),
                             ("sockets", "sockets", parse_sockets)):
        rc, text = sections.get(name, (127, f"the probe returned no {name} section"))
        if rc != 0:
            problems.append(f"{name}: {(text.strip().splitlines() or ['exit ' + str(rc)])[-1]}")
            continue
        try:
            found[key] = parse(text)
        except FactError as exc:
            problems.append(str(exc))
    return dict(found, path_problems=tuple(problems))
