"""`virtnat collect`: each host's facts saved as a bundle (the probe's whole output, links and
libvirt included, under a header with the host, the time, virtnat's version and a checksum), to
audit later with `--facts`, with no connection."""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .collectors.bundle import bundle_bytes
from .collectors.command import ProbeRun
from .errors import FactError
from .report.files import write_atomic
from .targets import Target


def bundle_name(host: str) -> str:
    """The bundle's file name: the host's name made safe as one (the header keeps the real one);
    a name longer than 100 bytes is cut to 64 characters and a hash of the whole name, so that
    any host name can be written."""
    safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in host).lstrip(".")
    if len(safe.encode()) > 100:
        safe = f"{safe[:64]}~{hashlib.sha256(host.encode(errors='surrogatepass')).hexdigest()[:10]}"
    return f"{safe or 'host'}.facts"


def collect_one(target: Target, out: Path, time: str) -> Path:
    """Run the probe on one host and write its bundle into out; FactError with one line."""
    run = ProbeRun(target.host, target.name, target.stats, remote=not target.is_local, links=True,
                   virsh_uri=target.libvirt_uri, deadline=target.deadline)
    run.sections()  # the whole output, checked: cut off, unreachable, no probe are errors here
    path = out / bundle_name(target.name)
    try:
        write_atomic(path, bundle_bytes(target.name, time, run.output))
    except OSError as exc:
        raise FactError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def taken_names(names: list[str]) -> dict[int, str]:
    """index -> the one line of why that host gets no bundle: its file name is an earlier
    host's (two names made safe alike, "a/b" and "a_b", or alike but for case, which some file
    systems do not tell apart). The first host in the list keeps the name; none is renamed, so
    no host's bundle can be written over or taken by another's."""
    first: dict[str, int] = {}
    taken = {}
    for i, name in enumerate(names):
        file = bundle_name(name)
        owner = first.setdefault(file.casefold(), i)
        if owner != i:
            taken[i] = f"{name}: not collected: its bundle's file name {file} is {names[owner]}'s too (collect it into another --out)"
    return taken


def collect_bundles(targets: list[Target], out: Path, time: str, workers: int = 32) -> list[tuple[str, Path | str]]:
    """Every host at once (up to `workers`): (host, its bundle's path, or the one line of why not).
    A host whose bundle would have an earlier host's file name is not contacted (taken_names)."""
    out.mkdir(parents=True, exist_ok=True)
    taken = taken_names([t.name for t in targets])

    def one(i: int, target: Target) -> tuple[str, Path | str]:
        if i in taken:
            return target.name, taken[i]
        try:
            return target.name, collect_one(target, out, time)
        except FactError as exc:
            return target.name, str(exc)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets)))) as pool:
        return list(pool.map(one, range(len(targets)), targets))
