"""Reports are written whole, under unguessable temporary names, never through a planted link,
and readable by the auditor's group at most."""
import os
import stat

import pytest

from virtnat.report.files import allowed, copy_atomic, restrict, write_atomic


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
    with pytest.raises(TypeError):
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
