"""Audit targets: the hosts of --hosts (testinfra's syntax), each with its name and collectors."""
from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from pathlib import Path

from .collectors import KINDS, HostFacts, Stats
from .collectors.bundle import bundle_host
from .collectors.bundle_pool import POOL_FROM, FutureSource, bundle_sources, start_pool
from .collectors.command import ProbeLibvirtSource, ProbeLinkSource, ProbeRun, ProbeSystemSource
from .collectors.deadline import DEFAULT, Deadline
from .collectors.libvirt_api import LibvirtApiSource, local_fallback, remote_fallback
from .collectors.netlink import NetlinkSource
from .collectors.reach import error_line
from .connections import address_of, check_spec, open_hosts
from .errors import redact


class Target:
    """One host to audit. Its facts are collected on first use, once."""

    def __init__(self, host, libvirt_uri: str, api_uri: str | None = None, deadline: Deadline = Deadline()):
        self.host = host
        backend = host.backend
        self.is_local = backend.NAME == "local"
        self.name = socket.gethostname() if self.is_local else backend.get_hostname()
        self.libvirt_uri = libvirt_uri
        # {host}: where the probe goes too (an ansible host's ansible_host, not its inventory name)
        address = self.name if self.is_local else address_of(host)
        self.api_uri = api_uri.replace("{host}", address) if api_uri else None
        self.deadline = deadline
        self.stats = Stats()
        self._facts: HostFacts | None = None

    def __repr__(self) -> str:
        return self.name

    @property
    def facts_started(self) -> bool:
        return self._facts is not None

    @property
    def facts(self) -> HostFacts:
        if self._facts is None:
            self._facts = self._make_facts()
        return self._facts

    def preload(self, collected: dict) -> None:
        self._facts = HostFacts.preloaded(collected, self.stats)

    def _make_facts(self) -> HostFacts:
        stats = self.stats
        deadline = self.deadline
        # libvirt-python asks first whether a connection would make systemd start a stopped
        # daemon (the probe says, and reads libvirt's state files then). The links come with the
        # probe's run (`ip -j`: two short commands, where starting Python to import pyroute2
        # took a core for 0.13 s of CPU and was the last fact in); pyroute2's netlink dump
        # serves where iproute2 cannot print JSON.
        if self.is_local:
            run = ProbeRun(self.host, self.name, stats, remote=False, links=True, deadline=deadline)
            libvirt = LibvirtApiSource(self.api_uri or self.libvirt_uri, stats, deadline)
            if reaches_local_daemon(libvirt.uri):
                libvirt.fallback = local_fallback(run.sections, libvirt.uri)
            return HostFacts(libvirt, ProbeLinkSource(run, fallback=NetlinkSource(stats, apart=True)), ProbeSystemSource(run), stats)
        # One remote command brings links, system facts and (without --libvirt-uri) virsh's view.
        run = ProbeRun(self.host, self.name, stats, remote=True, links=True,
                       virsh_uri=None if self.api_uri else self.libvirt_uri, deadline=deadline)
        libvirt = LibvirtApiSource(self.api_uri, stats, deadline) if self.api_uri else ProbeLibvirtSource(run, self.libvirt_uri)
        if self.api_uri:
            libvirt.fallback = remote_fallback(run.sections, self.api_uri)
        return HostFacts(libvirt, ProbeLinkSource(run), ProbeSystemSource(run), stats)


def reaches_local_daemon(uri: str) -> bool:
    """A URI served by this host's libvirt daemons (qemu:///system), not another host's nor the test driver."""
    scheme, _, rest = uri.partition("://")
    return not scheme.startswith("test") and rest.startswith("/")


class BundleTarget(Target):
    """A host known only by the probe output saved from it (`--facts`): no connection at all. Its
    name is the one its bundle's header gives, else the file's."""

    def __init__(self, path: Path, libvirt_uri: str):  # no host, connection or deadline: Target's own init is not run
        self.name = bundle_host(path) or path.name.removesuffix(".txt").removesuffix(".facts")
        self.libvirt_uri = libvirt_uri
        self.stats = Stats()
        self._facts = None
        self.path = path

    def _make_facts(self) -> HostFacts:
        return HostFacts(*bundle_sources(self.path, self.name, self.libvirt_uri), self.stats)

    def read_elsewhere(self, futures: dict) -> None:
        """Its facts of the kinds in futures (each kind's result) are the ones worker processes
        read; any other kind is read in this process, from its file, when a check needs it."""
        here = bundle_sources(self.path, self.name, self.libvirt_uri)
        sources = (FutureSource(futures[kind], kind) if kind in futures else source for kind, source in zip(KINDS, here))
        self._facts = HostFacts(*sources, self.stats)


def live_targets(option, libvirt_uri: str) -> tuple[list[Target], str | None]:
    """The hosts of --hosts (default this host) with the connection options, each a Target;
    or no target and the one line of why (a bad spec, an unreadable inventory, no host).
    option(name) gives an option's value (pytest's or the command line's), None when not given."""
    specs = [s.strip() for s in (option("hosts") or "local://").split(",") if s.strip()]
    options = dict(
        timeout=int(option("connect_timeout") or DEFAULT.connect),
        ssh_config=option("ssh_config"),
        ssh_identity_file=option("ssh_identity_file"),
        ssh_extra_args=option("ssh_extra_args"),
        sudo=bool(option("sudo")),
        sudo_user=option("sudo_user"),
        ansible_inventory=option("ansible_inventory"),
        force_ansible=bool(option("force_ansible")),
    )
    deadline = Deadline(int(option("command_timeout") or DEFAULT.command), options["timeout"])
    targets: list[Target] = []
    for spec in specs:
        try:
            check_spec(spec, option("connection"))
            hosts = open_hosts(spec, option("connection"), **options)
        except Exception as exc:  # bad spec, unknown connection type, unreadable inventory
            return [], f"--hosts {redact(spec)}: {error_line(exc)}"
        targets.extend(Target(host, libvirt_uri, option("libvirt_uri"), deadline) for host in hosts)
    if not targets:
        return [], f"--hosts {option('hosts')!r}: no host to audit (an empty ansible group?)"
    return unique_names(targets), None


def unique_names(targets: list[Target]) -> list[Target]:
    """The same live host named twice stays two entries: the second is NAME#2. (Bundles are not
    renamed: two that claim one host are refused, see claimed_twice.)"""
    names: set[str] = set()
    for target in targets:
        base, n = target.name, 1
        while target.name in names:
            n += 1
            target.name = f"{base}#{n}"
        names.add(target.name)
    return targets


def claimed_twice(targets: list[BundleTarget]) -> str | None:
    """The one line naming the first two files that claim one host (by their headers or their
    names), None when every host is claimed once: renaming one would let a forged file take the
    real one's name, by the order of the files."""
    seen: dict[str, BundleTarget] = {}
    for target in targets:
        first = seen.setdefault(target.name, target)
        if first is not target:
            both = f"{first.path} is given twice" if first.path == target.path else \
                f"{first.path} and {target.path} both hold host {target.name!r}"
            return f"--facts: {both}: audit each host from one file (move or remove the other)"
    return None


def collect_all(targets: list[Target], workers: int = 32, kinds: tuple[str, ...] = KINDS) -> None:
    """Collect these fact kinds (default: every one) of every host, all in parallel: a slow or
    dead host costs its own connect timeout, not the others', and a host's libvirt, netlink and
    probe reads overlap."""
    for target in targets:  # each host's facts object made here, once, not by racing threads
        target.facts  # noqa: B018
    jobs = [(t, kind) for t in targets for kind in kinds]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        list(pool.map(lambda job: job[0].facts.collect(job[1]), jobs))


class Collection:
    """Fact collection running in the background while pytest collects the checks: many bundles
    are read in worker processes (POOL_FROM or more), every other host in threads."""

    def __init__(self, targets: list[Target]):
        bundles = [t for t in targets if isinstance(t, BundleTarget)]
        self._pool = None
        if len(bundles) >= POOL_FROM:
            self._pool, futures = start_pool([(t.path, t.name, t.libvirt_uri) for t in bundles])
            for target, kinds in zip(bundles, futures):
                target.read_elsewhere(kinds)
        for target in targets:
            target.facts.prefetch()  # make the collectors here, not in the threads
        self._thread = threading.Thread(target=self._run, args=(targets,), name="virtnat-facts", daemon=True)
        self._thread.start()

    def _run(self, targets: list[Target]) -> None:
        start = time.perf_counter()
        try:
            collect_all(targets)
        finally:
            self.seconds = time.perf_counter() - start  # wall time from start to the last fact

    def wait(self) -> None:
        """Until every fact is in, and the pool's workers and threads are gone."""
        self._thread.join()
        if self._pool is not None:
            self._pool.results_thread.join()  # it ends once the workers have, and joins them
