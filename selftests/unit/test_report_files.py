"""Reports are written whole, under unguessable temporary names, never through a planted link,
and readable by the auditor's group at most."""
import os
import stat
from pathlib import Path

import pytest

from virtnat.report.files import allowed, copy_atomic, file_parts, restrict, unwritable, write_atomic


@pytest.fixture
def umask():
    def set_mask(mask):
        old = os.umask(mask)
        restores.append(old)
    restores = []
    yield set_mask
    for old in restores:
        os.umask(old)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_write_replaces_a_planted_symlink_without_touching_its_target(tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep me")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    write_atomic(link, "{}\n")
    assert target.read_text() == "keep me"
    assert not link.is_symlink() and link.read_text() == "{}\n"


def test_written_reports_are_0640_or_stricter(tmp_path, umask):
    umask(0o022)
    write_atomic(tmp_path / "a.json", "x")
    assert mode(tmp_path / "a.json") == 0o640
    umask(0o077)
    write_atomic(tmp_path / "b.json", "x")
    assert mode(tmp_path / "b.json") == 0o600
    assert allowed(0o644) == 0o600


def test_no_temporary_file_is_left_when_writing_fails(tmp_path):
    with pytest.raises((TypeError, AttributeError)):
        write_atomic(tmp_path / "a.json", 5)  # not text: the write fails half way
    assert list(tmp_path.iterdir()) == []


def test_copy_and_restrict(tmp_path, umask):
    umask(0o022)
    source = tmp_path / "run.html"
    source.write_text("<html>")
    os.chmod(source, 0o644)
    copy_atomic(source, tmp_path / "latest.html")
    restrict(source)
    assert (tmp_path / "latest.html").read_text() == "<html>"
    assert mode(source) == mode(tmp_path / "latest.html") == 0o640
    restrict(tmp_path / "missing.xml")  # nothing to narrow: no error
    link = tmp_path / "link.xml"
    link.symlink_to(source)
    os.chmod(source, 0o644)
    restrict(link)
    assert mode(source) == 0o644, "a link's target is not the report's to change"


def test_reports_go_into_directories_made_for_them(tmp_path):
    target = tmp_path / "a/b/report.json"
    assert unwritable(tmp_path / "x/y") is None and (tmp_path / "x/y").is_dir()
    assert list((tmp_path / "x/y").iterdir()) == []  # the write test leaves nothing behind
    write_atomic(target, "{}\n")
    assert target.read_text() == "{}\n"


def test_the_temporary_file_is_hidden_beside_the_report_and_not_named_like_it(tmp_path, monkeypatch):
    import virtnat.report.files as files
    renamed = []
    monkeypatch.setattr(files.os, "replace", lambda src, dst: renamed.append((Path(src), Path(dst))) or os.rename(src, dst))
    write_atomic(tmp_path / "virtnat.prom", "x 1\n")
    [(tmp, final)] = renamed
    assert final == tmp_path / "virtnat.prom" and tmp.parent == tmp_path
    assert tmp.name.startswith(".virtnat.prom.") and tmp.name.endswith(".tmp")  # node_exporter reads *.prom only


def test_a_report_holds_its_text_as_utf8(tmp_path):
    write_atomic(tmp_path / "r.json", "guest café\n")
    assert (tmp_path / "r.json").read_bytes() == "guest café\n".encode()


def test_a_copy_takes_the_mode_asked_for(tmp_path, umask):
    umask(0o022)
    (tmp_path / "src.txt").write_text("x")
    copy_atomic(tmp_path / "src.txt", tmp_path / "metrics.prom", 0o644)
    assert mode(tmp_path / "metrics.prom") == 0o644


def test_a_directory_the_kernel_refuses_writes_to_is_said_with_its_reason():
    assert unwritable("/proc/sys") == "cannot write reports there: No such file or directory"


def test_bytes_are_written_as_they_are(tmp_path):
    write_atomic(tmp_path / "hv1.facts", b"\xff\x00probe\n")
    write_atomic(tmp_path / "a.txt", "café")
    assert (tmp_path / "hv1.facts").read_bytes() == b"\xff\x00probe\n" and (tmp_path / "a.txt").read_bytes() == "café".encode()


def test_parts_are_written_one_after_the_other_as_they_are_made(tmp_path):
    made = []

    def parts():
        for part in ("<html>", b"caf\xc3\xa9", "é</html>"):
            made.append(part)
            yield part
    write_atomic(tmp_path / "page.html", parts())
    assert (tmp_path / "page.html").read_text() == "<html>caféé</html>" and len(made) == 3


def test_a_part_that_fails_leaves_no_file_and_no_temporary(tmp_path):
    def parts():
        yield "<html>"
        raise KeyError("host")
    with pytest.raises(KeyError):
        write_atomic(tmp_path / "page.html", parts())
    assert list(tmp_path.iterdir()) == []


def test_a_file_is_read_back_a_block_at_a_time(tmp_path):
    (tmp_path / "a").write_bytes(b"0123456789")
    assert list(file_parts(tmp_path / "a", size=4)) == [b"0123", b"4567", b"89"]
    (tmp_path / "empty").write_bytes(b"")
    assert list(file_parts(tmp_path / "empty")) == []
