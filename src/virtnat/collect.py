"""`virtnat collect`: each host's facts saved as a bundle (the probe's whole output, links and
libvirt included, under a header with the host, the time, virtnat's version and a checksum), to
audit later with `--facts`, with no connection."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .collectors.bundle import bundle_bytes
from .collectors.command import ProbeRun
from .errors import FactError
from .report.files import write_atomic
from .targets import Target


def bundle_name(host: str) -> str:
    """The bundle's file name: the host's name made safe as one (the header keeps the real one)."""
    safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in host).lstrip(".")
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


def collect_bundles(targets: list[Target], out: Path, time: str, workers: int = 32) -> list[tuple[str, Path | str]]:
    """Every host at once (up to `workers`): (host, its bundle's path, or the one line of why not)."""
    out.mkdir(parents=True, exist_ok=True)

    def one(target: Target) -> tuple[str, Path | str]:
        try:
            return target.name, collect_one(target, out, time)
        except FactError as exc:
            return target.name, str(exc)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets)))) as pool:
        return list(pool.map(one, targets))
