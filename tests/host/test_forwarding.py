"""HOST-05..07: the kernel forwards the guests' packets, now and after a reboot."""
import shlex

import pytest

from virtnat.checks import runtime_sysctl


@pytest.mark.control(
    id="HOST-05",
    title="net.ipv4.ip_forward is 1",
    impact="critical",
    remediation="sysctl -w net.ipv4.ip_forward=1",
)
def test_ipv4_forwarding_is_on(system):
    """With forwarding off the host drops every packet a guest sends beyond 192.168.122.1:
    the network looks fine and nothing gets out."""
    value = runtime_sysctl(system, "net.ipv4.ip_forward")
    assert value == "1", f"net.ipv4.ip_forward is {value!r}, expected '1'"


@pytest.mark.control(
    id="HOST-06",
    title="net.ipv4.ip_forward = 1 is persisted for boot",
    impact="high",
    remediation='echo "net.ipv4.ip_forward = 1" > /etc/sysctl.d/60-ip-forward.conf && sysctl --system',
)
def test_ipv4_forwarding_is_persisted(system, fix):
    """The value in sysctl.d (and sysctl.conf, where the boot reads it) is what every boot
    starts from: the kernel's 0 when no file sets it. libvirt turns forwarding on when it starts
    a NAT network (measured on the systemd lab: rebooted with nothing persisted, ip_forward was 1
    once the default network had autostarted, 0 when it had not): after a reboot the host forwards
    once libvirt has started one, and not before. Debian 13's boot no longer reads /etc/sysctl.conf,
    where the document appends the setting: the fix writes it to /etc/sysctl.d, or where a file
    sets another value (it would win over a new one), sets 1 in that file."""
    value = system.sysctl_persisted.get("net.ipv4.ip_forward")
    source = system.sysctl_sources.get("net.ipv4.ip_forward", "no file")
    if _masking(system, ["net.ipv4.ip_forward"]):
        fix(" && ".join(_masking(system, ["net.ipv4.ip_forward"]) + ["sysctl --system"]))
    assert value == "1", (f"at boot net.ipv4.ip_forward is set to {value or 'nothing'} ({source}{_unread(system, 'net.ipv4.ip_forward')}): "
                          f"it is {value or '0'}{UNTIL_LIBVIRT}; expected 1")


UNTIL_LIBVIRT = " until libvirt starts a NAT network, which turns it on"


def _unread(system, key: str) -> str:
    """What the boot's not reading /etc/sysctl.conf means for key, if it does not read it."""
    if system.sysctl_conf_at_boot:
        return ""
    if key in system.sysctl_unread:
        return f"; /etc/sysctl.conf sets {system.sysctl_unread[key]} but is not read at boot on this host"
    return "; /etc/sysctl.conf is not read at boot on this host"


def _masking(system, keys) -> list[str]:
    """The commands that set each key to 1 in the file that persists another value for it: a
    new file in sysctl.d would not win over it."""
    commands = []
    for key in keys:
        source = system.sysctl_sources.get(key)
        if source and system.sysctl_persisted.get(key) not in (None, "1"):
            pattern = key.replace(".", "[./]")
            commands.append(f"sed -i 's|^[[:space:]]*{pattern}[[:space:]]*=.*|{key} = 1|' {shlex.quote(source)}")
    return commands


def after_boot(system, key: str) -> str:
    """What key is after the next boot: its persisted value, or the kernel's 0; libvirt turns
    IPv4 forwarding (both names) on when it starts a NAT network."""
    saved = system.sysctl_persisted.get(key)
    source = system.sysctl_sources.get(key, "no file sets it")
    later = UNTIL_LIBVIRT if key.startswith("net.ipv4.") else ""
    return f"{saved or '0'} after boot ({source}){later}"


MARKER_07 = 'printf "net.ipv4.conf.all.forwarding=1\\nnet.ipv6.conf.all.forwarding=1\\n" > /etc/sysctl.d/60-forwarding.conf && sysctl --system'


@pytest.mark.control(
    id="HOST-07",
    title="net.ipv4.conf.all.forwarding and net.ipv6.conf.all.forwarding are 1, now and persisted",
    impact="medium",
    remediation=MARKER_07,
)
def test_all_forwarding_is_on(system, profile, fix):
    """The document persists both families' forwarding. net.ipv4.conf.all.forwarding is the
    kernel's alias of ip_forward; the IPv6 one matters where guests get IPv6. The fix is the
    marker's, after setting 1 in any file that persists another value (HOST-06)."""
    keys = ["net.ipv4.conf.all.forwarding"]
    if profile.require_ipv6_forwarding:
        keys.append("net.ipv6.conf.all.forwarding")
    wrong = []
    for key in keys:
        now, saved = runtime_sysctl(system, key), system.sysctl_persisted.get(key)
        if now != "1":
            wrong.append(f"{key} is {now!r} now")
        if saved != "1":
            wrong.append(f"{key} is {after_boot(system, key)}")
    masking = _masking(system, keys)
    if masking:
        fix(" && ".join(masking + [MARKER_07]))
    assert not wrong, f"{'; '.join(wrong)}; expected 1"
