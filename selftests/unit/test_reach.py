"""Why a host could not be reached: the one line of what failed, and the hint that fixes it."""
import pytest
from testinfra.backend.base import CommandResult

from virtnat.collectors.reach import error_line, unreachable

WARNING = "Warning: Permanently added 'hv1' (ED25519) to the list of known hosts."


def ssh_failure(stderr: str) -> RuntimeError:
    """What testinfra's ssh backend raises when ssh itself fails (exit 255)."""
    return RuntimeError(CommandResult(backend=None, exit_status=255, command=b"ssh hv1", _stdout="", _stderr=stderr))


@pytest.mark.parametrize("exc, line", [
    (ssh_failure(f"{WARNING}\r\nroot@hv1: Permission denied (publickey).\r\n"), "root@hv1: Permission denied (publickey)."),
    (ssh_failure(f"ssh: connect to host hv1 port 22: Connection refused\n\n{WARNING}\n"),
     "ssh: connect to host hv1 port 22: Connection refused"),
    (ssh_failure(WARNING), "the connection ended with no message (exit code 255)"),  # nothing but the warning
    (ssh_failure(""), "the connection ended with no message (exit code 255)"),      # not the result's repr
    (OSError(None, "Unable to connect to port 22 on 10.0.0.1"), "Unable to connect to port 22 on 10.0.0.1"),
    (TimeoutError("timed out"), "timed out"),
    (RuntimeError(), "RuntimeError"),
    (ValueError("first\n  last line  \n"), "last line"),
    (ConnectionError(42), "42"),
    (RuntimeError(type("Result", (), {"stderr": ""})()), "the connection ended with no message"),  # no exit status known
])
def test_the_line_that_says_what_went_wrong(exc, line):
    assert error_line(exc) == line


@pytest.mark.parametrize("exc, hint", [
    (TimeoutError("timed out"), "the host is down or filtered (connect timeout: --connect-timeout)"),
    (ssh_failure("ssh: connect to host hv1 port 22: No route to host"), "no SSH server answers there: is the host up and sshd running?"),
    (ssh_failure("Host key verification failed."), "its host key is not in your known_hosts: ssh-keyscan it, or set "
                                                   "StrictHostKeyChecking no in an --ssh-config"),
    (ssh_failure("ssh: Could not resolve hostname hv9: Name or service not known"), "the name does not resolve"),
    (ssh_failure("@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @"),
     "its host key differs from the one in your known_hosts: if the host was reinstalled, ssh-keygen -R it and ssh-keyscan it again"),
])
def test_unreachable_names_the_host_the_cause_and_the_fix(exc, hint):
    assert str(unreachable("hv1", exc)) == f"cannot reach hv1: {error_line(exc)}; {hint}"


def test_an_unknown_cause_has_no_hint_and_no_password():
    assert str(unreachable("hv1", RuntimeError("paramiko://alice:pw@hv1: kaboom"))) == "cannot reach hv1: paramiko://alice:***@hv1: kaboom"
