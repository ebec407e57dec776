"""Deadlines (issue 8): a host that accepts the login and never answers the probe, over paramiko
and over the ssh client, and a libvirt socket that never replies, each cost one line within
their deadline; the probe is bounded by the host's own `timeout` too."""
import os
import shutil
import socket
import threading
import time

import pytest
import testinfra

from virtnat.collectors import Stats
from virtnat.collectors.command import ProbeRun, bounded
from virtnat.collectors.deadline import Deadline, DeadlineMissed, within
from virtnat.collectors.libvirt_api import LibvirtApiSource
from virtnat.connections import open_hosts, stop
from virtnat.errors import FactError
from virtnat.state import CHECKS_DIR

DEADLINE = Deadline(command=0.3, connect=0)  # the client gives up after 0.3 s (loopback connects at once)
MARGIN = 3  # seconds beyond the deadline a loaded machine may need


def timed_probe_error(host, name="hv3", deadline=DEADLINE) -> tuple[str, float]:
    start = time.monotonic()
    with pytest.raises(FactError) as err:
        ProbeRun(host, name, Stats(), remote=True, links=True, virsh_uri="qemu:///system", deadline=deadline).sections()
    return str(err.value), time.monotonic() - start


def deadline_threads_end(wait=3.0) -> bool:
    """True once no step abandoned at its deadline is still running (it was broken off)."""
    end = time.monotonic() + wait
    while any(t.name == "virtnat-deadline" for t in threading.enumerate()):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


# -- the watchdog ------------------------------------------------------------------------------

def test_within_gives_the_steps_result_or_its_exception():
    assert within(5, lambda: 42) == 42
    with pytest.raises(KeyError, match="boom"):
        within(5, lambda: {}["boom"])


def test_within_stops_a_step_past_its_deadline():
    release = threading.Event()
    start = time.monotonic()
    with pytest.raises(DeadlineMissed, match=r"^did not finish within 0.3 s$"):
        within(0.3, release.wait, stop=release.set)
    assert 0.3 <= time.monotonic() - start < 0.3 + MARGIN
    assert deadline_threads_end()


def test_a_step_that_cannot_be_broken_off_never_holds_up_the_exit():
    """Its thread is a daemon: the interpreter exits without waiting for it."""
    release = threading.Event()
    start = time.monotonic()
    with pytest.raises(DeadlineMissed, match=r"^did not finish within 0.3 s$"):
        within(0.3, release.wait)  # nothing can stop it
    stuck = [t for t in threading.enumerate() if t.name == "virtnat-deadline"]
    release.set()
    assert stuck and all(t.daemon for t in stuck)
    assert 0.3 <= time.monotonic() - start < 0.3 + MARGIN
    assert deadline_threads_end()


def test_the_client_waits_the_command_timeout_and_the_connect_timeout():
    assert Deadline().total == 70 and Deadline(command=1, connect=1).total == 2


# -- the host's own timeout --------------------------------------------------------------------

def test_a_probe_stuck_on_the_host_is_ended_by_its_timeout():
    """The host's `timeout` ends the probe at 1 s, long before the client's 31 s deadline."""
    run = ProbeRun(testinfra.get_host("local://"), "me", Stats(), remote=False, deadline=Deadline(command=1, connect=30))
    run.command = bounded(f"echo '@@virtnat-probe 2 {run.mark}'; exec $bound sleep 30", 1)
    start = time.monotonic()
    with pytest.raises(FactError) as err:
        run.sections()
    assert str(err.value) == "me: probe did not finish within 1 s"
    assert 1 <= time.monotonic() - start < 1 + MARGIN


def _path_with(tmp_path, **scripts) -> str:
    """A PATH holding sh and sleep, and the given scripts."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "sleep"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    for name, text in scripts.items():
        (bin_dir / name).write_text(f"#!{shutil.which('sh')}\n{text}\n")
        (bin_dir / name).chmod(0o755)
    return str(bin_dir)


@pytest.mark.parametrize("scripts", [{}, {"timeout": "echo 'timeout: invalid option -- k' >&2; exit 1"}],
                         ids=["no timeout", "a timeout without -k"])
def test_a_host_without_a_working_timeout_runs_the_probe_plainly(tmp_path, monkeypatch, scripts):
    monkeypatch.setenv("PATH", _path_with(tmp_path, **scripts))
    out = testinfra.get_host("local://").run(bounded("echo ran:$bound.", 5))
    assert (out.rc, out.stdout) == (0, "ran:.\n")


def test_a_host_with_timeout_runs_the_probe_under_it():
    out = testinfra.get_host("local://").run(bounded("echo ran:$bound.", 5))
    assert (out.rc, out.stdout) == (0, "ran:timeout -k 5 5.\n")


# -- the client's deadline: a server that takes the command and never answers ------------------

def test_paramiko_host_that_never_answers_is_one_line_within_the_deadline(silent_sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh/known_hosts").write_text(silent_sshd.known_hosts_line())
    [host] = open_hosts(f"paramiko://alice:pw@127.0.0.1:{silent_sshd.port}", None, timeout=1)
    message, seconds = timed_probe_error(host)
    assert message == "hv3: probe did not finish within 0.3 s"
    assert DEADLINE.total <= seconds < DEADLINE.total + MARGIN
    [command] = silent_sshd.commands  # logged in, took the probe, never answered
    assert command.startswith("bound=; timeout -k 5 1 true 2>/dev/null && bound='timeout -k 5 1'; VIRTNAT_MARK=")
    assert host.backend.client.get_transport() is None  # the connection was closed
    assert deadline_threads_end()


def test_ssh_host_that_never_answers_is_one_line_within_the_deadline(silent_sshd, tmp_path):
    """OpenSSH's client, with a throwaway key and known_hosts: the ssh process is killed."""
    known = tmp_path / "known_hosts"
    known.write_text(silent_sshd.known_hosts_line())
    config = tmp_path / "ssh_config"
    config.write_text(f"Host hv3\n  HostName 127.0.0.1\n  Port {silent_sshd.port}\n  User alice\n  IdentitiesOnly yes\n"
                      f"  IdentityFile {silent_sshd.client_key_file(tmp_path)}\n  UserKnownHostsFile {known}\n")
    [host] = open_hosts("ssh://hv3", None, timeout=1, ssh_config=str(config))
    message, seconds = timed_probe_error(host)
    assert message == "hv3: probe did not finish within 0.3 s"
    assert DEADLINE.total <= seconds < DEADLINE.total + MARGIN
    assert silent_sshd.logins == [("publickey", "alice")] and len(silent_sshd.commands) == 1
    assert deadline_threads_end()
    assert vars(host.backend)["_running"] == set()  # no ssh client left behind


def test_stopping_a_host_that_never_connected_connects_nothing():
    [host] = open_hosts("paramiko://127.0.0.1:1", None, timeout=1)
    stop(host)
    assert "client" not in vars(host.backend)


# -- libvirt: a socket that accepts and never replies ----------------------------------------

@pytest.fixture
def silent_libvirt(tmp_path):
    """A UNIX socket that accepts every connection and never says a word; closed afterwards."""
    path = tmp_path / "libvirt.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()
    held = []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:  # closed
                return

    threading.Thread(target=accept, daemon=True).start()
    yield path, held
    server.close()
    for conn in held:
        conn.close()  # libvirt's abandoned call gets EOF and its thread ends


def test_libvirt_socket_that_never_replies_is_one_line_within_the_deadline(silent_libvirt):
    path, held = silent_libvirt
    uri = f"qemu+unix:///system?socket={path}"
    start = time.monotonic()
    with pytest.raises(FactError) as err:
        LibvirtApiSource(uri, Stats(), DEADLINE).collect()
    seconds = time.monotonic() - start
    assert str(err.value) == f"libvirt at {uri} did not answer within 0.3 s"
    assert DEADLINE.total <= seconds < DEADLINE.total + MARGIN
    assert len(held) == 1  # libvirt did connect: the silence, not a refusal, is what timed out


# -- the option ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, says", [("0", "'0' must be at least 1"), ("soon", "'soon' is not a whole number")])
def test_command_timeout_is_whole_seconds_or_a_usage_error(pytester, tmp_path, value, says):
    result = pytester.runpytest_inprocess(str(CHECKS_DIR), "-p", "no:cacheprovider", f"--report-dir={tmp_path}",
                                          "--hosts=local://", f"--command-timeout={value}")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*argument --command-timeout: {says}"])
