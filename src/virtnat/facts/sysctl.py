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
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().lstrip("-")  # a leading '-' only silences errors
        out.append((normalize_key(key), value.strip()))
    return out


def boot_order(files: dict[str, tuple[str, str]], systemd: bool = True) -> list[str]:
    """The files the boot applies, in order. files: path -> (realpath, content).

    Files are ordered by name across all directories; of two with the same name, the one
    in the earlier directory wins. systemd-sysctl reads /etc/sysctl.conf only through a
    sysctl.d link to it (Debian 12's 99-sysctl.conf; Debian 13 has none). Without systemd,
    `sysctl --system` reads it last.
    """
    chosen: dict[str, str] = {}
    for directory in SYSCTL_DIRS:
        for path in sorted(p for p in files if posixpath.dirname(p) == directory):
            name = posixpath.basename(path)
            if name.endswith(".conf"):
                chosen.setdefault(name, path)
    order = [chosen[name] for name in sorted(chosen)]
    if not systemd and SYSCTL_CONF in files and all(files[p][0] != SYSCTL_CONF for p in order):
        order.append(SYSCTL_CONF)
    return order


def sysctl_conf_read_at_boot(files: dict[str, tuple[str, str]], systemd: bool = True) -> bool:
    return any(files[p][0] == SYSCTL_CONF for p in boot_order(files, systemd))


def unread_values(files: dict[str, tuple[str, str]], keys: list[str], systemd: bool = True) -> dict[str, str]:
    """What /etc/sysctl.conf sets for keys when the boot does not read it (a systemd boot with no
    sysctl.d link to it): values that look persisted and are never applied."""
    if SYSCTL_CONF not in files or sysctl_conf_read_at_boot(files, systemd):
        return {}
    alone = persisted_values({SYSCTL_CONF: files[SYSCTL_CONF]}, keys, systemd=False)
    return {key: value for key, (value, _) in alone.items()}


def persisted_values(files: dict[str, tuple[str, str]], keys: list[str], systemd: bool = True) -> dict[str, tuple[str, str]]:
    """For each key, (value, file) after applying every file in boot order; absent keys are left out.

    A glob assignment (`net.ipv4.conf.*.forwarding`) applies to every key it matches.
    """
    result: dict[str, tuple[str, str]] = {}
    for path in boot_order(files, systemd):
        for key, value in parse_sysctl_text(files[path][1]):
            names = {key, ALIASES.get(key)}
            for wanted in keys:
                if wanted in names or ("*" in key and fnmatch.fnmatchcase(wanted, key)):
                    result[wanted] = (value, path)
    return result
