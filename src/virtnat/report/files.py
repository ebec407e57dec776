"""Writing reports safely: whole or not at all, under names no one can guess, never through a
link someone planted, readable by the auditor's group at most (they hold daemons' command lines
and firewall rules)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

PRIVATE = 0o640


def allowed(mode: int) -> int:
    """mode, narrowed by the user's umask where that is stricter."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def write_atomic(path, text: str | bytes | Iterable[str | bytes], mode: int = PRIVATE) -> None:
    """Write text (UTF-8) or bytes, or parts of them one after the other (a page made as it is
    written), to path through a fresh temporary file in the same directory, then rename it over
    path: a reader sees the old file or the new one, and a symlink at path is replaced, not followed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in [text] if isinstance(text, (str, bytes)) else text:
                out.write(part if isinstance(part, bytes) else part.encode())
        os.chmod(tmp, allowed(mode))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_parts(path, size: int = 1 << 20) -> Iterator[bytes]:
    """A file's bytes, a block at a time."""
    with open(path, "rb") as source:
        while block := source.read(size):
            yield block


def copy_atomic(source, target, mode: int = PRIVATE) -> None:
    write_atomic(target, file_parts(source), mode)


def restrict(path, mode: int = PRIVATE) -> None:
    """Narrow a report another plugin wrote (pytest-html, junitxml) to mode; a missing file is fine."""
    try:
        if not Path(path).is_symlink():
            os.chmod(path, allowed(mode))
    except FileNotFoundError:
        pass


def unwritable(directory) -> str | None:
    """Why reports cannot be written into directory (made if missing), or None if they can."""
    if Path(directory).exists() and not Path(directory).is_dir():
        return "cannot write reports there: Not a directory"
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".virtnat-write-test.", dir=directory)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return f"cannot write reports there: {exc.strerror or exc}"
    return None
