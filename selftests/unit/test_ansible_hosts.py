"""ansible:// hosts (issue 8): testinfra runs their commands over paramiko or ssh backends of its
own; they get what paramiko:// and ssh:// get (verified host keys, BatchMode, ServerAlive, the
connect timeout, a deadline), and `{host}` in --libvirt-uri is their ansible_host."""
import time

import pytest

from selftests.unit.loopback_ssh import LoopbackSSH, never
from virtnat.collectors import Stats
from virtnat.collectors.command import ProbeRun
from virtnat.collectors.deadline import Deadline
from virtnat.connections import SSH_OPTIONS, open_hosts, stop
from virtnat.errors import FactError
from virtnat.targets import Target


def ansible_hosts(tmp_path, lines, timeout=3):
    """The hosts of group `fleet` in an inventory holding `lines`, by inventory name."""
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[fleet]\n" + "".join(line + "\n" for line in lines))
    hosts = open_hosts("ansible://fleet", None, timeout=timeout, ansible_inventory=str(inventory))
    return {host.backend.get_hostname(): host for host in hosts}


def paramiko_line(name, server):
    return (f"{name} ansible_host=127.0.0.1 ansible_port={server.port} ansible_connection=paramiko_ssh "
            "ansible_user=alice ansible_ssh_pass=pw")


def test_paramiko_ssh_host_is_refused_until_its_key_is_known(sshd, home):
    """testinfra's own paramiko backend would log in with a warning: here it is refused before
    login, and once the key is in known_hosts the same host runs commands."""
    host = ansible_hosts(home, [paramiko_line("hv1", sshd)])["hv1"]
    with pytest.raises(FactError) as err:
        ProbeRun(host, "hv1", Stats(), remote=True).sections()
    assert str(err.value) == (f"cannot reach hv1: Server '[127.0.0.1]:{sshd.port}' not found in known_hosts; "
                              "its host key is not in your known_hosts: ssh-keyscan it, or set StrictHostKeyChecking no in an --ssh-config")
    assert sshd.logins == [] and sshd.commands == []
    (home / ".ssh/known_hosts").write_text(sshd.known_hosts_line())
    assert host.run("uname -n").stdout == "hello\n"
    assert sshd.logins == [("password", "alice")] and sshd.commands == ["uname -n"]
    assert host.backend.virtnat_via.backend.timeout == 3  # the connect timeout reaches it


def test_ssh_host_that_never_answers_is_stopped_at_the_deadline(tmp_path):
    """ansible's ssh path, the ssh client against a server that takes the probe and never answers."""
    server = LoopbackSSH(never)
    try:
        known = tmp_path / "known_hosts"
        known.write_text(server.known_hosts_line())
        args = f"-o UserKnownHostsFile={known} -o IdentitiesOnly=yes"
        host = ansible_hosts(tmp_path, [f"hv3 ansible_host=127.0.0.1 ansible_port={server.port} ansible_user=alice "
                                        f"ansible_ssh_private_key_file={server.client_key_file(tmp_path)} "
                                        f"ansible_ssh_extra_args='{args}'"], timeout=1)["hv3"]
        start = time.monotonic()
        with pytest.raises(FactError) as err:
            ProbeRun(host, "hv3", Stats(), remote=True, deadline=Deadline(command=0.3, connect=0)).sections()
        assert str(err.value) == "hv3: probe did not finish within 0.3 s"
        assert 0.3 <= time.monotonic() - start < 0.3 + 3
        assert len(server.commands) == 1
    finally:
        server.close()


def test_libvirt_uri_host_is_the_ansible_host_and_ssh_gets_its_options(tmp_path):
    hosts = ansible_hosts(tmp_path, ["hv1 ansible_host=10.0.10.11 ansible_ssh_extra_args='-o Compression=no'",
                                     "hv2 ansible_host=hv2.example.net ansible_connection=paramiko_ssh", "hv3"], timeout=7)
    uri = "qemu+ssh://root@{host}/system"
    targets = {name: Target(host, "qemu:///system", uri) for name, host in hosts.items()}
    assert {name: t.api_uri for name, t in targets.items()} == {
        "hv1": "qemu+ssh://root@10.0.10.11/system",
        "hv2": "qemu+ssh://root@hv2.example.net/system",
        "hv3": "qemu+ssh://root@hv3/system",  # no ansible_host: reached by its name
    }
    assert [t.name for t in targets.values()] == ["hv1", "hv2", "hv3"]  # reported by inventory name
    via = hosts["hv1"].backend.virtnat_via.backend  # ansible's default connection: the ssh client
    assert via.ssh_extra_args == SSH_OPTIONS + " -o Compression=no"
    assert (via.timeout, via.controlpersist) == (7, 0)
    assert "-o ConnectTimeout=7" in via._build_ssh_command("true")[0]


def test_other_connections_and_forced_ansible_are_left_as_they_are(tmp_path):
    inventory = ["hv0 ansible_connection=local", "hv1 ansible_host=10.0.10.11 ansible_connection=ssh"]
    local = ansible_hosts(tmp_path, inventory)["hv0"]
    assert local.backend.virtnat_via.backend.NAME == "local"
    stop(local)  # nothing to break off
    assert local.run("echo ok").stdout == "ok\n"
    again = ansible_hosts(tmp_path, inventory, timeout=9)["hv1"]  # the same cached host, hardened once
    assert again.backend.virtnat_via.backend.ssh_extra_args == SSH_OPTIONS
    assert again.backend.virtnat_via.backend.timeout == 3
    (tmp_path / "winrm").mkdir()
    winrm = ansible_hosts(tmp_path / "winrm", ["hv2 ansible_connection=winrm"])["hv2"]
    assert winrm.backend.virtnat_via is None  # no backend of testinfra's: the `ansible` command
    forced = {h.backend.get_hostname(): h for h in open_hosts("ansible://fleet", None, timeout=3, force_ansible=True,
                                                             ansible_inventory=str(tmp_path / "inventory.ini"))}
    assert forced["hv1"].backend.virtnat_via is None  # commands go through the `ansible` command
    assert Target(forced["hv1"], "qemu:///system", "qemu+ssh://{host}/system").api_uri == "qemu+ssh://10.0.10.11/system"


def test_stopping_an_ansible_host_closes_the_connection_it_runs_on(sshd, home):
    (home / ".ssh/known_hosts").write_text(sshd.known_hosts_line())
    host = ansible_hosts(home, [paramiko_line("hv1", sshd)])["hv1"]
    assert host.run("true").stdout == "hello\n"
    inner = host.backend.virtnat_via.backend
    assert inner.client.get_transport() is not None
    stop(host)
    assert inner.client.get_transport() is None


def test_an_ansible_host_gets_the_ssh_config_and_identity_file(tmp_path):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[fleet]\nhv1 ansible_connection=ssh\n")
    config, key = tmp_path / "ssh_config", tmp_path / "id_ed25519"
    [host] = open_hosts("ansible://fleet", None, timeout=3, ansible_inventory=str(inventory),
                        ssh_config=str(config), ssh_identity_file=str(key))
    inner = host.backend.virtnat_via.backend
    assert (inner.ssh_config, inner.ssh_identity_file) == (str(config), str(key))
