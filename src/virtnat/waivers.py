"""Waivers: a failing check the site has accepted, for a reason and until a date.

Written in the profile or in a file of their own (`--waivers=FILE`), as TOML tables:

    [[waiver]]
    check = "HOST-03"                  # a check id
    hosts = "hv-lab-*"                 # which hosts (shell pattern; default: every host)
    reason = "firewalld off until CHG-1234 moves the lab"
    expires = 2026-12-31               # the last day it holds

A waived check still runs. When it fails, it is reported as `waived` with the reason and does
not fail the run; once its waiver has expired, it fails again and says so.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import re
from dataclasses import dataclass

from .errors import ProfileError
from .tomlfile import read_toml

KEYS = ("check", "hosts", "reason", "expires")
_CHECK_ID = re.compile(r"[A-Z]+-\d{2,}")


@dataclass(frozen=True)
class Waiver:
    check: str
    hosts: str
    reason: str
    expires: str  # ISO date: the last day the waiver holds

    def covers(self, check_id: str, host: str) -> bool:
        return check_id == self.check and fnmatch.fnmatchcase(host, self.hosts)

    def expired(self, today: dt.date) -> bool:
        return dt.date.fromisoformat(self.expires) < today


def parse_waivers(entries, where: str) -> tuple[Waiver, ...]:
    """Waivers from a TOML array of tables; ProfileError names the first entry that is wrong."""
    if not isinstance(entries, list):
        raise ProfileError(f"{where}: waiver: write each as a [[waiver]] table")
    waivers = []
    for n, entry in enumerate(entries, start=1):
        at = f"{where}: waiver {n}"
        if not isinstance(entry, dict):
            raise ProfileError(f"{at}: write each as a [[waiver]] table")
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise ProfileError(f"{at}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
        for key in ("check", "reason", "expires"):
            if key not in entry:
                raise ProfileError(f"{at}: {key} is missing (a waiver needs check, reason and expires)")
        check, hosts, reason, expires = entry["check"], entry.get("hosts", "*"), entry["reason"], entry["expires"]
        if not isinstance(check, str) or not _CHECK_ID.fullmatch(check):
            raise ProfileError(f"{at}: check {check!r} is not a check id like HOST-03")
        if not isinstance(hosts, str) or not hosts:
            raise ProfileError(f"{at}: hosts {hosts!r} is not a host name or pattern")
        if not isinstance(reason, str) or not reason.strip():
            raise ProfileError(f"{at}: reason is empty: say why the site accepts this")
        if isinstance(expires, dt.datetime) or not isinstance(expires, dt.date):
            raise ProfileError(f"{at}: expires {expires!r} is not a date like 2026-12-31 (unquoted)")
        waivers.append(Waiver(check, hosts, " ".join(reason.split()), expires.isoformat()))
    return tuple(waivers)


def load_waivers(path: str) -> tuple[Waiver, ...]:
    """The [[waiver]] tables of a file of their own; ProfileError with one line."""
    data = read_toml(path, "waivers")
    other = sorted(set(data) - {"waiver"})
    if other:
        raise ProfileError(f"waivers {path}: {other[0]}: unknown (a waiver file holds [[waiver]] tables only)")
    return parse_waivers(data.get("waiver", []), f"waivers {path}")


def judge(waivers, check_id: str, host: str, today: dt.date) -> tuple[Waiver | None, Waiver | None]:
    """(the waiver that holds for this check on this host, an expired one that covered it)."""
    live = expired = None
    for waiver in waivers:
        if waiver.covers(check_id, host):
            if waiver.expired(today):
                expired = expired or waiver
            else:
                live = live or waiver
    return live, expired
