"""Errors that end up as one line in a report, never as a traceback."""


class FactError(Exception):
    """A fact could not be collected; the message names the cause and, where known, the fix."""


class ProfileError(Exception):
    """The profile is unusable; the message names the file, the key and the problem."""
