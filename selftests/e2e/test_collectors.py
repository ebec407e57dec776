"""The two link collectors (pyroute2 netlink, `ip -j` output) give identical facts for the lab host."""
import subprocess
import sys

from .labhost import NS, ROOT

SNIPPET = """
import testinfra
from virtnat.collectors import Stats
from virtnat.collectors.command import IpJsonSource
from virtnat.collectors.netlink import NetlinkSource
a = NetlinkSource().collect()
b = IpJsonSource(testinfra.get_host("local://"), Stats()).collect()
assert a == b, (a, b)
print(len(a), sorted(a))
"""


def test_netlink_and_ip_json_collectors_agree(lab):
    result = subprocess.run(["ip", "netns", "exec", NS, sys.executable, "-c", SNIPPET], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "virbr0" in result.stdout and lab.tap() in result.stdout
