"""Facts from a file: a host's bundle (`virtnat collect`), or the output of the probe saved on a
host by hand (`sh probe.sh > hv1.facts`, with VIRTNAT_IP=1 and VIRTNAT_VIRSH=URI for links and
libvirt), audited with no connection at all.

A bundle is the probe's output as the host printed it, after one header line:

    @@virtnat-bundle 1 host=hv1 time=2026-11-28T10:00:00+00:00 version=0.1.0 sha256=<hex>

sha256 is the checksum of every byte after the header line: a bundle changed after it was
collected is refused. The host name is percent-encoded (it may hold any character).
"""
from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from .. import __version__
from ..errors import FactError
from ..facts import probe

MAGIC = b"@@virtnat-bundle "
_HEADER = re.compile(r"@@virtnat-bundle 1 host=(\S+) time=(\S+) version=(\S+) sha256=([0-9a-f]{64})")


@dataclass(frozen=True)
class Header:
    host: str
    time: str
    version: str


def bundle_bytes(host: str, time: str, output: str) -> bytes:
    """A bundle: the header line naming host, time and this virtnat, then the probe's output."""
    body = (output if output.endswith("\n") else output + "\n").encode()
    digest = hashlib.sha256(body).hexdigest()
    return f"@@virtnat-bundle 1 host={quote(host, safe='')} time={time} version={__version__} sha256={digest}\n".encode() + body


def _header(line: bytes) -> re.Match | None:
    """The header line's fields, or None when the line is not a header this virtnat reads."""
    return _HEADER.fullmatch(line.decode(errors="replace").rstrip("\r\n"))


def read_bundle(data: bytes) -> tuple[Header | None, str]:
    """(the header, the probe's output) of a file's bytes; a file without a bundle header is the
    probe's output as it is (None). FactError for a header that cannot be read or a checksum
    that does not match."""
    if not data.startswith(MAGIC):
        return None, data.decode(errors="replace")
    first, _, body = data.partition(b"\n")
    found = _header(first)
    if found is None:
        raise FactError(f"a bundle header this virtnat cannot read: {first[:120].decode(errors='replace')!r}")
    if hashlib.sha256(body).hexdigest() != found.group(4):
        raise FactError("its checksum does not match: the bundle was changed or cut after it was collected")
    return Header(unquote(found.group(1)), found.group(2), found.group(3)), body.decode(errors="replace")


def bundle_host(path: Path) -> str | None:
    """The host a bundle's header names (None: no readable header), from its first line only."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(4096)
    except OSError:
        return None
    found = _header(first)
    return unquote(found.group(1)) if found else None


def bundle_files(spec: str) -> list[Path]:
    """The files of `--facts`: comma-separated files or directories (every non-hidden file in a
    directory, sorted). Raises FactError naming the first path that does not exist."""
    files: list[Path] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        path = Path(part)
        if path.is_dir():
            files.extend(sorted(f for f in path.iterdir() if f.is_file() and not f.name.startswith(".")))
        elif path.exists():
            files.append(path)
        else:
            raise FactError(f"{part}: no such file or directory")
    if not files:
        raise FactError(f"{spec!r} holds no fact file")
    return files


class BundleRun:
    """The probe's sections, read from a saved output instead of run on the host."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = path, name
        self._lock = threading.Lock()  # the fact kinds may be read from several threads at once
        self._sections: dict | FactError | None = None

    def sections(self) -> dict[str, tuple[int, str]]:
        """The file's sections, read once (its error too) for every fact kind."""
        with self._lock:
            if self._sections is None:
                self._sections = self._read()
        if isinstance(self._sections, FactError):
            raise self._sections
        return self._sections

    def _read(self) -> dict[str, tuple[int, str]] | FactError:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            return FactError(f"cannot read the facts of {self.name}: {exc.strerror or exc}: {self.path}")
        try:
            return probe.split_sections(read_bundle(data)[1])
        except FactError as exc:
            return FactError(f"{self.path}: {exc}")
