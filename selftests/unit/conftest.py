"""Fixtures the unit tests share: an SSH server of paramiko's on loopback, and a HOME of their own."""
from selftests.unit.loopback_ssh import home, silent_sshd, sshd  # noqa: F401  (fixtures)
