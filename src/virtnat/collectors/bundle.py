"""Facts from a file: a host's bundle (`virtnat collect`), or the output of the probe saved on a
host by hand (`sh probe.sh > hv1.facts`, with VIRTNAT_IP=1 and VIRTNAT_VIRSH=URI for links and
libvirt), audited with no connection at all.

A bundle is the probe's output as the host printed it, after one header line:

    @@virtnat-bundle 1 host=hv1 time=2026-11-28T10:00:00+00:00 version=0.1.0 sha256=<hex>

sha256 is the checksum of every byte after the header line: a bundle changed after it was
collected is refused. The host name is percent-encoded (it may hold any character).

A file is read only if it is a regular one of at most inputs.FACTS_LIMIT bytes (inputs.py); a line
that looks like a bundle header anywhere but at the very start of the file (after blanks or a
byte order mark, or further down) makes it neither a bundle nor the probe's output: refused.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from .. import __version__
from ..errors import FactError
from ..facts import probe
from .. import inputs
from ..inputs import Refused, kind, read_head, read_regular

MAGIC = b"@@virtnat-bundle "
# A line (as split_sections splits them) that starts like a header after blanks or a BOM.
_STRAY = re.compile(r"[\s\ufeff\u200b]*@@virtnat-bundle")
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
    that does not match, or a header line anywhere but at the start."""
    if not data.startswith(MAGIC):
        _refuse_stray(text := data.decode(errors="replace"))
        return None, text
    first, _, body = data.partition(b"\n")
    found = _header(first)
    if found is None:
        raise FactError(f"a bundle header this virtnat cannot read: {first[:120].decode(errors='replace')!r}")
    if hashlib.sha256(body).hexdigest() != found.group(4):
        raise FactError("its checksum does not match: the bundle was changed or cut after it was collected")
    _refuse_stray(text := body.decode(errors="replace"))
    return Header(unquote(found.group(1)), found.group(2), found.group(3)), text


def _refuse_stray(text: str) -> None:
    """FactError when a line of text starts like a bundle header: a header that is not the file's
    first bytes (moved, indented, behind a BOM) would make a bundle's body read unchecked."""
    if "@@virtnat-bundle" in text and any(_STRAY.match(line) for line in text.splitlines()):
        raise FactError("a bundle header that is not at the start of the file: neither a bundle nor the probe's output")


def bundle_host(path: Path) -> str | None:
    """The host a bundle's header names (None: no readable header), from its first line only."""
    try:
        first = read_head(path, 4096).partition(b"\n")[0]
    except (OSError, Refused):
        return None
    found = _header(first)
    return unquote(found.group(1)) if found else None


def bundle_files(spec: str) -> tuple[list[Path], list[str]]:
    """The files of `--facts` (comma-separated files or directories: a directory's regular files,
    sorted, its hidden ones left out) and a line naming each other entry of a directory, which
    is not audited (a subdirectory, a FIFO, a link to nothing). FactError naming the first path
    given that does not exist or is neither a regular file nor a directory."""
    files: list[Path] = []
    skipped: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        path = Path(part)
        if path.is_dir():
            for entry in sorted(e for e in path.iterdir() if not e.name.startswith(".")):
                why = not_audited(entry)
                if why:
                    skipped.append(f"--facts: {entry} is not audited: {why}")
                else:
                    files.append(entry)
            continue
        why = not_audited(path)
        if not path.exists():
            raise FactError(f"{part}: {why if path.is_symlink() else 'no such file or directory'}")
        if why:
            raise FactError(f"{part}: {why}: give a bundle or a directory of them")
        files.append(path)
    if not files:
        raise FactError(f"{spec!r} holds no fact file")
    return files, skipped


def not_audited(path: Path) -> str | None:
    """Why path is not a file of facts ("a FIFO, not a regular file", "a symbolic link to
    nothing"); None for a regular file, or a link to one."""
    link = "a symbolic link to " if path.is_symlink() else ""
    try:
        found = kind(os.stat(path).st_mode)
    except FileNotFoundError:
        return f"{link}nothing" if link else "no such file or directory"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    return f"{link}{found}, not a regular file" if found else None


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
            data = read_regular(self.path, inputs.FACTS_LIMIT, "a fact file (one host's probe output)")
        except OSError as exc:
            return FactError(f"cannot read the facts of {self.name}: {exc.strerror or exc}: {self.path}")
        except Refused as exc:
            return FactError(f"{self.path}: {exc}")
        try:
            return probe.split_sections(read_bundle(data)[1])
        except FactError as exc:
            return FactError(f"{self.path}: {exc}")
