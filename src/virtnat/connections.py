"""Connections to audited hosts through testinfra, made safe for unattended audits.

testinfra's paramiko backend accepts any host key with a warning and never reads
known_hosts; here host keys are verified against the user's known_hosts unless the ssh
config says `StrictHostKeyChecking no` (a Vagrant ssh-config does). Its socket gets
TCP_NODELAY (paramiko otherwise waits on delayed ACKs). The ssh backend never prompts
(BatchMode) and notices a dead connection (ServerAlive). An ansible:// host gets the same:
testinfra runs its commands over a plain paramiko or ssh backend of its own, which is hardened
here too. A command past its deadline can be broken off (`stop`) on both."""
from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess

SSH_OPTIONS = "-o BatchMode=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3"


def _verified_paramiko_class(base):
    import paramiko
    from testinfra.backend.paramiko import IgnorePolicy

    class VerifiedParamikoBackend(base):
        @functools.cached_property
        def client(self) -> paramiko.SSHClient:
            client = paramiko.SSHClient()
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            cfg = {
                "hostname": self.host.name,
                "port": int(self.host.port) if self.host.port else 22,
                "username": self.host.user,
                "timeout": self.timeout,
                "banner_timeout": self.timeout,
                "auth_timeout": self.timeout,
                "password": self.host.password,
            }
            config_path = self.ssh_config or os.path.expanduser("~/.ssh/config")
            known_files = []
            if os.path.exists(config_path):
                ssh_config = paramiko.SSHConfig.from_path(config_path)
                self._load_ssh_config(client, cfg, ssh_config, os.path.dirname(config_path))
                known_files = ssh_config.lookup(self.host.name).get("userknownhostsfile", "").split()
            if self.ssh_identity_file:
                cfg["key_filename"] = self.ssh_identity_file
            if not isinstance(client._policy, IgnorePolicy):
                # as OpenSSH: UserKnownHostsFile, when given, replaces ~/.ssh/known_hosts
                for path in ["/etc/ssh/ssh_known_hosts", *(known_files or ["~/.ssh/known_hosts"])]:
                    path = os.path.expanduser(path)
                    if os.path.isfile(path) and path != "/dev/null":
                        client.load_host_keys(path)
            client.connect(**cfg)
            sock = client.get_transport().sock
            if hasattr(sock, "setsockopt"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return client

        def stop(self) -> None:
            """Close the connection: a command waiting on it gets EOF and returns."""
            client = vars(self).get("client")
            if client is not None:
                client.close()

    return VerifiedParamikoBackend


def _stoppable_ssh_class(base):
    class StoppableSshBackend(base):
        """testinfra's ssh backend, with each ssh client in a session of its own so that
        `stop` kills it together with the shell that started it."""

        def run_local(self, command: str, *args: str):
            cmd = self.encode(self.quote(command, *args))
            proc = subprocess.Popen(cmd, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
            running = vars(self).setdefault("_running", set())
            running.add(proc)
            try:
                stdout, stderr = proc.communicate()
            finally:
                running.discard(proc)
            return self.result(proc.returncode, cmd, stdout, stderr)

        def stop(self) -> None:
            for proc in list(vars(self).get("_running", ())):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:  # it ended meanwhile
                    pass

    return StoppableSshBackend


def _harden(backend) -> None:
    """paramiko verifies host keys; both paramiko and ssh can be stopped."""
    if backend.NAME == "paramiko":
        backend.__class__ = _verified_paramiko_class(backend.__class__)
    elif backend.NAME in ("ssh", "safe-ssh"):
        backend.__class__ = _stoppable_ssh_class(backend.__class__)


def _ansible_host(backend, timeout: int):
    """The testinfra host an ansible:// host's commands really run on (None when they go
    through the `ansible` command), with what ssh:// and paramiko:// get: testinfra makes it a
    plain backend that takes any host key over paramiko_ssh, and no BatchMode, ServerAlive or
    connect timeout over ssh."""
    if backend.force_ansible:
        return None
    # the same call, and so the same cached host, as the ansible backend's own run()
    host = backend.ansible_runner.get_host(backend.host, ssh_config=backend.ssh_config,
                                           ssh_identity_file=backend.ssh_identity_file)
    inner = host.backend if host is not None else None
    if inner is None or inner.NAME not in ("paramiko", "ssh") or hasattr(inner, "stop"):  # testinfra makes no safe-ssh
        return host
    inner.timeout = timeout
    if inner.NAME != "paramiko":
        inner.ssh_extra_args = " ".join(filter(None, [SSH_OPTIONS, inner.ssh_extra_args]))
        inner.controlpersist = 0  # a master left behind would outlive `stop`
    _harden(inner)
    return host


def stop(host) -> None:
    """Break off what a host's connection waits on (a command past its deadline), so that the
    thread running it ends: paramiko's connection is closed, the ssh client killed."""
    backend = getattr(host, "backend", None)
    via = getattr(backend, "virtnat_via", None)
    backend = via.backend if via is not None else backend
    if hasattr(backend, "stop"):
        backend.stop()


def address_of(host) -> str:
    """Where a host is reached: an ansible:// host's ansible_host (its name is the inventory's),
    else its name."""
    backend = host.backend
    if backend.NAME == "ansible":
        return str(backend.get_variables().get("ansible_host") or backend.host)
    return backend.get_hostname()


def backend_options(connection: str | None, *, timeout: int, ssh_config=None, ssh_identity_file=None,
                    ssh_extra_args=None, sudo=False, sudo_user=None, ansible_inventory=None, force_ansible=False) -> dict:
    """testinfra backend keyword arguments for one kind of connection."""
    common = {"sudo": sudo, "sudo_user": sudo_user}
    if connection in ("ssh", "safe-ssh"):
        extra = " ".join(filter(None, [SSH_OPTIONS, ssh_extra_args]))
        return {**common, "ssh_config": ssh_config, "ssh_identity_file": ssh_identity_file, "timeout": timeout,
                "ssh_extra_args": extra, "controlpersist": 0}
    if connection == "paramiko":
        return {**common, "ssh_config": ssh_config, "ssh_identity_file": ssh_identity_file, "timeout": timeout}
    if connection == "ansible":
        return {**common, "ansible_inventory": ansible_inventory, "force_ansible": force_ansible,
                "ssh_config": ssh_config, "ssh_identity_file": ssh_identity_file}
    return common


def connection_of(spec: str, default: str | None) -> str:
    if "://" in spec:
        return spec.partition("://")[0].lower()  # as urllib reads it, without judging the rest
    return default or "paramiko"


def check_spec(spec: str, default_connection: str | None) -> None:
    """Refuse, with one line, an ssh/paramiko host spec that cannot work: no host, a port that is
    not a number, a password in ssh:// (BatchMode never asks for one, and testinfra would put
    it on a command line), a password with '/' (testinfra's URL parsing splits it there)."""
    connection = connection_of(spec, default_connection)
    if connection not in ("ssh", "safe-ssh", "paramiko"):
        return
    _, scheme, rest = spec.partition("://")
    userinfo, _, hostport = (rest if scheme else spec).partition("?")[0].rpartition("@")
    hostport = hostport.partition("/")[0]
    host, port = hostport, None
    if hostport.startswith("["):  # [IPv6]:port
        host, _, tail = hostport[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else None
    elif ":" in hostport:
        host, port = hostport.rsplit(":", 1)
    if not host:
        raise ValueError(f"no host name: write {connection}://[user@]host[:port]")
    if port is not None and not port.isdigit():
        raise ValueError(f"port {port!r} is not a number")
    if ":" in userinfo and connection != "paramiko":
        raise ValueError("a password cannot work over ssh:// (ssh runs in BatchMode and never asks for one): "
                         "use a key (--ssh-identity-file) or paramiko://")
    if "/" in userinfo:
        raise ValueError("a password holding '/' cannot be given in a host spec: use a key (--ssh-identity-file)")


def _check_ansible(inventory: str | None) -> None:
    """testinfra reads inventories with ansible-inventory: say so plainly when it cannot."""
    import shutil
    import sys

    if not shutil.which("ansible-inventory"):  # installed beside this Python but not on PATH
        # (with PATH unset, what unset means, not an empty entry: that would be the working directory)
        os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", os.defpath)
    if not shutil.which("ansible-inventory"):
        raise RuntimeError("ansible:// needs ansible-core (ansible-inventory): pip install ansible-core")
    if inventory and not os.path.exists(inventory):
        raise RuntimeError(f"inventory {inventory} not found (--ansible-inventory)")


def open_hosts(spec: str, default_connection: str | None, **options):
    """testinfra Hosts for one --hosts entry (an ansible group gives several)."""
    import testinfra.backend
    import testinfra.host

    connection = connection_of(spec, default_connection)
    if connection == "ansible":
        _check_ansible(options.get("ansible_inventory"))
    kwargs = backend_options(connection, **options)
    if default_connection:  # for a bare name: a spec's own scheme wins in testinfra
        kwargs["connection"] = default_connection
    hosts = []
    for backend in testinfra.backend.get_backends([spec], **kwargs):
        if backend.NAME == "ansible":
            backend.virtnat_via = _ansible_host(backend, options["timeout"])
        _harden(backend)
        host = testinfra.host.Host(backend)
        backend.set_host(host)
        hosts.append(host)
    return hosts
