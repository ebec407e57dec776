"""Connections: host specs into testinfra hosts, the backends' options, and paramiko with
verified host keys, against an SSH server that paramiko itself runs on loopback."""
import os
import socket
import sys

import paramiko
import pytest

from selftests.unit.loopback_ssh import LoopbackSSH
from virtnat import connections
from virtnat.collectors.reach import unreachable
from virtnat.connections import SSH_OPTIONS, backend_options, connection_of, open_hosts, stop


@pytest.fixture
def paramiko_host():
    """Open a paramiko:// spec; its connection, if made, is closed after the test."""
    hosts = []

    def open_one(spec, **options):
        [host] = open_hosts(spec, None, timeout=5, **options)
        hosts.append(host)
        return host

    yield open_one
    for host in hosts:
        if "client" in vars(host.backend):
            host.backend.client.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- options and specs ---------------------------------------------------------------------

def test_ssh_never_prompts_and_notices_dead_connections():
    assert SSH_OPTIONS == "-o BatchMode=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3"
    options = backend_options("ssh", timeout=7, ssh_config="cfg", ssh_identity_file="key", ssh_extra_args="-4")
    assert options == {"sudo": False, "sudo_user": None, "ssh_config": "cfg", "ssh_identity_file": "key", "timeout": 7,
                       "ssh_extra_args": SSH_OPTIONS + " -4", "controlpersist": 0}


def test_safe_ssh_gets_the_ssh_options_without_extra_args():
    options = backend_options("safe-ssh", timeout=3, sudo=True, sudo_user="root")
    assert options == {"sudo": True, "sudo_user": "root", "ssh_config": None, "ssh_identity_file": None, "timeout": 3,
                       "ssh_extra_args": SSH_OPTIONS, "controlpersist": 0}


def test_paramiko_options():
    assert backend_options("paramiko", timeout=4, ssh_config="cfg", ssh_identity_file="key") == {
        "sudo": False, "sudo_user": None, "ssh_config": "cfg", "ssh_identity_file": "key", "timeout": 4}


def test_ansible_options_carry_the_inventory():
    assert backend_options("ansible", timeout=4, ansible_inventory="inv", force_ansible=True, ssh_config="cfg") == {
        "sudo": False, "sudo_user": None, "ansible_inventory": "inv", "force_ansible": True,
        "ssh_config": "cfg", "ssh_identity_file": None}


@pytest.mark.parametrize("connection", ["local", None])
def test_local_and_unknown_connections_get_sudo_only(connection):
    assert backend_options(connection, timeout=4, sudo=True, ssh_config="cfg") == {"sudo": True, "sudo_user": None}


@pytest.mark.parametrize("spec, default, expected", [
    ("ssh://root@hv1:2222", "paramiko", "ssh"),
    ("local://", None, "local"),
    ("hv1", "ssh", "ssh"),
    ("hv1", None, "paramiko"),  # testinfra's own default for a bare name
    ("SSH://[fe80::1]:22/?sudo=true", None, "ssh"),  # schemes are case-blind
    ("ansible://all", "ssh", "ansible"),
])
def test_connection_of_a_spec(spec, default, expected):
    assert connection_of(spec, default) == expected


def test_local_spec_opens_the_local_backend_with_sudo():
    [host] = open_hosts("local://", None, timeout=4, sudo=True, sudo_user="root")
    assert (host.backend.NAME, host.backend.sudo, host.backend.sudo_user) == ("local", True, "root")
    assert host.backend.get_hostname() == "local"


def test_bare_name_takes_the_default_connection_and_its_options():
    [host] = open_hosts("127.0.0.1", "ssh", timeout=4, ssh_extra_args="-4")
    assert host.backend.NAME == "ssh"
    assert host.backend.get_hostname() == "127.0.0.1"
    assert host.backend.ssh_extra_args == SSH_OPTIONS + " -4"
    assert (host.backend.timeout, host.backend.controlpersist) == (4, 0)


def test_bare_name_without_a_default_is_paramiko_with_verified_keys():
    [host] = open_hosts("127.0.0.1", None, timeout=4)
    assert host.backend.NAME == "paramiko"
    assert type(host.backend).__name__ == "VerifiedParamikoBackend"
    assert host.backend.timeout == 4
    assert host.backend.host.user is None


def test_paramiko_spec_keeps_user_port_and_password(paramiko_host):
    backend = paramiko_host("paramiko://alice:pw@127.0.0.1:2222").backend
    assert type(backend).__name__ == "VerifiedParamikoBackend"
    assert (backend.host.name, backend.host.port, backend.host.user, backend.host.password) == ("127.0.0.1", "2222", "alice", "pw")
    assert backend._host is not None  # set_host: testinfra's modules find their host


def test_a_specs_own_scheme_wins_over_the_default_connection():
    [host] = open_hosts("paramiko://127.0.0.1:2222", "ssh", timeout=4)
    assert host.backend.NAME == "paramiko"
    [bare] = open_hosts("127.0.0.1:2222", "ssh", timeout=4)
    assert bare.backend.NAME == "ssh"


def test_ssh_spec_is_testinfras_ssh_backend_made_stoppable():
    from testinfra.backend.ssh import SshBackend

    [host] = open_hosts("ssh://127.0.0.1", "paramiko", timeout=4)
    assert host.backend.NAME == "ssh" and type(host.backend).__name__ == "StoppableSshBackend"
    assert isinstance(host.backend, SshBackend)


def test_a_command_over_the_ssh_client_gives_its_output_and_exit_code_and_leaves_no_client(home, tmp_path):
    """OpenSSH's ssh, in BatchMode with a throwaway key and known_hosts, against the loopback server."""
    server = LoopbackSSH(answer=lambda command: (b"hv1 says hi\n", 3))
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line())
    config = tmp_path / "ssh_config"
    config.write_text(f"Host hv1\n  HostName 127.0.0.1\n  Port {server.port}\n  User alice\n  IdentitiesOnly yes\n"
                      f"  IdentityFile {server.client_key_file(tmp_path)}\n  UserKnownHostsFile {known}\n")
    try:
        [host] = open_hosts("ssh://hv1", None, timeout=4, ssh_config=str(config))
        result = host.run("echo %s", "it's")
    finally:
        server.close()
    assert (result.rc, result.stdout, result.stderr) == (3, "hv1 says hi\n", "")
    assert server.commands == ["echo 'it'\"'\"'s'"] and server.logins == [("publickey", "alice")]
    assert vars(host.backend)["_running"] == set()


# -- ansible -------------------------------------------------------------------------------

def test_ansible_with_a_missing_inventory_says_which(tmp_path):
    missing = tmp_path / "nope.ini"
    with pytest.raises(RuntimeError) as err:
        open_hosts("ansible://all", None, timeout=4, ansible_inventory=str(missing))
    assert str(err.value) == f"inventory {missing} not found (--ansible-inventory)"


def test_ansible_inventory_on_path_leaves_path_alone(monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))
    connections._check_ansible(None)
    assert os.environ["PATH"] == os.path.dirname(sys.executable)


def test_ansible_inventory_is_found_beside_this_python(monkeypatch):
    assert os.path.exists(os.path.join(os.path.dirname(sys.executable), "ansible-inventory"))
    monkeypatch.setenv("PATH", "/nonexistent")
    connections._check_ansible(None)
    assert os.environ["PATH"] == os.path.dirname(sys.executable) + os.pathsep + "/nonexistent"


def test_with_path_unset_ansible_is_looked_for_on_the_default_path_too(monkeypatch):
    """Not an empty PATH entry, which would be the working directory."""
    monkeypatch.delenv("PATH")
    connections._check_ansible(None)
    assert os.environ["PATH"] == os.path.dirname(sys.executable) + os.pathsep + os.defpath


def test_ansible_core_missing_is_one_line_with_the_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(RuntimeError) as err:
        connections._check_ansible("inventory.ini")
    assert str(err.value) == "ansible:// needs ansible-core (ansible-inventory): pip install ansible-core"


# -- paramiko: reaching hosts and verifying their keys ------------------------------------

def test_closed_port_is_one_line_saying_no_server_answers(home, paramiko_host):
    port = closed_port()
    host = paramiko_host(f"paramiko://alice:pw@127.0.0.1:{port}")
    with pytest.raises(Exception) as err:
        host.run("true")
    assert str(unreachable("hv1", err.value)) == (
        f"cannot reach hv1: Unable to connect to port {port} on 127.0.0.1; "
        "no SSH server answers there: is the host up and sshd running?")


def test_unknown_host_key_is_refused_before_login(sshd, home, paramiko_host):
    host = paramiko_host(f"paramiko://alice:pw@127.0.0.1:{sshd.port}")
    with pytest.raises(paramiko.SSHException) as err:
        host.run("true")
    assert str(err.value) == f"Server '[127.0.0.1]:{sshd.port}' not found in known_hosts"
    assert sshd.logins == [] and sshd.commands == []
    assert str(unreachable("hv1", err.value)).endswith(
        "; its host key is not in your known_hosts: ssh-keyscan it, or set StrictHostKeyChecking no in an --ssh-config")


def test_host_key_in_the_users_known_hosts_is_accepted(sshd, home, paramiko_host):
    (home / ".ssh/known_hosts").write_text(sshd.known_hosts_line())
    host = paramiko_host(f"paramiko://alice:pw@127.0.0.1:{sshd.port}")
    result = host.run("uname -n")
    assert (result.rc, result.stdout) == (0, "hello\n")
    assert sshd.commands == ["uname -n"] and sshd.logins == [("password", "alice")]


def test_connection_socket_has_nodelay(sshd, home, paramiko_host):
    (home / ".ssh/known_hosts").write_text(sshd.known_hosts_line())
    host = paramiko_host(f"paramiko://alice:pw@127.0.0.1:{sshd.port}")
    sock = host.backend.client.get_transport().sock
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_changed_host_key_is_refused(sshd, home, paramiko_host):
    (home / ".ssh/known_hosts").write_text(sshd.known_hosts_line(paramiko.ECDSAKey.generate()))
    host = paramiko_host(f"paramiko://alice:pw@127.0.0.1:{sshd.port}")
    with pytest.raises(paramiko.BadHostKeyException) as err:
        host.run("true")
    assert sshd.logins == [] and sshd.commands == []
    message = str(unreachable("hv1", err.value))
    assert message.startswith("cannot reach hv1: Host key for server '127.0.0.1' does not match: got '")
    assert message.endswith("'; its host key differs from the one in your known_hosts: if the host was reinstalled, "
                            "ssh-keygen -R it and ssh-keyscan it again")


def test_user_known_hosts_file_of_the_ssh_config_replaces_the_default(sshd, home, tmp_path, paramiko_host):
    (home / ".ssh/known_hosts").write_text(sshd.known_hosts_line())  # would be accepted, but is not read
    other = tmp_path / "other_known_hosts"
    other.write_text("")
    config = tmp_path / "ssh_config"
    config.write_text(f"Host 127.0.0.1\n  UserKnownHostsFile {other}\n")
    host = paramiko_host(f"paramiko://alice:pw@127.0.0.1:{sshd.port}", ssh_config=str(config))
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        host.run("true")


def test_several_user_known_hosts_files_are_all_read(sshd, home, tmp_path, paramiko_host):
    empty, holding = tmp_path / "empty", tmp_path / "holding"
    empty.write_text("")
    holding.write_text(sshd.known_hosts_line())
    (home / ".ssh/config").write_text(f"Host 127.0.0.1\n  UserKnownHostsFile {empty} {tmp_path}/absent {holding}\n")
    host = paramiko_host(f"paramiko://alice:pw@127.0.0.1:{sshd.port}")  # ~/.ssh/config is read by default
    assert host.run("true").stdout == "hello\n"


def test_strict_host_key_checking_no_skips_known_hosts(sshd, home, tmp_path, paramiko_host):
    """As a Vagrant ssh-config asks: even a known_hosts entry with another key is not read."""
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line(paramiko.ECDSAKey.generate()))
    config = tmp_path / "ssh_config"
    config.write_text(f"Host 127.0.0.1\n  StrictHostKeyChecking no\n  UserKnownHostsFile {known}\n")
    host = paramiko_host(f"paramiko://alice:pw@127.0.0.1:{sshd.port}", ssh_config=str(config))
    assert host.run("true").stdout == "hello\n"


def test_ssh_config_alias_with_identity_file(sshd, home, tmp_path, paramiko_host):
    """A Vagrant-style config: the host's name is an alias, the config names address, port,
    user and key; --ssh-identity-file is the key the client offers."""
    key = tmp_path / "id_ecdsa"
    sshd.client_key.write_private_key_file(str(key))
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    config = tmp_path / "ssh_config"
    config.write_text(f"Host web1\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User vagrant\n  UserKnownHostsFile {known}\n")
    host = paramiko_host("paramiko://web1", ssh_config=str(config), ssh_identity_file=str(key))
    assert host.run("true").stdout == "hello\n"
    assert sshd.logins == [("publickey", "vagrant")]


def test_proxy_command_connections_work_without_nodelay(sshd, home, tmp_path, paramiko_host):
    """A ProxyCommand's pipe is no TCP socket: no TCP_NODELAY to set, and no error for it."""
    relay = tmp_path / "relay.py"
    relay.write_text(
        "import os, socket, sys, threading\n"
        "s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n"
        "def up():\n"
        "    while data := os.read(0, 65536):\n"
        "        s.sendall(data)\n"
        "threading.Thread(target=up, daemon=True).start()\n"
        "while data := s.recv(65536):\n"
        "    os.write(1, data)\n")
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    config = tmp_path / "ssh_config"
    config.write_text(f"Host 127.0.0.1\n  ProxyCommand {sys.executable} {relay} 127.0.0.1 {sshd.port}\n  UserKnownHostsFile {known}\n")
    host = paramiko_host(f"paramiko://alice:pw@127.0.0.1:{sshd.port}", ssh_config=str(config))
    assert host.run("true").stdout == "hello\n"
    assert isinstance(host.backend.client.get_transport().sock, paramiko.ProxyCommand)


# -- host specs refused before any connection (check_spec) --------------------------------------

@pytest.mark.parametrize("spec, default", [
    ("ssh://hv1", None), ("ssh://root@hv1:2222", None), ("paramiko://alice:pw@hv1:22", None),
    ("safe-ssh://hv1", None), ("ssh://[fe80::1]:22", None), ("paramiko://[2001:db8::1]", None),
    ("ssh://hv1/?sudo=true", None), ("hv1:22", "ssh"), ("alice:pw@hv1", None), ("ssh://fe80::1", None),
    ("paramiko://alice:p@ss@hv1/x?y=1", None),
    # other connections are testinfra's to judge
    ("local://", None), ("ansible://all", None), ("docker://c1:x", None), ("alice:pw@hv1", "ansible"),
])
def test_host_specs_that_can_work_pass(spec, default):
    assert connections.check_spec(spec, default) is None


@pytest.mark.parametrize("spec, default, says", [
    ("ssh://", None, "no host name: write ssh://[user@]host[:port]"),
    ("paramiko://alice@:22", None, "no host name: write paramiko://[user@]host[:port]"),
    ("safe-ssh://alice@/x", None, "no host name: write safe-ssh://[user@]host[:port]"),
    ("@", "ssh", "no host name: write ssh://[user@]host[:port]"),
    ("ssh://hv1:ssh", None, "port 'ssh' is not a number"),
    ("ssh://[fe80::1]:x2", None, "port 'x2' is not a number"),
    ("ssh://[]:22", None, "no host name: write ssh://[user@]host[:port]"),
    ("paramiko://hv1:22x/", None, "port '22x' is not a number"),
    ("hv1:-1", None, "port '-1' is not a number"),
    ("ssh://hv1:2x/x:22", None, "port '2x' is not a number"),
    ("ssh://alice:pw@hv1?x=ssh://y", None, "a password cannot work over ssh:// (ssh runs in BatchMode and never asks for "
                                           "one): use a key (--ssh-identity-file) or paramiko://"),
    ("ssh://alice:pw@hv1", None, "a password cannot work over ssh:// (ssh runs in BatchMode and never asks for "
                                 "one): use a key (--ssh-identity-file) or paramiko://"),
    ("alice:pw@hv1", "safe-ssh", "a password cannot work over ssh:// (ssh runs in BatchMode and never asks for "
                                 "one): use a key (--ssh-identity-file) or paramiko://"),
    ("paramiko://alice:a/b@hv1", None, "a password holding '/' cannot be given in a host spec: use a key "
                                       "(--ssh-identity-file)"),
    ("alice:x/y@hv1?timeout=3", None, "a password holding '/' cannot be given in a host spec: use a key "
                                      "(--ssh-identity-file)"),
])
def test_host_specs_that_cannot_work_are_one_line(spec, default, says):
    with pytest.raises(ValueError) as error:
        connections.check_spec(spec, default)
    assert str(error.value) == says


# -- stopping ---------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["ssh", "safe-ssh"])
def test_ssh_hosts_can_be_stopped_and_stopping_nothing_running_is_harmless(scheme):
    [host] = open_hosts(f"{scheme}://127.0.0.1", None, timeout=3)
    assert type(host.backend).__name__ == "StoppableSshBackend"
    stop(host)
    assert "_running" not in vars(host.backend)


def test_stop_leaves_hosts_without_a_connection_alone():
    [local] = open_hosts("local://", None, timeout=3)
    stop(local)
    stop(object())
    assert local.run("echo ok").stdout == "ok\n"
