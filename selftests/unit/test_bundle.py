"""--facts: which files a spec names, and reading one as a host's probe output or bundle: the
header, its checksum, and every way a bundle can be wrong, each one line."""
import hashlib
import os

import pytest

from virtnat import __version__
from virtnat.collectors.bundle import BundleRun, Header, bundle_bytes, bundle_files, bundle_host, not_audited, read_bundle
from virtnat.targets import BundleTarget
from virtnat.errors import FactError
from virtnat.facts.probe import frame

SECTIONS = {"libvirt-version": (0, "9.0.0"), "runtime": (0, "net.ipv4.ip_forward = 1")}


@pytest.fixture
def site(tmp_path):
    """hv2.facts and hv1.txt in site/, plus what a directory's listing must leave out."""
    site = tmp_path / "site"
    site.mkdir()
    for name in ("hv2.facts", "hv1.txt", ".hv0.swp"):
        (site / name).write_text(frame(SECTIONS))
    (site / "old").mkdir()
    (site / "old/hv9.facts").write_text(frame(SECTIONS))
    return site


def test_a_directory_is_its_visible_files_sorted_and_a_line_for_its_subdirectory(site):
    assert bundle_files(str(site)) == ([site / "hv1.txt", site / "hv2.facts"], [f"--facts: {site}/old is not audited: a directory, not a regular file"])


def test_files_and_directories_comma_separated_keep_their_order(site, tmp_path):
    single = tmp_path / "hv3"
    single.write_text(frame(SECTIONS))
    files, _ = bundle_files(f" {single} ,,{site}/old, {site}/hv2.facts")
    assert files == [single, site / "old/hv9.facts", site / "hv2.facts"]


def test_a_missing_path_is_named(site):
    with pytest.raises(FactError) as error:
        bundle_files(f"{site},{site}/nope.facts,also-missing")
    assert str(error.value) == f"{site}/nope.facts: no such file or directory"


def test_a_path_under_a_file_is_missing_too(site):
    with pytest.raises(FactError) as error:
        bundle_files(f"{site}/hv1.txt/x.facts")
    assert str(error.value) == f"{site}/hv1.txt/x.facts: no such file or directory"


@pytest.mark.parametrize("spec", ["", " , ", "EMPTY"])
def test_a_spec_without_files_is_refused(tmp_path, spec):
    (tmp_path / "empty").mkdir()
    spec = spec.replace("EMPTY", str(tmp_path / "empty"))
    with pytest.raises(FactError) as error:
        bundle_files(spec)
    assert str(error.value) == f"{spec!r} holds no fact file"


def test_a_bundle_gives_the_probes_sections(site):
    assert BundleRun(site / "hv1.txt", "hv1").sections() == SECTIONS


def test_bytes_that_are_not_utf8_are_replaced_not_fatal(tmp_path):
    path = tmp_path / "hv1.facts"
    path.write_bytes(frame({"libvirt-version": (0, "9.0.0"), "processes": (0, "dnsmasq \xff")}).encode("latin-1"))
    assert BundleRun(path, "hv1").sections()["processes"] == (0, "dnsmasq \ufffd")


def test_an_unreadable_bundle_names_the_host_and_the_file(tmp_path):
    with pytest.raises(FactError) as error:
        BundleRun(tmp_path / "gone.facts", "hv1").sections()
    assert str(error.value) == f"cannot read the facts of hv1: No such file or directory: {tmp_path}/gone.facts"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_bundle_without_permission_says_so(tmp_path):
    path = tmp_path / "hv1.facts"
    path.write_text(frame(SECTIONS))
    path.chmod(0)
    with pytest.raises(FactError) as error:
        BundleRun(path, "hv1").sections()
    assert str(error.value) == f"cannot read the facts of hv1: Permission denied: {path}"


def test_a_bundle_cut_off_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "hv1.facts"
    path.write_text(frame(SECTIONS).replace("@@recorded done\n", ""))
    with pytest.raises(FactError) as error:
        BundleRun(path, "hv1").sections()
    message = str(error.value)
    assert message.startswith(f"{path}: the probe's output ") and "\n" not in message


# -- bundles: the probe's output under a header (virtnat collect) -----------------------------

def bundle(tmp_path, host="hv1", output=None, name="b.facts"):
    path = tmp_path / name
    path.write_bytes(bundle_bytes(host, "2026-11-28T10:00:00+00:00", frame(SECTIONS) if output is None else output))
    return path


def test_a_bundle_is_a_header_then_the_probes_output(tmp_path):
    path = bundle(tmp_path)
    first, _, body = path.read_bytes().partition(b"\n")
    digest = hashlib.sha256(body).hexdigest()
    assert first.decode() == f"@@virtnat-bundle 1 host=hv1 time=2026-11-28T10:00:00+00:00 version={__version__} sha256={digest}"
    assert body.decode() == frame(SECTIONS)
    assert read_bundle(path.read_bytes()) == (Header("hv1", "2026-11-28T10:00:00+00:00", __version__), frame(SECTIONS))
    assert BundleRun(path, "hv1").sections() == SECTIONS


def test_a_host_name_of_any_characters_survives_the_header(tmp_path):
    name = "hv 1/é:\n<x>"
    path = bundle(tmp_path, host=name)
    assert bundle_host(path) == name and read_bundle(path.read_bytes())[0].host == name
    assert BundleTarget(path, "qemu:///system").name == name


def test_output_without_a_final_newline_gets_one(tmp_path):
    path = bundle(tmp_path, output=frame(SECTIONS).rstrip("\n"))
    assert path.read_bytes().endswith(b"done\n") and BundleRun(path, "hv1").sections() == SECTIONS


def test_a_probe_output_without_header_is_a_bundle_named_by_its_file(tmp_path):
    path = tmp_path / "hv7.facts"
    path.write_text(frame(SECTIONS))
    assert read_bundle(path.read_bytes()) == (None, frame(SECTIONS))
    assert bundle_host(path) is None and BundleTarget(path, "qemu:///system").name == "hv7"


@pytest.mark.parametrize("change, says", [
    (lambda data: data.replace(b"9.0.0", b"9.0.1"), "its checksum does not match"),             # tampered
    (lambda data: data[:-30], "its checksum does not match"),                                    # cut off
    (lambda data: data + b"@@recorded begin runtime\n", "its checksum does not match"),           # grown
    (lambda data: data.replace(b"sha256=", b"sha1=", 1), "a bundle header this virtnat cannot read"),
    (lambda data: data.replace(b"@@virtnat-bundle 1", b"@@virtnat-bundle 2", 1), "a bundle header this virtnat cannot read"),
])
def test_a_bundle_changed_after_collection_is_one_line_never_its_facts(tmp_path, change, says):
    path = bundle(tmp_path)
    path.write_bytes(change(path.read_bytes()))
    with pytest.raises(FactError) as error:
        BundleRun(path, "hv1").sections()
    assert str(error.value).startswith(f"{path}: {says}") and "\n" not in str(error.value)


def test_a_foreign_file_is_not_the_probes_output(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(FactError) as error:
        BundleRun(path, "notes").sections()
    assert str(error.value) == f"{path}: not the output of virtnat's probe (no @@virtnat-probe header line)"


def test_an_unreadable_bundle_has_no_header_name(tmp_path):
    assert bundle_host(tmp_path / "gone.facts") is None
    (tmp_path / "bad.facts").write_bytes(b"@@virtnat-bundle 1 host=x\n")
    assert bundle_host(tmp_path / "bad.facts") is None


def test_a_header_with_windows_line_ends_and_bytes_that_are_not_utf8(tmp_path):
    path = bundle(tmp_path, host="hv/1")
    data = path.read_bytes()
    assert b"host=hv%2F1 " in data  # a slash too is encoded: the name stays one field
    first, _, body = data.partition(b"\n")
    crlf = tmp_path / "crlf.facts"
    crlf.write_bytes(first + b"\r\n" + body)
    assert bundle_host(crlf) == "hv/1" and BundleRun(crlf, "x").sections() == SECTIONS
    odd = tmp_path / "odd.facts"
    odd.write_bytes(bundle_bytes("hv1", "t", frame(SECTIONS).replace("9.0.0", "9.0.0\udcff", 1).encode("utf-8", "surrogateescape")
                                 .decode("utf-8", "replace")))
    assert BundleRun(odd, "hv1").sections()["libvirt-version"] == (0, "9.0.0\ufffd")


def test_an_unreadable_header_is_quoted_at_most_120_bytes_and_decoded(tmp_path):
    path = tmp_path / "b.facts"
    path.write_bytes(b"@@virtnat-bundle 1 host=\xff" + b"x" * 200 + b"\n" + frame(SECTIONS).encode())
    with pytest.raises(FactError) as error:
        BundleRun(path, "hv1").sections()
    assert str(error.value) == f"{path}: a bundle header this virtnat cannot read: {('@@virtnat-bundle 1 host=' + chr(0xfffd) + 'x' * 95)!r}"


def test_a_header_longer_than_4096_bytes_names_no_host(tmp_path):
    path = tmp_path / "b.facts"
    path.write_bytes(bundle_bytes("h" * 5000, "t", frame(SECTIONS)))
    assert bundle_host(path) is None and read_bundle(path.read_bytes())[0].host == "h" * 5000


def test_a_header_is_read_from_the_first_4096_bytes_only(tmp_path):
    """4096 bytes hold a header of exactly that length (its line end not needed); one byte more is cut."""
    head = len(bundle_bytes("", "t", "x").partition(b"\n")[0])
    fits, over = tmp_path / "fits.facts", tmp_path / "over.facts"
    fits.write_bytes(bundle_bytes("h" * (4096 - head), "t", frame(SECTIONS)))
    over.write_bytes(bundle_bytes("h" * (4097 - head), "t", frame(SECTIONS)))
    assert bundle_host(fits) == "h" * (4096 - head) and bundle_host(over) is None


@pytest.mark.parametrize("after", [" ", "\t", "X", "\r\r\n"])
def test_a_header_line_with_anything_after_the_checksum_is_not_read(tmp_path, after):
    first, _, body = bundle_bytes("hv1", "t", frame(SECTIONS)).partition(b"\n")
    data = first + after.rstrip("\n").encode() + b"\n" + body
    (tmp_path / "b.facts").write_bytes(data)
    if after == "\r\r\n":  # only line ends are taken off, however many
        assert read_bundle(data)[0].host == "hv1" == bundle_host(tmp_path / "b.facts")
        return
    with pytest.raises(FactError, match="^a bundle header this virtnat cannot read: "):
        read_bundle(data)
    assert bundle_host(tmp_path / "b.facts") is None


def test_a_bundles_body_of_bytes_that_are_not_utf8_is_read_with_replacements(tmp_path):
    body = frame(SECTIONS).replace("9.0.0", "9.0.0@@", 1).encode().replace(b"@@", b"\xff\xfe")
    data = f"@@virtnat-bundle 1 host=hv1 time=t version=0 sha256={hashlib.sha256(body).hexdigest()}\n".encode() + body
    assert read_bundle(data)[1] == body.decode("utf-8", "replace") and "9.0.0\ufffd\ufffd" in read_bundle(data)[1]


# -- hostile files: what is not a regular file, what is too large, a header out of place ------

def test_a_directory_names_each_entry_it_does_not_audit(tmp_path, no_hang):
    """Links to nothing, to a directory or to a special file, a FIFO, a socket and a
    subdirectory are each one line; hidden entries are left out without one; a link to a
    regular file is audited."""
    import socket
    site = tmp_path / "site"
    site.mkdir()
    (site / "hv1.facts").write_text(frame(SECTIONS))
    (site / "hv2.facts").symlink_to(site / "hv1.facts")
    (site / "gone.facts").symlink_to(site / "nowhere")
    (site / "sub").mkdir()
    (site / "to-dir").symlink_to(site / "sub")
    (site / "to-zero").symlink_to("/dev/zero")
    os.mkfifo(site / "fifo.facts")
    os.mkfifo(site / ".hidden-fifo")
    (site / ".hv0.swp").write_text("x")
    (site / "loop").symlink_to(site / "loop")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(site / "sock"))
    try:
        files, skipped = bundle_files(str(site))
    finally:
        server.close()
    assert files == [site / "hv1.facts", site / "hv2.facts"]
    assert skipped == [f"--facts: {site}/{name} is not audited: {why}" for name, why in [
        ("fifo.facts", "a FIFO, not a regular file"),
        ("gone.facts", "a symbolic link to nothing"),
        ("loop", "cannot be read: Too many levels of symbolic links"),
        ("sock", "a socket, not a regular file"),
        ("sub", "a directory, not a regular file"),
        ("to-dir", "a symbolic link to a directory, not a regular file"),
        ("to-zero", "a symbolic link to a character device, not a regular file")]]


def test_a_special_file_given_by_name_is_refused_at_once(specials, no_hang):
    for path, what in specials.items():
        if what == "a directory":
            continue  # a directory given is read as one
        with pytest.raises(FactError) as error:
            bundle_files(f"{path}")
        link = "a symbolic link to " if os.path.islink(path) else ""
        assert str(error.value) == f"{path}: {link}{what}, not a regular file: give a bundle or a directory of them"


def test_a_link_to_nothing_given_by_name_says_so(tmp_path):
    (tmp_path / "hv1.facts").symlink_to(tmp_path / "nowhere")
    with pytest.raises(FactError) as error:
        bundle_files(f"{tmp_path}/hv1.facts")
    assert str(error.value) == f"{tmp_path}/hv1.facts: a symbolic link to nothing"


def test_a_file_that_became_special_after_the_listing_is_one_line_for_its_host(specials, no_hang):
    for path, what in specials.items():
        with pytest.raises(FactError) as error:
            BundleRun(path, "hv1").sections()
        assert str(error.value) == f"{path}: {what}, not a regular file"
        assert bundle_host(path) is None  # its name is read without blocking too


def test_a_bundle_larger_than_64_mib_is_refused_unread(tmp_path):
    path = tmp_path / "hv1.facts"
    path.write_bytes(bundle_bytes("hv1", "t", frame(SECTIONS)))
    with open(path, "r+b") as handle:
        handle.truncate(64 * 1024 * 1024 + 1)  # sparse: the size alone refuses it
    with pytest.raises(FactError) as error:
        BundleRun(path, "hv1").sections()
    assert str(error.value) == f"{path}: larger than 64 MiB, the limit of a fact file (one host's probe output)"
    assert bundle_host(path) == "hv1"  # its host is named: the error is that host's


def test_the_fact_file_limit_is_exact(tmp_path, monkeypatch):
    import virtnat.inputs as inputs
    path = tmp_path / "hv1.facts"
    path.write_text(frame(SECTIONS))
    monkeypatch.setattr(inputs, "FACTS_LIMIT", path.stat().st_size)
    assert BundleRun(path, "hv1").sections() == SECTIONS
    monkeypatch.setattr(inputs, "FACTS_LIMIT", path.stat().st_size - 1)
    with pytest.raises(FactError, match=f"larger than {path.stat().st_size - 1} bytes, the limit of a fact file"):
        BundleRun(path, "hv1").sections()


def test_a_section_larger_than_16_mib_is_refused(tmp_path):
    huge = "x" * (16 * 1024 * 1024 - 9) + "\n12345678"  # 16 MiB + 1 with its line end
    path = bundle(tmp_path, output=frame({**SECTIONS, "processes": (0, huge)}))
    with pytest.raises(FactError) as error:
        BundleRun(path, "hv1").sections()
    assert str(error.value) == (f"{path}: the probe's output holds section processes of more than 16 MiB, the limit of one"
                                " section: not a host's facts")
    path = bundle(tmp_path, output=frame({**SECTIONS, "processes": (0, huge[:-1])}))
    assert BundleRun(path, "hv1").sections()["processes"] == (0, huge[:-1])  # 16 MiB exactly is read


STRAY = "@@virtnat-bundle 1 host=hv9 time=t version=0 sha256=" + "0" * 64


@pytest.mark.parametrize("data", [
    " " + STRAY + "\n" + frame(SECTIONS),                     # indented
    "\t" + STRAY + "\n" + frame(SECTIONS),
    "\ufeff" + STRAY + "\n" + frame(SECTIONS),                # behind a byte order mark
    "\n" + STRAY + "\n" + frame(SECTIONS),                    # on the second line
    frame(SECTIONS) + STRAY + "\n",                           # after the probe's output
    frame(SECTIONS).replace("9.0.0", "9.0.0\n  " + STRAY),   # inside a section
    frame(SECTIONS).replace("9.0.0", "9.0.0\r" + STRAY),     # after a line end Python splits at
    frame(SECTIONS).replace("9.0.0", "9.0.0\u2028" + STRAY),
    "@@virtnat-bundle",                                       # no more than the word
])
def test_a_bundle_header_anywhere_but_the_start_is_refused(tmp_path, data):
    path = tmp_path / "hv1.facts"
    path.write_bytes(data.encode())
    with pytest.raises(FactError) as error:
        BundleRun(path, "hv1").sections()
    assert str(error.value) in (
        f"{path}: a bundle header that is not at the start of the file: neither a bundle nor the probe's output",
        f"{path}: a bundle header this virtnat cannot read: '@@virtnat-bundle'")


def test_a_bundle_whose_body_holds_a_header_line_is_refused(tmp_path):
    path = bundle(tmp_path, output=frame(SECTIONS).replace("9.0.0", "9.0.0\n" + STRAY))  # its checksum matches
    with pytest.raises(FactError, match="a bundle header that is not at the start of the file"):
        BundleRun(path, "hv1").sections()


def test_the_word_inside_a_line_is_data(tmp_path):
    sections = {**SECTIONS, "processes": (0, "self 1\n42 4026531840 ansible echo @@virtnat-bundle 1 host=x")}
    path = bundle(tmp_path, output=frame(sections))
    assert BundleRun(path, "hv1").sections() == sections


@pytest.mark.parametrize("data", [b"", b"\n", b"hello\n", b"@@recorded begin runtime\nx\n@@recorded end runtime rc=0\n"])
def test_a_file_that_is_neither_a_bundle_nor_probe_output_is_one_line(tmp_path, data):
    path = tmp_path / "hv1.facts"
    path.write_bytes(data)
    with pytest.raises(FactError) as error:
        BundleRun(path, "hv1").sections()
    assert str(error.value) == f"{path}: not the output of virtnat's probe (no @@virtnat-probe header line)"


def test_a_file_gone_from_the_facts_directory_says_so(tmp_path):
    """Listed, then removed before it was looked at: no such file, and no link to nothing."""
    assert not_audited(tmp_path / "hv9.facts") == "no such file or directory"
