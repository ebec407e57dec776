"""Collector failures become one line with the fix."""
import sys

import pytest

from virtnat.collectors import HostFacts, Stats
from virtnat.collectors.libvirt_api import LibvirtApiSource, connection_error
from virtnat.errors import FactError, NotServed


@pytest.mark.parametrize(
    "message, fix",
    [
        ("Failed to connect socket to '/run/libvirt/libvirt-sock-ro': No such file or directory", "start the libvirt daemon"),
        ("Failed to connect socket to '/run/libvirt/libvirt-sock': Permission denied", "as a member of the libvirt group"),
        ("authentication unavailable: no polkit agent available", "as a member of the libvirt group"),
        ("authorization: access denied", "as a member of the libvirt group"),
        ("Failed to connect socket to '/run/libvirt/libvirt-sock': Connection refused", "(systemctl start libvirtd)"),
        ("Cannot read CA certificate '/etc/pki/CA/cacert.pem': No such file or directory",
         "check that a libvirt daemon serves this URI (virsh -r -c URI version)"),
        ("unable to connect to server at 'hv1:16509': No route to host",
         "check that a libvirt daemon serves this URI (virsh -r -c URI version)"),
    ],
)
def test_connection_errors_name_the_fix(message, fix):
    text = str(connection_error("qemu:///system", message + "\nmore detail"))
    first, _, said_fix = text.partition("; fix: ")
    assert first == f"cannot connect to libvirt at qemu:///system: {message}" and "\n" not in text
    assert fix in said_fix


@pytest.mark.parametrize("message, served", [
    ("Failed to connect socket to '/run/libvirt/libvirt-sock': No such file or directory", False),
    ("Failed to connect socket to '/run/libvirt/libvirt-sock': Connection refused", False),
    ("Failed to connect socket to '/run/libvirt/libvirt-sock-ro': Permission denied", True),
    ("authentication unavailable: no polkit agent available to authenticate action", True),
    ("access denied by ACL", True),
])
def test_a_connection_refused_to_this_user_is_libvirt_served_anything_else_nothing_serving(message, served):
    """HOST-01 fails on NotServed; a daemon that refuses this user does serve the URI (not checked)."""
    error = connection_error("qemu:///system", message)
    assert isinstance(error, FactError) and isinstance(error, NotServed) is not served


def test_a_missing_socket_says_which_daemons_to_start():
    assert str(connection_error("qemu:///system", "Failed to connect socket to '/run/libvirt/virtqemud-sock': No such file or directory")) == (
        "cannot connect to libvirt at qemu:///system: Failed to connect socket to '/run/libvirt/virtqemud-sock': "
        "No such file or directory; fix: start the libvirt daemon (systemctl start libvirtd, or virtqemud and virtnetworkd)")


@pytest.mark.parametrize("message", ["", "  \n "])
def test_an_empty_libvirt_error_is_unknown(message):
    assert str(connection_error("qemu:///system", message)) == (
        "cannot connect to libvirt at qemu:///system: unknown error; "
        "fix: check that a libvirt daemon serves this URI (virsh -r -c URI version)")


def test_libvirt_python_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "libvirt", None)  # what `import libvirt` sees when it is not installed
    with pytest.raises(FactError) as error:
        LibvirtApiSource("qemu:///system", Stats()).collect()
    assert str(error.value) == (
        "libvirt-python is not installed (a local audit and --libvirt-uri read libvirt with it): pipx inject virtnat "
        "libvirt-python, or pip install 'virtnat[libvirt]'; it builds against libvirt's headers: apt install libvirt-dev "
        "pkg-config gcc python3-dev (dnf install libvirt-devel pkgconf gcc python3-devel)")


class Boom:
    calls = 0

    def collect(self):
        Boom.calls += 1
        raise KeyError("ifname")


def test_facts_are_collected_once_and_bugs_become_one_line():
    facts = HostFacts(libvirt=Boom(), links=Boom(), system=Boom(), stats=Stats())
    for _ in range(3):
        with pytest.raises(FactError, match="libvirt facts: KeyError: 'ifname'"):
            facts.libvirt()
    assert Boom.calls == 1
