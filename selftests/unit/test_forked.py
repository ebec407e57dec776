"""A function run in a forked copy of the process: its value comes back, and whatever else
happens to it is one line."""
import os
import signal
import time

import pytest

from virtnat.forked import Forked


def test_what_the_function_returns_comes_back():
    data = {"hosts": [f"hv{n}" for n in range(3)]}  # made before the fork: the copy has it as it was
    forked = Forked(lambda: {**data, "pid": os.getpid()})
    found, what = forked.result()
    assert what == "" and found["hosts"] == data["hosts"] and found["pid"] not in (None, os.getpid())
    assert forked.pid is None and not os.path.exists(f"/proc/{found['pid']}")  # waited for and reaped


def _raise():
    raise ValueError("no such host")


def _unpicklable():
    return lambda: None


def _killed():
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("fn, what", [
    (_raise, "failed: ValueError: no such host"),
    (_unpicklable, "exited 0 without its results"),
    (_killed, "was killed by signal 9"),
])
def test_whatever_else_happens_to_it_is_one_line(fn, what):
    assert Forked(fn).result() == (None, what)


def test_a_process_that_cannot_be_forked_says_so(monkeypatch):
    def refused():
        raise BlockingIOError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(os, "fork", refused)
    forked = Forked(lambda: 1)
    assert (forked.pid, forked.result()) == (None, (None, "could not be started"))
    forked.kill()  # nothing to stop


def test_one_still_running_is_killed_and_reaped():
    forked = Forked(lambda: time.sleep(60))
    pid = forked.pid
    forked.kill()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert forked.pid is None
    forked.kill()  # once is enough
