"""Fixtures for inputs that are not regular files: each kind there is (a FIFO, devices, a
socket, a directory, links to them and to nothing), and a guard that fails a test whose read
blocks instead of hanging the suite."""
import os
import signal
import socket

import pytest


@pytest.fixture
def no_hang():
    """A read that blocks fails the test after 10 s (SIGALRM interrupts the blocked call)."""
    def hung(*_):
        raise TimeoutError("blocked: a read of a special file did not return")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def specials(tmp_path):
    """path -> what it is, for every kind of file that is not a regular one (in tmp_path/special)."""
    where = tmp_path / "special"
    where.mkdir()
    os.mkfifo(where / "fifo")
    (where / "dir").mkdir()
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(where / "sock"))
    (where / "link-to-fifo").symlink_to(where / "fifo")
    yield {where / "fifo": "a FIFO", "/dev/zero": "a character device", "/dev/null": "a character device",
           where / "dir": "a directory", where / "sock": "a socket", where / "link-to-fifo": "a FIFO"}
    server.close()
