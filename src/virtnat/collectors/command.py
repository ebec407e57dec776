"""Facts through a testinfra host: the probe script (facts/probe.sh), run once per host.

The probe reads the system facts and the links (`ip -j`); for a remote host the same run also
returns `virsh -r` output, so a whole audit costs that host a single remote command (the local
host's libvirt is read with libvirt-python). The run has a deadline twice over: the host's
`timeout` ends the probe, and the client stops waiting (and breaks the connection off) after
the command and connect timeouts, whatever the host does."""
from __future__ import annotations

import math
import secrets
import shlex
import threading

from ..connections import stop
from ..errors import FactError
from ..facts import probe
from ..facts.links import parse_ip_json
from ..facts.model import LibvirtFacts, LinkFacts, SystemFacts
from ..facts.virsh import libvirt_from_sections
from . import LinkSource, Stats
from .deadline import Deadline, DeadlineMissed, within
from .libvirt_api import connection_error
from .reach import unreachable


# coreutils' timeout exits 124 when it stopped the command, 137 when it had to kill it (-k)
TIMED_OUT = (124, 137)


def bounded(command: str, seconds: float) -> str:
    """command, where `$bound` becomes `timeout` with `seconds` on a host that has a working
    coreutils-style timeout (tried first: busybox's may lack -k), and nothing elsewhere."""
    bound = f"timeout -k 5 {math.ceil(seconds)}"  # never 0: that is no timeout at all
    return f"bound=; {bound} true 2>/dev/null && bound='{bound}'; {command}"


class ProbeRun:
    """The probe, run on first use; its sections (or the failure) are kept for every fact kind."""

    def __init__(self, host, name: str, stats: Stats, *, remote: bool, links: bool = False, virsh_uri: str | None = None,
                 deadline: Deadline = Deadline()):
        self.host, self.name, self.stats, self.remote, self.deadline = host, name, stats, remote, deadline
        self.mark = secrets.token_hex(12)  # frames this run's sections: the host's data cannot
        env = [f"VIRTNAT_MARK={self.mark}"]
        if links:
            env.append("VIRTNAT_IP=1")
        if virsh_uri:
            env.append(f"VIRTNAT_VIRSH={shlex.quote(virsh_uri)}")
        self.command = bounded(" ".join(env + ["$bound", "sh", "-c", shlex.quote(probe.script())]), deadline.command)
        self._result: dict | FactError | None = None
        self.output: str | None = None  # the probe's whole output, once it ran to its end
        self._lock = threading.Lock()  # fact kinds collected in parallel share this one run

    def sections(self) -> dict[str, tuple[int, str]]:
        with self._lock:
            return self._sections()

    def _sections(self) -> dict[str, tuple[int, str]]:
        if self._result is None:
            if self.remote:
                self.stats.remote_commands += 1
            else:
                self.stats.subprocesses += 1
            try:
                out = within(self.deadline.total, lambda: self.host.run(self.command), lambda: stop(self.host))
                # bytes as they came: a process argument in Latin-1 is the host's data, not an error
                stdout = (out.stdout_bytes or b"").decode(errors="replace")
                if out.rc in TIMED_OUT and f"@@{self.mark} done" not in stdout:  # the host's own timeout ended it
                    raise DeadlineMissed
                if "@@virtnat-probe " not in stdout:  # the shell, sudo or ssh said why instead
                    stderr = (out.stderr_bytes or b"").decode(errors="replace").strip()
                    raise FactError(f"the probe printed nothing on {self.name}: {stderr[:200] or 'exit ' + str(out.rc)}")
                self._result = probe.split_sections(stdout, self.mark)
                self.output = stdout
            except FactError as exc:
                self._result = exc
            except DeadlineMissed:
                self._result = FactError(f"{self.name}: probe did not finish within {self.deadline.command} s")
            except Exception as exc:
                self._result = unreachable(self.name, exc)
        if isinstance(self._result, FactError):
            raise self._result
        return self._result


class ProbeSystemSource:
    def __init__(self, run: ProbeRun):
        self.run = run

    def collect(self) -> SystemFacts:
        return probe.system_from_sections(self.run.sections())


class ProbeLinkSource:
    """Link facts from the probe's `ip -j -d link show` and `ip -j addr show` sections; where they
    cannot be had (no iproute2 4.14 or newer, a probe that failed), from the fallback's when there
    is one (this host's: pyroute2's netlink dump)."""

    def __init__(self, run: ProbeRun, fallback: LinkSource | None = None):
        self.run, self.fallback = run, fallback

    def collect(self) -> dict[str, LinkFacts]:
        try:
            return self._from_probe()
        except FactError:
            if self.fallback is None:
                raise
            return self.fallback.collect()

    def _from_probe(self) -> dict[str, LinkFacts]:
        sections = self.run.sections()
        for name in ("ip-link", "ip-addr"):
            rc, text = sections.get(name, (127, "missing"))
            if rc != 0:
                raise FactError(f"`ip -j` failed on {self.run.name}: {text.strip()[:200]} (iproute2 4.14 or newer is needed)")
        return parse_ip_json(sections["ip-link"][1], sections["ip-addr"][1])


class ProbeLibvirtSource:
    """libvirt facts from the probe's `virsh -r` sections."""

    def __init__(self, run: ProbeRun, uri: str):
        self.run, self.uri = run, uri

    def collect(self) -> LibvirtFacts:
        return libvirt_from_sections(self.run.sections(), self.uri, connection_error)
