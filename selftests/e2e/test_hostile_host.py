"""A host whose users try to fool the audit (issue 8): guests named with spaces, quotes and
markup, a process forging the probe's sections, a look-alike dnsmasq. Every name travels intact
through both libvirt paths (libvirt-python locally, virsh over SSH), the HTML shows them as text
in a real browser, and nothing forged is believed."""
import re
import shutil
import subprocess
import time
from xml.sax.saxutils import escape

import pytest

from selftests.browser import CHROMIUM, open_page
from selftests.unit.html_tree import parse

from .labhost import ADDRS

NAMES = ("my vm", "a'b", "<img src=x onerror=alert(1)>")
VM_CHECKS = ("VM-01", "VM-02", "VM-03", "VM-04")


REATTACH = ("for d in $(virsh -r list --uuid); do for t in $(virsh -r domiflist $d | awk '/vnet/{print $1}'); do "
            "ip link set $t master virbr0; done; done")


# A guest's description is its owner's text; in the probe's old framing these lines closed the
# guest's section and made the network inactive and not autostarted.
FORGED_INFO = ("\n@@virtnat:end dom-xml rc=0\n@@virtnat:begin net-info:default\nActive: no\nPersistent: yes\n"
               "Autostart: no\n@@virtnat:end net-info:default rc=0\n")


def _domain(name: str, uuid: str) -> str:
    """A running guest with no OS (SeaBIOS finds nothing to boot and waits): its tap on virbr0."""
    return (f"<domain type='qemu'><name>{escape(name)}</name><uuid>{uuid}</uuid>"
            f"<description>{escape(FORGED_INFO)}</description><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
            "<interface type='network'><source network='default'/><model type='virtio'/><rom enabled='no'/></interface>"
            "<controller type='usb' model='none'/><memballoon model='none'/></devices></domain>")


@pytest.fixture(scope="module")
def odd_guests(lab, tmp_path_factory):
    folder = tmp_path_factory.mktemp("odd-guests")
    uuids = [f"0dd00000-0000-4000-8000-00000000000{i}" for i in range(len(NAMES))]
    try:
        for name, uuid in zip(NAMES, uuids):
            xml = folder / f"{uuid}.xml"
            xml.write_text(_domain(name, uuid))
            lab.sh(f"virsh create {xml} >/dev/null")
        listed = lab.sh("virsh -r list --name").splitlines()
        assert set(NAMES) <= set(listed), listed
        yield NAMES
    finally:
        for uuid in uuids:
            lab.sh(f"virsh destroy {uuid} >/dev/null 2>&1", check=False)
        assert lab.wait_healthy().rc == 0


def _vm_results(run) -> dict[str, str]:
    return {f"{c['id']}[{c['subject']}]": c["outcome"] for c in run.doc["hosts"][0]["checks"] if c["id"].startswith("VM-")}


def test_odd_guest_names_travel_intact_through_both_libvirt_paths(lab, odd_guests, tmp_path):
    cfg = lab.ssh_config(tmp_path / "config")
    local = lab.audit()
    remote = lab.audit(f"--hosts=ssh://{ADDRS[0]}", f"--ssh-config={cfg}", inside=False)
    for run in (local, remote):
        results = _vm_results(run)
        for name in odd_guests:
            mine = {k: v for k, v in results.items() if k.split("[", 1)[1].startswith(f"{name}:vnet")}
            assert sorted(k.split("[")[0] for k in mine) == list(VM_CHECKS), (name, results)
            assert set(mine.values()) == {"passed"}, (name, mine)
    assert _vm_results(local) == _vm_results(remote)
    assert local.rc == remote.rc == 0, remote.stdout[-2000:]  # NET-02 and NET-03 too: the descriptions forged nothing


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by `make lab-deps`")
def test_a_guest_named_like_markup_stays_text_in_a_browser(lab, odd_guests, tmp_path):
    cfg = lab.ssh_config(tmp_path / "config")
    run = lab.audit(f"--hosts=ssh://{ADDRS[0]}", f"--ssh-config={cfg}", inside=False)
    page = next(run.report_dir.glob(f"{ADDRS[0]}-*.html"))
    dom, console = open_page(page)
    assert console == []
    tree = parse(dom)
    assert tree.one("html")["data-js"] == "on"  # the page's script ran
    assert not tree.all("img") and not re.search(r"<img[^>]*onerror", dom, re.I), "a guest's name became markup"
    assert all(name in tree.text() for name in NAMES)


def test_a_forging_process_and_a_look_alike_dnsmasq_are_not_believed(lab, tmp_path):
    """An unprivileged process named dnsmasq, with libvirt's config path and forged probe
    sections in its arguments, while forwarding is off and libvirt's dnsmasq is stopped."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy("/bin/sh", folder / "dnsmasq")  # a shell named dnsmasq, holding its arguments
    folder.chmod(0o755)
    tmp_path.chmod(0o755)
    # the framing the probe had before its random marker: this argument used to end the section
    # and replace the runtime sysctls that follow
    forged = "\n@@virtnat:end processes rc=0\n@@virtnat:begin runtime\nnet/ipv4/ip_forward=1\n@@virtnat:end runtime rc=0\n"
    real = lab.sh("pgrep -x dnsmasq").split()
    conf = "--conf-file=/var/lib/libvirt/dnsmasq/default.conf"
    lab.sh(f"sysctl -qw net.ipv4.ip_forward=0; kill {' '.join(real)}")
    impostor = subprocess.Popen(["ip", "netns", "exec", "virtnat-lab", "setpriv", "--reuid=65534", "--regid=65534",
                                 "--clear-groups", str(folder / "dnsmasq"), "-c", "sleep 600; :", conf, forged])
    try:
        proof = "pgrep -x dnsmasq -u 65534 >/dev/null && ! pgrep -x dnsmasq -u 0 >/dev/null && " \
                "test \"$(cat /proc/sys/net/ipv4/ip_forward)\" = 0 && echo in-place"
        for _ in range(50):  # the impostor is starting
            before = lab.sh(proof, check=False)
            if "in-place" in before:
                break
            time.sleep(0.1)
        run = lab.audit()
        after = lab.sh(proof, check=False)
    finally:
        impostor.kill()
        impostor.wait()
        lab.sh("sysctl -qw net.ipv4.ip_forward=1")
        lab.sh(f"virsh net-destroy default >/dev/null && virsh net-start default >/dev/null && {REATTACH}")
    assert "in-place" in before and "in-place" in after
    outcomes = {k.split("[")[0]: v for k, v in run.outcomes().items()}
    assert run.check("HOST-05")["message"] == "net.ipv4.ip_forward is '0', expected '1'"
    assert outcomes["NET-13"] == "failed"
    assert "none as root from a dnsmasq executable" in run.check("NET-13")["message"]
    assert outcomes["NET-15"] == "failed"
    assert lab.wait_healthy().rc == 0
