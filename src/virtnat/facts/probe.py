"""Parse the probe's output (see probe.sh) into SystemFacts (pure)."""
from __future__ import annotations

import re
from importlib import resources

from .. import inputs
from ..errors import FactError
from . import sysctl
from .firewall import firewall_facts
from .fwfiles import parse_firewall_files
from .model import ProcessFacts, SystemFacts, UnitFacts, UnitsFacts
from .netconfig import parse_link_config
from .routes import parse_policy_rules, parse_routes
from .sockets import parse_sockets
from .units import enablement, parse_units

SYSCTL_KEYS = ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv6.conf.all.forwarding"]
_HEADER = re.compile(r"^@@virtnat-probe 2 ([0-9A-Za-z]+)$")
_END = re.compile(r"^(\S+) rc=(\d+)$")
# Every section the probe prints; per-network and per-guest ones carry a UUID (or name) after the colon.
SECTIONS = frozenset({"ip-link", "ip-addr", "libvirt-version", "virsh-networks", "virsh-domains", "runtime", "sysctl-files",
                      "processes", "process-owners", "binaries", "firewalld-enabled", "units", "iptables-save", "nft",
                      "iptables-legacy-save", "routes", "route-rules", "sockets", "libvirt-stopped", "libvirt-files",
                      "link-config", "firewall-files"})
SECTION_KINDS = ("net-info:", "net-xml:", "net-xml-inactive:", "dom-xml:")
_ROOT_NEEDED = re.compile(r"permission denied|operation not permitted|must be root", re.I)


def script() -> str:
    return resources.files(__package__).joinpath("probe.sh").read_text()


def split_sections(output: str, mark: str | None = None) -> dict[str, tuple[int, str]]:
    """section name -> (exit code, text), from a complete run of the probe.

    The run's random marker comes from its header line (and must be `mark`, when the caller
    chose it); a section not framed by that marker is the host's data, not a section. Output
    that is cut off (no done marker), a section opened twice or never closed, one the probe
    does not print, or one larger than inputs.SECTION_LIMIT is refused with a FactError naming
    the problem."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if _HEADER.match(line)), None)
    if start is None:
        raise FactError("not the output of virtnat's probe (no @@virtnat-probe header line)")
    found = _HEADER.match(lines[start]).group(1)
    if mark is not None and found != mark:
        raise FactError("the probe's output does not carry this run's marker: refused")
    begin, end, done = f"@@{found} begin ", f"@@{found} end ", f"@@{found} done"
    sections: dict[str, tuple[int, str]] = {}
    name, body = None, []
    for line in lines[start + 1:]:
        if line.startswith(begin):
            if name is not None:
                raise FactError(f"the probe's output opens a section inside section {name}")
            name, body = _section_name(line[len(begin):], sections), []
        elif line.startswith(end):
            closed = _END.match(line[len(end):])
            if name is None or not closed or closed.group(1) != name:
                raise FactError(f"the probe's output closes a section it did not open: {line[len(end):][:80]!r}")
            if body and body[-1] == "":
                body.pop()  # the newline the probe prints before each end marker
            if sum(map(len, body)) + len(body) > inputs.SECTION_LIMIT:
                raise FactError(f"the probe's output holds section {name[:80]} of more than {inputs.size_text(inputs.SECTION_LIMIT)},"
                                " the limit of one section: not a host's facts")
            sections[name], name = (int(closed.group(2)), "\n".join(body)), None
        elif line == done:
            if name is not None:
                break
            return sections
        elif name is not None:
            body.append(line)
    where = f" in section {name}" if name else ""
    raise FactError(f"the probe's output is cut off{where} (no done marker): the connection dropped or the probe was killed")


def _section_name(name: str, sections: dict) -> str:
    if name not in SECTIONS and not (name.startswith(SECTION_KINDS) and name.partition(":")[2]):
        raise FactError(f"the probe's output holds a section it never prints: {name[:80]!r}")
    if name in sections:
        raise FactError(f"the probe's output holds section {name} twice")
    return name


def frame(sections: dict[str, tuple[int, str]], mark: str = "recorded") -> str:
    """Probe output holding these sections, as the probe frames them (recordings, tests)."""
    parts = [f"@@virtnat-probe 2 {mark}"]
    for name, (rc, text) in sections.items():
        parts += [f"@@{mark} begin {name}", text, "", f"@@{mark} end {name} rc={rc}"]
    return "\n".join(parts + [f"@@{mark} done", ""])


def parse_sysctl_files(text: str) -> dict[str, tuple[str, str]]:
    """path -> (realpath, content) from the sysctl-files section."""
    files: dict[str, tuple[str, str]] = {}
    path = None
    for line in text.splitlines():
        if line.startswith("@@file "):
            path, _, real = line.removeprefix("@@file ").partition(" ")
            files[path] = (real or path, "")
        elif path is not None:
            real, content = files[path]
            files[path] = (real, content + line + "\n")
    return files


def parse_processes(text: str, owners: str) -> tuple[ProcessFacts, ...]:
    """The daemons of the processes section; owners (the process-owners section: "PID UID EXE")
    adds who runs each one and from which executable."""
    lines = text.splitlines()
    own = lines[0].removeprefix("self ") if lines and lines[0].startswith("self ") else None
    who = {}
    for line in owners.splitlines():
        pid, _, rest = line.partition(" ")
        uid, _, exe = rest.partition(" ")
        if pid.isdigit():
            who[int(pid)] = (int(uid) if uid.isdigit() else None, exe.strip() or None)
    procs = []
    for line in lines[1:]:
        parts = line.split(" ", 3)
        cmdline = parts[3].strip() if len(parts) > 3 else ""
        if not parts[0].isdigit() or not cmdline:  # no command line: a zombie, it has exited and serves nothing
            continue
        # An unreadable namespace (not root, another user's process) is taken as the host's own:
        # on a real host every daemon shares it, and a false "not running" is worse.
        uid, exe = who.get(int(parts[0]), (None, None))
        procs.append(ProcessFacts(int(parts[0]), parts[2], cmdline, same_netns=not parts[1] or parts[1] == own, uid=uid, exe=exe))
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
    if name not in sections:
        return None  # the probe did not run it
    rc, text = sections[name]
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
        key, equals, value = line.rpartition("=")  # the last: an interface's name may hold one
        key, value = (key, value) if equals else (value, "")
        runtime[sysctl.normalize_key(key)] = value.strip()
    binaries, driver = parse_binaries(sections["binaries"][1])
    owners = sections["process-owners"][1] if "process-owners" in sections else ""
    files = parse_sysctl_files(sections["sysctl-files"][1])
    systemd = bool(binaries.get("systemd-sysctl"))
    persisted = sysctl.persisted_values(files, SYSCTL_KEYS, systemd)
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
        processes=parse_processes(sections["processes"][1], owners),
        binaries=binaries,
        network_driver=driver,
        firewall=firewall,
        firewall_error=firewall_error,
        units=parse_units(sections["units"][1]) if "units" in sections else older_units(sections, binaries),
        sysctl_unread=sysctl.unread_values(files, SYSCTL_KEYS, systemd),
        sysctl_files=files,
        link_config=parse_link_config(sections["link-config"][1]) if "link-config" in sections else None,
        firewall_files=parse_firewall_files(sections["firewall-files"][1]) if "firewall-files" in sections else None,
        **path_facts(sections),
    )


def older_units(sections: dict[str, tuple[int, str]], binaries: dict) -> UnitsFacts | None:
    """The units of an older probe's output, which asked `systemctl is-enabled firewalld.service`
    alone (its firewalld-enabled section); None when it did not ask that either."""
    if "firewalld-enabled" not in sections:
        return None
    answer = (sections["firewalld-enabled"][1].strip().splitlines() or [""])[-1]
    firewalld = UnitFacts("firewalld.service", enablement(answer), loaded=None, active=None, after=None)
    return UnitsFacts(systemd=False, systemctl=bool(binaries.get("systemctl")), units={firewalld.name: firewalld},
                      complete=False)


def path_facts(sections: dict[str, tuple[int, str]]) -> dict:
    """Routes, policy rules and listening sockets, or why they could not be read (None, and a
    line in path_problems). Policy rules an older probe did not read are none, as before."""
    problems = []
    found: dict = {}
    for name, key, parse in (("routes", "routes", parse_routes), ("route-rules", "policy_rules", parse_policy_rules),
                             ("sockets", "sockets", parse_sockets)):
        rc, text = sections.get(name, (None, f"the probe returned no {name} section"))
        if rc != 0:
            problems.append(f"{name}: {(text.strip().splitlines() or ['exit ' + str(rc)])[-1]}")
            found[key] = () if name == "route-rules" and rc is None else None
            continue
        try:
            found[key] = parse(text)
        except FactError as exc:
            problems.append(str(exc))
            found[key] = None
    return dict(found, path_problems=tuple(problems))
