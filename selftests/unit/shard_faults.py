"""A pytest plugin for test_shards.py's audits (`-p selftests.unit.shard_faults`): in the processes
a split audit forks, what VIRTNAT_SHARD_FAULT asks for goes wrong.

- kill: the process is killed at its first check
- raise: handing back a report fails (an exception in the process's loop)
- unpicklable: what it hands back cannot be written
- interrupt: the run's own process is interrupted (Ctrl-C) at its third check, while the other
  writes its pid to VIRTNAT_SHARD_PIDS and keeps running
"""
import os
import signal
import time

FIRST = os.getpid()  # imported before any fork: the run's own process
FAULT = os.environ.get("VIRTNAT_SHARD_FAULT", "")
_seen = []


def pytest_runtest_setup(item):
    forked = os.getpid() != FIRST
    _seen.append(item)
    if forked and FAULT == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if FAULT == "interrupt":
        if forked and len(_seen) == 1:
            with open(os.environ["VIRTNAT_SHARD_PIDS"], "a") as pids:
                pids.write(f"{os.getpid()}\n")
            time.sleep(60)  # still checking when the run is interrupted
        if not forked and len(_seen) == 3:
            for _ in range(200):  # until the other process is at its first check
                if os.path.getsize(os.environ["VIRTNAT_SHARD_PIDS"]):
                    break
                time.sleep(0.05)
            raise KeyboardInterrupt


def pytest_report_to_serializable(config, report):
    if FAULT == "raise":
        raise RuntimeError("the hand-back broke")
    if FAULT == "unpicklable":
        return {"$report_type": "TestReport", "cannot": lambda: None}
    return None
