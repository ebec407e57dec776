"""Fixtures the unit tests share: an SSH server of paramiko's on loopback, and a HOME of their
own; special files (FIFOs, devices, sockets) and a guard against reads that block."""
from selftests.unit.loopback_ssh import home, silent_sshd, sshd  # noqa: F401  (fixtures)
from selftests.unit.special_files import no_hang, specials  # noqa: F401  (fixtures)
