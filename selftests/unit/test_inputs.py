"""Files someone else gave: only regular files are read, never more than a limit, and nothing
blocks (a FIFO, /dev/zero, a socket or a directory is refused before a byte is read)."""
import os

import pytest

from virtnat.inputs import MIB, Refused, kind, read_bounded, read_head, read_regular, size_text


def test_a_regular_file_is_read_whole(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100_000)
    assert read_regular(path, 100_000, "a test file") == b"x" * 100_000
    assert read_regular(tmp_path / "f", MIB, "a test file") == b"x" * 100_000
    (tmp_path / "empty").write_bytes(b"")
    assert read_regular(tmp_path / "empty", 10, "a test file") == b""


def test_what_is_not_a_regular_file_is_refused_at_once(specials, no_hang):
    for path, what in specials.items():
        for read in (lambda p: read_regular(p, MIB, "a test file"), lambda p: read_head(p, 10)):
            with pytest.raises(Refused) as error:
                read(path)
            assert str(error.value) == f"{what}, not a regular file", path


def test_a_fifo_that_appears_after_the_check_does_not_block(tmp_path, monkeypatch, no_hang):
    """The path is checked, then replaced by a FIFO before it is opened: the open does not wait
    for a writer, and what was opened is refused."""
    import virtnat.inputs as inputs
    path = tmp_path / "f"
    path.write_text("facts")
    checked = inputs.kind

    def swap(mode):
        found = checked(mode)
        if not os.path.exists(tmp_path / "swapped"):
            (tmp_path / "swapped").touch()
            path.unlink()
            os.mkfifo(path)
        return found
    monkeypatch.setattr(inputs, "kind", swap)
    with pytest.raises(Refused, match="^a FIFO, not a regular file$"):
        read_regular(path, MIB, "a test file")


def test_a_file_larger_than_its_limit_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "big"
    with open(path, "wb") as handle:
        handle.truncate(64 * MIB + 1)  # sparse: nothing written, nothing to read
    with pytest.raises(Refused) as error:
        read_regular(path, 64 * MIB, "a fact file")
    assert str(error.value) == "larger than 64 MiB, the limit of a fact file"
    assert len(read_regular(path, 64 * MIB + 1, "a fact file")) == 64 * MIB + 1
    with pytest.raises(Refused, match="^larger than 10 bytes, the limit of a test file$"):
        read_regular(path, 10, "a test file")


def test_a_bounded_read_stops_one_byte_past_the_limit_whatever_size_the_file_claims(tmp_path):
    path = tmp_path / "grown"
    path.write_bytes(b"y" * 1_000_000)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert read_bounded(fd, 1000, hint=0) is None  # a file that said it was empty, then grew
        assert os.lseek(fd, 0, os.SEEK_CUR) == 1001
        os.lseek(fd, 0, os.SEEK_SET)
        assert read_bounded(fd, 1_000_000, hint=10) == b"y" * 1_000_000
    finally:
        os.close(fd)


def test_short_reads_stop_one_byte_past_the_limit_too(tmp_path, monkeypatch):
    """A source that gives 500 bytes a read (as a pipe or a network file system may)."""
    path = tmp_path / "big"
    path.write_bytes(b"y" * 1_000_000)
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, count: real_read(fd, min(count, 500)))
    fd = os.open(path, os.O_RDONLY)
    try:
        assert read_bounded(fd, 1000, hint=0) is None and os.lseek(fd, 0, os.SEEK_CUR) == 1001
    finally:
        os.close(fd)


def test_a_file_larger_than_its_limit_is_never_read(tmp_path, monkeypatch):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 11)
    reads = []
    monkeypatch.setattr(os, "read", lambda *args: reads.append(args) or b"")
    with pytest.raises(Refused):
        read_regular(path, 10, "a test file")
    assert reads == []


def _counted_reads(monkeypatch) -> list[int]:
    """The size each os.read asks for, from now on."""
    asked, real_read = [], os.read
    monkeypatch.setattr(os, "read", lambda fd, count: asked.append(count) or real_read(fd, count))
    return asked


def test_a_file_the_size_it_says_is_read_in_one_call_and_one_more_for_its_end(tmp_path, monkeypatch):
    path = tmp_path / "bundle"
    path.write_bytes(b"z" * 300_000)
    asked = _counted_reads(monkeypatch)
    assert read_regular(path, MIB, "a test file") == b"z" * 300_000 and len(asked) == 2


def test_a_file_that_grew_after_its_size_was_read_is_read_whole_within_its_limit(tmp_path, monkeypatch):
    path = tmp_path / "growing"
    path.write_bytes(b"z" * 3000)
    real_fstat = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: os.stat_result((*real_fstat(fd)[:6], 1000, *real_fstat(fd)[7:])))
    assert read_regular(path, 5000, "a test file") == b"z" * 3000


def test_the_head_of_a_file_is_its_first_bytes(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    assert read_head(path, 4) == b"0123" and read_head(path, 100) == b"0123456789"


def test_a_missing_file_is_the_oserror_it_is(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "gone", MIB, "a test file")


def test_kinds_and_sizes_are_named():
    assert kind(0o100644) is None and kind(0o010644) == "a FIFO" and kind(0o060644) == "a block device"
    assert (size_text(64 * MIB), size_text(1000)) == ("64 MiB", "1000 bytes")
