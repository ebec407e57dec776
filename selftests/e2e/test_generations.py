"""Issue 4: the suite is right on libvirt 11 (Debian 13, in a chroot lab audited over SSH)
with the iptables and the nftables firewall backend, with and without firewalld."""
import pytest

MASQUERADE_FLUSH = {
    "iptables": "iptables -t nat -F LIBVIRT_PRT",
    "nftables": "nft flush chain ip libvirt_network guest_nat",
}


def test_healthy_host_passes(lab11):
    run = lab11.wait_healthy()
    assert run.rc == 0, run.stdout
    assert run.check("HOST-01")["message"].startswith("libvirt 11.")
    assert f"{lab11.backend} backend" in run.check("NET-11")["message"]
    skipped = run.by_outcome("skipped")
    assert skipped == (set() if lab11.firewalld else {"HOST-02", "HOST-03", "NET-14"})
    truth = lab11.runner.guest_truth()
    assert truth["dhcp"] and truth["dns"] and truth["dnstcp"] and truth["out"], f"the guest's own result: {truth}"


@pytest.mark.parametrize("fault, check, consequences", [
    ("virsh net-autostart --disable default", "NET-03", set()),
    ("ip link set virbr0 down", "NET-07", {"PATH-01", "PATH-02", "PATH-03"}),  # its route goes with it
    ("@masquerade", "NET-11", {"PATH-04"}),
])
def test_fault_is_caught_by_exactly_its_check(lab11, fault, check, consequences):
    if fault.startswith("@"):
        lab11.sh(MASQUERADE_FLUSH[lab11.backend])
    elif fault.startswith("virsh"):
        lab11.control("exec", *fault.split())
    else:
        lab11.sh(fault)
    try:
        run = lab11.audit()
    finally:
        lab11.control("exec", "virsh", "net-autostart", "default")
        lab11.sh("ip link set virbr0 up")
        lab11.control("restart-libvirtd")  # reinstalls libvirt's rules
    assert run.by_outcome("failed") | run.by_outcome("error") == {check} | consequences, run.stdout
    assert lab11.wait_healthy().rc == 0


def test_silent_nat_failure_is_caught(lab11):
    """LAB.md: nftables backend, tc's csum action unavailable, libvirtd restarted with the
    network up: `virsh net-list` still says active, and libvirt_network's chains are empty."""
    if lab11.backend != "nftables":
        pytest.skip("the nftables backend's failure mode")
    lab11.control("csum-wrapper", "off")
    try:
        lab11.control("restart-libvirtd")
        mark = lab11.runner.guest_mark()
        run = lab11.audit()
        truth = lab11.runner.guest_truth(after=mark, timeout=90)
    finally:
        lab11.control("csum-wrapper", "on")
        lab11.control("restart-libvirtd")
    assert run.check("NET-02")["outcome"] == "passed", "libvirt still calls the network active"
    net11 = run.check("NET-11")
    assert net11["outcome"] == "failed" and "NAT rules are missing" in net11["message"], net11
    assert not truth["out"], f"the guest still got out: {truth}"
    assert run.check("PATH-04")["outcome"] == "failed" and "nothing masquerades it" in run.check("PATH-04")["message"]
    assert lab11.wait_healthy().rc == 0
