"""--facts: which files a spec names, and reading one as a host's probe output."""
import os

import pytest

from virtnat.collectors.bundle import BundleRun, bundle_files
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
