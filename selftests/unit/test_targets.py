"""How a target wires its sources: the probe run whose sections the libvirt fallback reads (what a
stopped daemon's host gives instead of a connection), and the URI it reports."""
import testinfra

from virtnat import targets
from virtnat.collectors.command import ProbeLibvirtSource, ProbeRun, ProbeSystemSource
from virtnat.targets import Target


def _wired(monkeypatch, name):
    seen = {}

    def fallback(sections, uri):
        seen.update(sections=sections, uri=uri)
        return "the fallback"
    monkeypatch.setattr(targets, name, fallback)
    return seen


def test_a_local_target_s_libvirt_falls_back_on_its_own_probe_run(monkeypatch):
    seen = _wired(monkeypatch, "local_fallback")
    facts = Target(testinfra.get_host("local://"), "qemu:///system").facts
    libvirt, system = facts._sources["libvirt"], facts._sources["system"]
    assert libvirt.fallback == "the fallback" and seen["uri"] == libvirt.uri == "qemu:///system"
    assert isinstance(system, ProbeSystemSource) and seen["sections"] == system.run.sections
    assert isinstance(seen["sections"].__self__, ProbeRun)


def test_a_local_target_of_another_driver_has_no_fallback(monkeypatch):
    seen = _wired(monkeypatch, "local_fallback")
    facts = Target(testinfra.get_host("local://"), "test:///default").facts
    assert facts._sources["libvirt"].fallback() is None and seen == {}


def test_a_remote_target_read_through_libvirt_uri_falls_back_on_its_probe_run(monkeypatch):
    seen = _wired(monkeypatch, "remote_fallback")
    host = testinfra.get_host("ssh://root@hv1")
    facts = Target(host, "qemu:///system", "qemu+ssh://root@{host}/system").facts
    libvirt = facts._sources["libvirt"]
    assert libvirt.fallback == "the fallback" and seen["uri"] == libvirt.uri == "qemu+ssh://root@hv1/system"
    assert seen["sections"] == facts._sources["system"].run.sections


def test_a_remote_target_without_libvirt_uri_reads_virsh_through_the_probe(monkeypatch):
    seen = _wired(monkeypatch, "remote_fallback")
    facts = Target(testinfra.get_host("ssh://root@hv1"), "qemu:///system").facts
    assert isinstance(facts._sources["libvirt"], ProbeLibvirtSource) and seen == {}
