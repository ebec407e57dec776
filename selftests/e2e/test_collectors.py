"""The two collectors of each fact kind give identical facts for the lab host: pyroute2
netlink and `ip -j` output for links (a local audit reads `ip -j`, netlink where that fails);
libvirt-python and `virsh -r` output for libvirt."""
import subprocess
import sys

from .labhost import NS, ROOT

SNIPPET = """
import testinfra
from virtnat.collectors import Stats
from virtnat.collectors.command import ProbeLibvirtSource, ProbeLinkSource, ProbeRun
from virtnat.collectors.libvirt_api import LibvirtApiSource
from virtnat.collectors.netlink import NetlinkSource
run = ProbeRun(testinfra.get_host("local://"), "lab", Stats(), remote=False, links=True, virsh_uri="qemu:///system")
netlink, ip_json = NetlinkSource().collect(), ProbeLinkSource(run).collect()
assert netlink == ip_json, (netlink, ip_json)
helper = NetlinkSource()
helper.start()  # the same dump, in the helper process of a local audit whose `ip -j` fails
assert helper.collect() == netlink
api, virsh = LibvirtApiSource("qemu:///system", Stats()).collect(), ProbeLibvirtSource(run, "qemu:///system").collect()
assert api == virsh, (api, virsh)
print(sorted(netlink), sorted(api.networks), api.running_guests)
"""


def test_link_and_libvirt_collectors_agree(lab):
    result = subprocess.run(["ip", "netns", "exec", NS, sys.executable, "-c", SNIPPET], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "virbr0" in result.stdout and lab.tap() in result.stdout and "virtnat-guest" in result.stdout
