"""A function run in a forked copy of this process, its return value handed back through a pipe.

The copy shares everything the process has made so far (a fleet's facts, its collected checks)
without pickling any of it; only the return value crosses. Fork only a process with no other
thread: a lock another thread holds stays held in the copy. The copy ends with os._exit, running
nothing of what the process would run at its end."""
from __future__ import annotations

import os
import pickle
import signal
import sys
from typing import Callable


class Forked:
    """fn() running in a forked process; result() waits for what it returned."""

    def __init__(self, fn: Callable[[], object]):
        self.pid: int | None = None
        self._pipe: int | None = None
        sys.stdout.flush()
        sys.stderr.flush()  # what is buffered now is not written twice
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:
            os.close(read)
            _run(fn, write)
        os.close(write)
        self.pid, self._pipe = pid, read

    def result(self) -> tuple[object, str]:
        """(what fn returned, "") or (None, what happened to it: "failed: ...", "was killed by
        signal 9", "exited 0 without its results", "could not be started")."""
        if self.pid is None:
            return None, "could not be started"
        try:
            with os.fdopen(self._pipe, "rb") as pipe:
                outcome = pickle.load(pipe)
        except Exception:  # noqa: BLE001 (it died while writing, or wrote nothing)
            outcome = None
        _, status = os.waitpid(self.pid, 0)
        self.pid = self._pipe = None
        if outcome is not None and outcome[0] == "returned":
            return outcome[1], ""
        if os.WIFSIGNALED(status):
            return None, f"was killed by signal {os.WTERMSIG(status)}"
        return None, f"failed: {outcome[1]}" if outcome else f"exited {os.waitstatus_to_exitcode(status)} without its results"

    def kill(self) -> None:
        """Stop it now, if it still runs, and reap it."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self._pipe)
            self.pid = self._pipe = None


def _run(fn: Callable[[], object], fd: int) -> None:
    """In the forked process: fn's value or its exception's line, written to fd; never returns."""
    try:
        outcome = ("returned", fn())
    except BaseException as exc:  # noqa: B036 (an interrupt too: the process that forked decides)
        outcome = ("failed", f"{type(exc).__name__}: {exc}")
    try:
        with os.fdopen(fd, "wb") as pipe:
            pickle.dump(outcome, pipe, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        os._exit(0)
