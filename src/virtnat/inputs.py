"""Reading a file someone else gave (a host's facts, a profile, waivers): a regular file only,
and never more of it than a limit. A FIFO, a device, a socket or a directory is refused before
anything is read: it could block the audit for ever (a FIFO with no writer) or never end
(/dev/zero). The limits bound what one input can cost in memory and in the reports."""
from __future__ import annotations

import os
import stat

MIB = 1024 * 1024
FACTS_LIMIT = 64 * MIB  # one host's bundle or saved probe output
SECTION_LIMIT = 16 * MIB  # one section of the probe's output
TOML_LIMIT = 1 * MIB  # a profile or a waiver file
TOML_DEPTH = 32  # tables and arrays nested in a profile or a waiver file

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class Refused(Exception):
    """A file virtnat does not read: the one line of why (without the file's name)."""


def kind(mode: int) -> str | None:
    """What a file of this mode is, when it is not a regular file ("a FIFO"); None for a regular one."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def size_text(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"


def _open_regular(path) -> int:
    """A descriptor of path, a regular file: checked before the open (a device is never opened)
    and again on what was opened (it may have been replaced in between); opened non-blocking, so
    not even a FIFO put there in between can block. OSError as open raises it, Refused."""
    found = kind(os.stat(path).st_mode)
    if found:
        raise Refused(f"{found}, not a regular file")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    found = kind(os.fstat(fd).st_mode)
    if found:
        os.close(fd)
        raise Refused(f"{found}, not a regular file")
    return fd


def read_bounded(fd: int, limit: int, hint: int) -> bytes | None:
    """The bytes from fd's position to its end; None once more than limit are there (of which
    limit + 1 at most were read). hint: the size the file says it has (it may grow)."""
    chunks, total = [], 0
    while total <= limit:
        chunk = os.read(fd, min(max(hint - total + 1, 1 << 16), limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    return None


def read_regular(path, limit: int, what: str) -> bytes:
    """The whole of a regular file of at most limit bytes. OSError as open raises it; Refused
    for a file that is not a regular one, or larger than the limit of `what` ("a fact file")."""
    fd = _open_regular(path)
    try:
        size = os.fstat(fd).st_size
        data = None if size > limit else read_bounded(fd, limit, size)
    finally:
        os.close(fd)
    if data is None:
        raise Refused(f"larger than {size_text(limit)}, the limit of {what}")
    return data


def read_head(path, count: int) -> bytes:
    """The first count bytes (or fewer) of a regular file; OSError, Refused as read_regular."""
    fd = _open_regular(path)
    try:
        return os.read(fd, count)
    finally:
        os.close(fd)
