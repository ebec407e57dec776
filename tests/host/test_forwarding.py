"""HOST-05..07: the kernel forwards the guests' packets, now and after a reboot."""
import pytest


@pytest.mark.control(
    id="HOST-05",
    title="net.ipv4.ip_forward is 1",
    impact="critical",
    remediation="sysctl -w net.ipv4.ip_forward=1",
)
def test_ipv4_forwarding_is_on(system):
    """With forwarding off the host drops every packet a guest sends beyond 192.168.122.1:
    the network looks fine and nothing gets out."""
    value = system.sysctl_runtime.get("net.ipv4.ip_forward")
    assert value == "1", f"net.ipv4.ip_forward is {value!r}, expected '1'"


@pytest.mark.control(
    id="HOST-06",
    title="net.ipv4.ip_forward = 1 is persisted for boot",
    impact="high",
    remediation='echo "net.ipv4.ip_forward = 1" > /etc/sysctl.d/60-ip-forward.conf && sysctl --system   (the document appends it to /etc/sysctl.conf, which Debian 13 no longer reads at boot)',
)
def test_ipv4_forwarding_is_persisted(system):
    """libvirt turns forwarding on when it starts the network, but something else may turn it
    off; the value in sysctl.d (and sysctl.conf, where the boot reads it) is what every boot
    starts from. Debian 13's boot no longer reads /etc/sysctl.conf."""
    value = system.sysctl_persisted.get("net.ipv4.ip_forward")
    source = system.sysctl_sources.get("net.ipv4.ip_forward", "no file")
    unread = "" if system.sysctl_conf_at_boot else "; /etc/sysctl.conf is not read at boot on this host"
    assert value == "1", f"at boot net.ipv4.ip_forward is set to {value or 'nothing'} ({source}{unread}), expected 1"


@pytest.mark.control(
    id="HOST-07",
    title="net.ipv4.conf.all.forwarding and net.ipv6.conf.all.forwarding are 1, now and persisted",
    impact="medium",
    remediation='printf "net.ipv4.conf.all.forwarding=1\\nnet.ipv6.conf.all.forwarding=1\\n" > /etc/sysctl.d/60-forwarding.conf && sysctl --system',
)
def test_all_forwarding_is_on(system, profile):
    """The document persists both families' forwarding. net.ipv4.conf.all.forwarding is the
    kernel's alias of ip_forward; the IPv6 one matters where guests get IPv6."""
    keys = ["net.ipv4.conf.all.forwarding"]
    if profile.require_ipv6_forwarding:
        keys.append("net.ipv6.conf.all.forwarding")
    wrong = []
    for key in keys:
        now, saved = system.sysctl_runtime.get(key), system.sysctl_persisted.get(key)
        if now != "1":
            wrong.append(f"{key} is {now!r} now")
        if saved != "1":
            wrong.append(f"{key} is {saved or 'unset'} after boot")
    assert not wrong, f"{'; '.join(wrong)}; expected 1"
