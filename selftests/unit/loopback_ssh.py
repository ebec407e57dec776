"""An SSH server on 127.0.0.1 (paramiko's server side, no sshd), for the connection and deadline
tests: it records the logins and commands it gets and answers each command as told, or never."""
import re
import socket
import threading

import paramiko
import pytest

from virtnat.facts.probe import frame, split_sections


def hello(command):
    return b"hello\n", 0


def never(command):
    """A host that accepts the login and the command, then never answers."""
    return None


def probe_answer(recorded: str):
    """Answer the probe as a host in the recorded state would: its sections framed with the
    marker this run's command carries."""
    sections = split_sections(recorded)

    def answer(command):
        mark = re.search(r"VIRTNAT_MARK=([0-9a-f]+)", command).group(1)
        return frame(sections, mark).encode(), 0

    return answer


class _Answers(paramiko.ServerInterface):
    """One connection's server side: password alice/pw or the client key, then the answer."""

    def __init__(self, server):
        self.server = server

    def get_allowed_auths(self, username):
        return "publickey,password"

    def check_auth_password(self, username, password):
        self.server.logins.append(("password", username))
        return paramiko.AUTH_SUCCESSFUL if (username, password) == ("alice", "pw") else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        self.server.logins.append(("publickey", username))
        return paramiko.AUTH_SUCCESSFUL if key == self.server.client_key else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel, command):
        self.server.commands.append(command.decode())
        reply = self.server.answer(command.decode())
        if reply is not None:
            channel.sendall(reply[0])
            channel.send_exit_status(reply[1])
            channel.shutdown_write()  # EOF, not close: the exec request's reply is still to be sent
            threading.Timer(0.2, channel.close).start()  # then close: OpenSSH's client waits for it
        return True


class LoopbackSSH:
    """The server; `answer(command)` gives (stdout, exit code), or None for no answer ever."""

    def __init__(self, answer=hello):
        self.answer = answer
        self.host_key = paramiko.ECDSAKey.generate()
        self.client_key = paramiko.ECDSAKey.generate()
        self.logins, self.commands, self._transports = [], [], []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            self._transports.append(transport)
            try:
                transport.start_server(server=_Answers(self))
            except (paramiko.SSHException, EOFError, OSError):
                pass  # the client refused the host key, or the test is over

    def known_hosts_line(self, key=None) -> str:
        key = key or self.host_key
        return f"[127.0.0.1]:{self.port} {key.get_name()} {key.get_base64()}\n"

    def client_key_file(self, directory) -> str:
        """The client key as a file both paramiko and OpenSSH's ssh read (mode 0600)."""
        path = directory / f"id_ecdsa_{self.port}"
        self.client_key.write_private_key_file(str(path))
        return str(path)

    def close(self):
        self._sock.close()
        for transport in self._transports:
            transport.close()


@pytest.fixture
def sshd():
    server = LoopbackSSH()
    yield server
    server.close()


@pytest.fixture
def silent_sshd():
    """A loopback SSH server that takes the login and every command and never answers."""
    server = LoopbackSSH(answer=never)
    yield server
    server.close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty home: ~/.ssh/config and ~/.ssh/known_hosts are the test's own."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".ssh").mkdir()
    return tmp_path
