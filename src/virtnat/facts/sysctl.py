"""The persisted value of sysctls: what systemd-sysctl would apply at boot (pure)."""
from __future__ import annotations

import fnmatch
import posixpath

# systemd-sysctl's search path, most important first: a file in an earlier directory
# masks a file of the same name in a later one.
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
SYSCTL_CONF = "/etc/sysctl.conf"


# Keys the kernel treats as one: writing either changes both.
ALIASES = {
    "net.ipv4.ip_forward": "net.ipv4.conf.all.forwarding",
    "net.ipv4.conf.all.forwarding": "net.ipv4.ip_forward",
}


def normalize_key(key: str) -> str:
    """`net/ipv4/ip_forward` and `net.ipv4.ip_forward` name the same sysctl."""
    return key.strip().replace("/", ".")


def parse_sysctl_text(text: str) -> list[tuple[str, str]]:
    """Assignments in one sysctl.conf-format file, in order."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().lstrip("-")  # a leading '-' only silences errors
        out.append((normalize_key(key), value.strip()))
    return out


def boot_order(files: dict[str, tuple[str, str]]) -> list[str]:
    """The files systemd-sysctl applies, in order. files: path -> (realpath, content).

    Files are ordered by name across all directories; of two with the same name, the one
    in the earlier directory wins. /etc/sysctl.conf comes last (as `sysctl --system` does)
    unless a sysctl.d entry already links to it (Debian's 99-sysctl.conf).
    """
    chosen: dict[str, str] = {}
    for directory in SYSCTL_DIRS:
        for path in sorted(p for p in files if posixpath.dirname(p) == directory):
            name = posixpath.basename(path)
            if name.endswith(".conf"):
                chosen.setdefault(name, path)
    order = [chosen[name] for name in sorted(chosen)]
    if SYSCTL_CONF in files and all(files[p][0] != SYSCTL_CONF for p in order):
        order.append(SYSCTL_CONF)
    return order


def persisted_values(files: dict[str, tuple[str, str]], keys: list[str]) -> dict[str, tuple[str, str]]:
    """For each key, (value, file) after applying every file in boot order; absent keys are left out.

    A glob assignment (`net.ipv4.conf.*.forwarding`) applies to every key it matches.
    """
    result: dict[str, tuple[str, str]] = {}
    for path in boot_order(files):
        for key, value in parse_sysctl_text(files[path][1]):
            names = {key, ALIASES.get(key, key)}
            for wanted in keys:
                if wanted in names or ("*" in key and fnmatch.fnmatchcase(wanted, key)):
                    result[wanted] = (value, path)
    return result
