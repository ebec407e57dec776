"""Deadlines for every step that waits on another machine: a host that accepts the login and
never answers, or a libvirt socket that never replies, costs its own deadline, not the run."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Deadline:
    """How long a host's step may take: `command` seconds of its own (--command-timeout; the
    probe is bounded by that on the host too), plus `connect` to reach the host first
    (--connect-timeout). The client waits for both together."""

    command: float = 60
    connect: float = 10

    @property
    def total(self) -> float:
        return self.command + self.connect


DEFAULT = Deadline()  # the defaults of --command-timeout and --connect-timeout, written here only


class DeadlineMissed(Exception):
    """The step did not return in time; its thread is left to end when `stop` lets it."""


def within(seconds: float, step: Callable[[], T], stop: Callable[[], None] | None = None) -> T:
    """step()'s result (or its exception), if it returns within `seconds`. Otherwise stop() is
    called to break off what the step waits on, and DeadlineMissed is raised. The step runs in
    a daemon thread: one that cannot be broken off (a C call) never holds up the run's exit."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = step()
        except BaseException as exc:  # handed to the caller, whatever it is
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="virtnat-deadline", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if stop is not None:
            stop()
        raise DeadlineMissed(f"did not finish within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
