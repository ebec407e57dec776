"""Errors that end up as one line in a report, never as a traceback, and never with a password."""
import re


class FactError(Exception):
    """A fact could not be collected; the message names the cause and, where known, the fix."""


class NotServed(FactError):
    """Nothing serves libvirt at the URI (no daemon, no socket, no answer in time): HOST-01
    fails. Any other FactError of libvirt's facts is facts that could not be read: not checked."""


class ProfileError(Exception):
    """The profile is unusable; the message names the file, the key and the problem."""


def redact(text: str) -> str:
    """text with the password of every `scheme://user:password@host`, and of a bare
    `user:password@host` (a host spec without scheme), masked. The password may hold '@' and
    '/': everything up to the token's last '@' is taken as the password."""
    return _BARE.sub(r"\1:***@", _PASSWORD.sub(r"\1:***@", text))


_PASSWORD = re.compile(r"(://[^/@\s:]+):\S*@")
_BARE = re.compile(r"((?:^|(?<=[\s'\"]))[^\s/@:'\"]+):(?!//)\S*@")
