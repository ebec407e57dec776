"""Why a host could not be reached, in one line with the fix."""
from __future__ import annotations

import re

from ..errors import FactError, redact

HINTS = (
    (r"timed out|timeout", "the host is down or filtered (connect timeout: --connect-timeout)"),
    (r"refused|unable to connect to port|no route to host|network is unreachable", "no SSH server answers there: is the host up and sshd running?"),
    # paramiko's BadHostKeyException: "Host key for server 'hv1' does not match: got ..., expected ..."
    (r"host key for server .* does not match|remote host identification has changed",
     "its host key differs from the one in your known_hosts: if the host was reinstalled, ssh-keygen -R it and ssh-keyscan it again"),
    (r"known_hosts|host key verification failed|not found in known_hosts",
     "its host key is not in your known_hosts: ssh-keyscan it, or set StrictHostKeyChecking no in an --ssh-config"),
    (r"authentication failed|permission denied|publickey", "the server refused the login: check the user and --ssh-identity-file"),
    (r"could not resolve|name or service not known|nodename nor servname|temporary failure in name resolution", "the name does not resolve"),
)


def error_line(exc: Exception) -> str:
    """The one line that says what went wrong (a failed command's stderr, not its repr)."""
    # testinfra's ssh backend raises RuntimeError(CommandResult) when ssh itself fails (exit 255)
    arg = exc.args[0] if exc.args else None
    stderr = getattr(arg, "stderr", None)
    result = isinstance(stderr, str)  # a failed command's result: its stderr, never its repr
    text = stderr if result else str(exc) or type(exc).__name__
    lines = [l.strip() for l in text.strip().splitlines() if l.strip() and not l.startswith("Warning: Permanently added")]
    if not lines and result:
        status = getattr(arg, "exit_status", None)
        return "the connection ended with no message" + (f" (exit code {status})" if status is not None else "")
    if not lines:
        return type(exc).__name__
    # paramiko's NoValidConnectionsError is an OSError without an errno: "[Errno None] Unable to ..."
    return lines[-1].removeprefix("[Errno None] ")


def unreachable(name: str, exc: Exception) -> FactError:
    detail = redact(error_line(exc))
    for pattern, hint in HINTS:
        if re.search(pattern, detail, re.I):
            return FactError(f"cannot reach {name}: {detail}; {hint}")
    return FactError(f"cannot reach {name}: {detail}")
