"""The probe's framed files (facts/framed.py), read by the units section and libvirt's state files."""
from virtnat.facts.framed import Framed, basename


def test_framed_lines_are_kept_per_file_and_other_lines_are_left():
    frames = Framed()
    taken = [frames.take(line) for line in (
        "|before any file", "@@file  /etc/a b.conf ", "|[Unit]", "||x", "|", "other", "@@unreadable /etc/c.conf ",
        "|after an unreadable one", "@@file /etc/d.conf", "@@autostart x.xml", "|d")]
    assert taken == [False, True, True, True, True, False, True, False, True, False, True]
    assert frames.files == {"/etc/a b.conf": ["[Unit]", "|x", ""], "/etc/d.conf": ["d"]}
    assert frames.unreadable == ["/etc/c.conf"]
    assert frames.texts() == {"/etc/a b.conf": "[Unit]\n|x\n", "/etc/d.conf": "d"}


def test_a_file_framed_twice_keeps_all_its_lines():
    frames = Framed()
    for line in ("@@file /a", "|1", "@@file /b", "|2", "@@file /a", "|3"):
        frames.take(line)
    assert frames.files == {"/a": ["1", "3"], "/b": ["2"]}


def test_basename_is_the_last_path_component():
    assert [basename(p) for p in ("/lib/systemd/system/libvirtd.service", "a/b.d/c.conf", "x", "/d/")] == [
        "libvirtd.service", "c.conf", "x", ""]
