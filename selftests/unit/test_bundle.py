"""--facts: which files a spec names, and reading one as a host's probe output or bundle: the
header, its checksum, and every way a bundle can be wrong, each one line."""
import hashlib
import os

import pytest

from virtnat import __version__
from virtnat.collectors.bundle import BundleRun, Header, bundle_bytes, bundle_files, bundle_host, read_bundle
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


def test_a_directory_is_its_visible_files_sorted(site):
    assert bundle_files(str(site)) == [site / "hv1.txt", site / "hv2.facts"]


def test_files_and_directories_comma_separated_keep_their_order(site, tmp_path):
    single = tmp_path / "hv3"
    single.write_text(frame(SECTIONS))
    assert bundle_files(f" {single} ,,{site}/old, {site}/hv2.facts") == [single, site / "old/hv9.facts", site / "hv2.facts"]


def test_a_missing_path_is_named(site):
    with pytest.raises(FactError) as error:
        bundle_files(f"{site},{site}/nope.facts,also-missing")
    assert str(error.value) == f"{site}/nope.facts: no such file or directory"


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
