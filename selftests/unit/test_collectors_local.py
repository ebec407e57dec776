"""The probe run through testinfra's real local:// backend (read-only, as an audit of this
machine runs it), through stand-in hosts that fail, and HostFacts and Target around them."""
import shlex
import shutil
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import testinfra
from testinfra.backend.base import CommandResult

from virtnat.collectors import HostFacts, Stats
from virtnat.collectors.command import ProbeLibvirtSource, ProbeLinkSource, ProbeRun, ProbeSystemSource
from virtnat.collectors.libvirt_api import LibvirtApiSource
from virtnat.collectors.netlink import dump
from virtnat.connections import open_hosts
from virtnat.errors import FactError
from virtnat.facts import probe
from virtnat.facts.model import SystemFacts
from virtnat.targets import Collection, Target, collect_all

needs_virsh = pytest.mark.skipif(shutil.which("virsh") is None, reason="virsh (libvirt-clients) is not installed")


@pytest.fixture(scope="module")
def local():
    return testinfra.get_host("local://")


def _bytes(text):
    return text.encode() if isinstance(text, str) else text


class StandInHost:
    """A host whose every command gives the same result, or raises; counts its runs."""

    def __init__(self, rc=0, stdout="", stderr="", raises=None):
        # testinfra's backends give bytes
        self.result = CommandResult(backend=None, exit_status=rc, command=b"", _stdout=_bytes(stdout), _stderr=_bytes(stderr))
        self.raises = raises
        self.commands = []

    def run(self, command):
        self.commands.append(command)
        if self.raises is not None:
            raise self.raises
        return self.result


def probe_error(host, name="hv1") -> str:
    with pytest.raises(FactError) as err:
        ProbeRun(host, name, Stats(), remote=True).sections()
    return str(err.value)


# -- the command -----------------------------------------------------------------------------

BOUND = "bound=; timeout -k 5 60 true 2>/dev/null && bound='timeout -k 5 60'; "


def test_local_command_is_the_script_alone_under_timeout():
    run = ProbeRun(StandInHost(), "me", Stats(), remote=False)
    assert run.command == BOUND + f"VIRTNAT_MARK={run.mark} $bound sh -c " + shlex.quote(probe.script())
    assert len(run.mark) == 24 and run.mark != ProbeRun(StandInHost(), "me", Stats(), remote=False).mark


def test_remote_command_asks_for_links_and_a_quoted_virsh_uri():
    run = ProbeRun(StandInHost(), "hv1", Stats(), remote=True, links=True, virsh_uri="qemu+ssh://hv1/system?keyfile=a b")
    assert run.command == (BOUND + f"VIRTNAT_MARK={run.mark} VIRTNAT_IP=1 VIRTNAT_VIRSH='qemu+ssh://hv1/system?keyfile=a b' "
                           "$bound sh -c " + shlex.quote(probe.script()))


# -- the real probe on this machine ------------------------------------------------------------

def test_local_probe_reads_this_machine_once(local):
    stats = Stats()
    run = ProbeRun(local, "me", stats, remote=False)
    sections = run.sections()
    assert {"runtime", "sysctl-files", "processes", "binaries", "nft", "routes", "sockets"} <= set(sections)
    assert "ip-link" not in sections and "virsh-networks" not in sections  # libvirt-python and pyroute2 serve this host
    assert run.sections() is sections
    assert (stats.subprocesses, stats.remote_commands) == (1, 0)


def test_local_probe_gives_the_kernels_forwarding_values(local):
    facts = ProbeSystemSource(ProbeRun(local, "me", Stats(), remote=False)).collect()
    assert isinstance(facts, SystemFacts)
    for key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding"):
        assert facts.sysctl_runtime[key] == Path("/proc/sys", key.replace(".", "/")).read_text().strip()


def test_probe_links_agree_with_netlink_on_lo(local):
    run = ProbeRun(local, "me", Stats(), remote=True, links=True)
    assert ProbeLinkSource(run).collect()["lo"] == dump()["lo"]


@needs_virsh
def test_probe_virsh_agrees_with_libvirt_python_on_the_test_driver(local):
    uri = "test:///default"
    run = ProbeRun(local, "me", Stats(), remote=True, virsh_uri=uri)
    assert ProbeLibvirtSource(run, uri).collect() == LibvirtApiSource(uri, Stats()).collect()


def test_kinds_collected_in_parallel_share_one_run(local):
    stats = Stats()
    run = ProbeRun(local, "me", stats, remote=True, links=True)
    results = []
    threads = [threading.Thread(target=lambda: results.append(run.sections())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.remote_commands == 1
    assert all(r is results[0] for r in results) and len(results) == 4


def test_real_command_printing_no_section_says_its_stderr(local):
    run = ProbeRun(local, "me", Stats(), remote=False)
    run.command = "echo 'sh: 1: virtnat: not found' >&2; exit 127"
    with pytest.raises(FactError) as err:
        run.sections()
    assert str(err.value) == "the probe printed nothing on me: sh: 1: virtnat: not found"


# -- hosts that fail -----------------------------------------------------------------------

def test_nothing_printed_says_stderr():
    assert probe_error(StandInHost(rc=1, stderr="  sudo: a password is required\n")) == (
        "the probe printed nothing on hv1: sudo: a password is required")


@pytest.mark.parametrize("stderr", ["", " \n", None])
def test_nothing_printed_nor_said_gives_the_exit_code(stderr):
    assert probe_error(StandInHost(rc=126, stderr=stderr)) == "the probe printed nothing on hv1: exit 126"


def test_a_stderr_that_is_not_utf8_is_still_said():
    assert probe_error(StandInHost(rc=255, stderr=b"ssh: caf\xe9: Name or service not known")) == (
        "the probe printed nothing on hv1: ssh: caf\ufffd: Name or service not known")


def test_output_framed_with_another_runs_marker_is_refused():
    """A probe's output replayed, or forged, with a marker of its own is not this run's."""
    run = ProbeRun(StandInHost(), "hv1", Stats(), remote=True)
    run.host = StandInHost(stdout=probe.frame({"routes": (0, "")}, "0" * 24))
    assert str(pytest.raises(FactError, run.sections).value) == (
        "the probe's output does not carry this run's marker: refused")


def test_long_stderr_is_cut_to_200_characters():
    message = probe_error(StandInHost(rc=1, stdout="no sections here\n", stderr="x" * 300))
    assert message == "the probe printed nothing on hv1: " + "x" * 200


def test_a_failed_run_is_kept_and_not_retried():
    host = StandInHost(rc=1, stderr="boom")
    run = ProbeRun(host, "hv1", Stats(), remote=True)
    for _ in range(3):
        with pytest.raises(FactError, match="^the probe printed nothing on hv1: boom$"):
            run.sections()
    assert len(host.commands) == 1


def test_connection_failure_is_one_line_with_the_hint():
    host = StandInHost(raises=TimeoutError("timed out"))
    assert probe_error(host, "hv2") == "cannot reach hv2: timed out; the host is down or filtered (connect timeout: --connect-timeout)"


def test_password_of_an_unreachable_host_is_masked():
    host = StandInHost(raises=OSError("no route for paramiko://root:hunter2@hv3"))
    assert probe_error(host, "hv3") == "cannot reach hv3: no route for paramiko://root:***@hv3"


@pytest.fixture
def dead_host(tmp_path, monkeypatch):
    """A paramiko:// host on a loopback port nobody listens on, and the line that says so."""
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh of this machine's
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    [host] = open_hosts(f"paramiko://alice:pw@127.0.0.1:{port}", None, timeout=2)
    return host, (f"cannot reach 127.0.0.1: Unable to connect to port {port} on 127.0.0.1; "
                  "no SSH server answers there: is the host up and sshd running?")


def test_closed_port_over_paramiko_is_one_line(dead_host):
    host, line = dead_host
    stats = Stats()
    with pytest.raises(FactError) as err:
        ProbeRun(host, "127.0.0.1", stats, remote=True).sections()
    assert str(err.value) == line
    assert stats.remote_commands == 1


# -- link and libvirt sections ---------------------------------------------------------------

class Sections:
    """A run that already has its sections."""

    def __init__(self, sections, name="hv1"):
        self._sections, self.name = sections, name

    def sections(self):
        return self._sections


def test_missing_ip_sections_ask_for_a_newer_iproute2():
    with pytest.raises(FactError) as err:
        ProbeLinkSource(Sections({"ip-addr": (0, "[]")})).collect()
    assert str(err.value) == "`ip -j` failed on hv1: missing (iproute2 4.14 or newer is needed)"


def test_failed_ip_addr_says_what_ip_said():
    sections = {"ip-link": (0, "[]"), "ip-addr": (255, 'Option "-j" is unknown, try "ip -help".\n')}
    with pytest.raises(FactError) as err:
        ProbeLinkSource(Sections(sections)).collect()
    assert str(err.value) == '`ip -j` failed on hv1: Option "-j" is unknown, try "ip -help". (iproute2 4.14 or newer is needed)'


class Failing:
    def __init__(self, message):
        self.message = message

    def sections(self):
        raise FactError(self.message)


@pytest.mark.parametrize("run", [Sections({"ip-addr": (0, "[]")}), Sections({"ip-link": (0, "{"), "ip-addr": (0, "[]")}),
                                 Failing("hv1: probe did not finish within 60 s")], ids=["old-iproute2", "not-json", "no-probe"])
def test_this_hosts_links_come_from_netlink_where_ip_j_cannot_give_them(run):
    """The fallback (this host's pyroute2) serves where the probe's `ip -j` failed, and says its own error."""
    netlink = SimpleNamespace(collect=lambda: {"lo": "from netlink"})
    assert ProbeLinkSource(run, fallback=netlink).collect() == {"lo": "from netlink"}
    with pytest.raises(FactError, match="^pyroute2 is not installed"):
        ProbeLinkSource(run, fallback=SimpleNamespace(collect=_no_pyroute2)).collect()


def _no_pyroute2():
    raise FactError("pyroute2 is not installed: pip install pyroute2")


def test_the_fallback_is_not_asked_where_ip_j_gives_the_links():
    link = '[{"ifindex": 1, "ifname": "lo", "flags": ["UP"], "operstate": "UNKNOWN", "address": "00:00:00:00:00:00"}]'
    links = ProbeLinkSource(Sections({"ip-link": (0, link), "ip-addr": (0, "[]")}), fallback=SimpleNamespace(collect=None)).collect()
    assert list(links) == ["lo"]


def test_ip_sections_give_links():
    link = '[{"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP"], "operstate": "UNKNOWN", "address": "00:00:00:00:00:00"}]'
    addr = '[{"ifindex": 1, "ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]}]'
    links = ProbeLinkSource(Sections({"ip-link": (0, link), "ip-addr": (0, addr)})).collect()
    assert (links["lo"].admin_up, links["lo"].addresses) == (True, ("127.0.0.1/8",))


def test_virsh_failure_in_the_sections_names_the_uri_and_fix():
    sections = {"virsh-networks": (1, "error: failed to connect to the hypervisor\n"
                                      "error: Cannot recv data: Connection refused")}
    with pytest.raises(FactError) as err:
        ProbeLibvirtSource(Sections(sections), "qemu+ssh://hv1/system").collect()
    assert str(err.value) == ("cannot connect to libvirt at qemu+ssh://hv1/system: Cannot recv data: Connection refused; "
                              "fix: start the libvirt daemon (systemctl start libvirtd)")


# -- HostFacts ---------------------------------------------------------------------------------

class Source:
    """A source that returns (or raises) what it is given, counting calls; start() is noted."""

    def __init__(self, value=None, raises=None):
        self.value, self.raises, self.calls, self.started = value, raises, 0, False

    def collect(self):
        self.calls += 1
        if self.raises is not None:
            raise self.raises
        return self.value

    def start(self):
        self.started = True


def test_each_kind_is_collected_once_and_timed():
    stats = Stats()
    libvirt, links, system = Source("L"), Source({"lo": 1}), Source("S")
    facts = HostFacts(libvirt, links, system, stats)
    assert [facts.libvirt(), facts.links(), facts.system()] == ["L", {"lo": 1}, "S"]
    assert [facts.libvirt(), facts.links(), facts.system()] == ["L", {"lo": 1}, "S"]
    assert (libvirt.calls, links.calls, system.calls) == (1, 1, 1)
    assert stats.collections == {"libvirt": 1, "links": 1, "system": 1}
    assert set(stats.seconds) == {"libvirt", "links", "system"} and all(s >= 0 for s in stats.seconds.values())


def test_a_fact_error_is_kept_and_raised_again_unchanged():
    error = FactError("cannot reach hv1: timed out")
    source = Source(raises=error)
    facts = HostFacts(Source(), Source(), source, Stats())
    facts.collect("system")  # collecting keeps the error for the checks, raises nothing
    for _ in range(2):
        with pytest.raises(FactError) as err:
            facts.system()
        assert err.value is error
    assert source.calls == 1
    assert facts.collected() == {"system": error}


def test_collected_is_a_copy_of_what_is_known_so_far():
    facts = HostFacts(Source("L"), Source(), Source(), Stats())
    assert facts.collected() == {}
    facts.collect("libvirt")
    seen = facts.collected()
    seen["links"] = "changed"
    assert facts.collected() == {"libvirt": "L"}


def test_prefetch_starts_only_sources_that_can():
    class NoStart:
        def collect(self):
            return None

    libvirt, links = Source(), Source()
    HostFacts(libvirt, links, NoStart(), Stats()).prefetch()
    assert (libvirt.started, links.started) == (True, True)


def test_preloaded_facts_come_back_without_any_source():
    error = FactError("libvirt at qemu:///system: gone")
    stats = Stats()
    facts = HostFacts.preloaded({"links": {"lo": 1}, "system": "S", "libvirt": error}, stats)
    assert facts.stats is stats
    assert (facts.links(), facts.system()) == ({"lo": 1}, "S")
    with pytest.raises(FactError) as err:
        facts.libvirt()
    assert err.value is error
    assert stats.collections == {}


# -- Target and collect_all on this machine ----------------------------------------------------

def test_local_target_is_named_after_this_machine(local):
    target = Target(local, "qemu:///system", api_uri="test:///{host}")
    assert (target.is_local, target.name, repr(target)) == (True, socket.gethostname(), socket.gethostname())
    assert target.api_uri == f"test:///{socket.gethostname()}"
    assert target.facts_started is False


def test_collect_all_on_the_local_host_with_the_test_driver(local):
    target = Target(local, "qemu:///system", api_uri="test:///default")
    collect_all([target])  # makes the host's facts object itself, before its threads start
    facts = target.facts
    assert facts.libvirt() == LibvirtApiSource("test:///default", Stats()).collect()
    assert facts.links()["lo"] == dump()["lo"]
    assert isinstance(facts.system(), SystemFacts)
    assert target.stats.collections == {"libvirt": 1, "links": 1, "system": 1}
    assert (target.stats.subprocesses, target.stats.remote_commands, target.stats.libvirt_calls) == (1, 0, 10)


def test_local_target_reads_libvirt_at_the_profile_uri_without_an_api_uri(local):
    target = Target(local, "qemu+unix:///system?socket=/nonexistent")
    assert target.api_uri is None
    with pytest.raises(FactError, match=r"^cannot connect to libvirt at qemu\+unix:///system\?socket=/nonexistent: "):
        target.facts.libvirt()


def test_dead_remote_target_costs_one_attempt_and_gives_every_kind_one_line(dead_host):
    host, line = dead_host
    target = Target(host, "qemu:///system")
    assert (target.is_local, target.name) == (False, "127.0.0.1")
    target.facts.prefetch()  # as Collection does: the facts are made before collect_all's threads
    collect_all([target])
    errors = {kind: str(error) for kind, error in target.facts.collected().items()}
    assert errors == {"libvirt": line, "links": line, "system": line}
    assert target.stats.remote_commands == 1


def test_remote_target_with_an_api_uri_reads_libvirt_apart(dead_host):
    host, line = dead_host
    target = Target(host, "qemu:///system", api_uri="test:///default")
    assert target.facts.libvirt().running_guests == ("test",)
    with pytest.raises(FactError) as err:
        target.facts.system()
    assert str(err.value) == line
    assert target.stats.libvirt_calls == 10


class Busy:
    """A host's facts whose every kind takes 0.2 s; counts how many are collected at once."""
    active = peak = 0
    lock = threading.Lock()

    def collect(self, kind):
        with Busy.lock:
            Busy.active += 1
            Busy.peak = max(Busy.peak, Busy.active)
        time.sleep(0.2)
        with Busy.lock:
            Busy.active -= 1


def test_collect_all_runs_every_kind_of_every_host_at_once_up_to_32(monkeypatch):
    monkeypatch.setattr(Busy, "peak", 0)
    collect_all([SimpleNamespace(facts=Busy()) for _ in range(11)])  # 33 jobs
    assert Busy.peak == 32
    monkeypatch.setattr(Busy, "peak", 0)
    collect_all([SimpleNamespace(facts=Busy()) for _ in range(2)])
    assert Busy.peak == 6


def test_collection_runs_in_the_background_and_times_itself(local):
    target = Target(local, "qemu:///system", api_uri="test:///default")
    collection = Collection([target])
    collection.wait()
    assert set(target.facts.collected()) == {"libvirt", "links", "system"}
    assert target.facts.links()["lo"] == dump()["lo"]
    assert target.stats.subprocesses == 1  # the probe, which reads the links too (no netlink helper)
    assert collection.seconds > 0


def test_preload_gives_the_target_facts_collected_elsewhere(local):
    target = Target(local, "qemu:///system")
    target.preload({"system": "S"})
    assert target.facts_started is True
    assert target.facts.system() == "S"


def test_a_byte_that_is_not_utf8_is_replaced_not_fatal():
    """A process argument in Latin-1 is the host's data: one replacement character, not a
    failed host (it was 'cannot reach' for every check)."""
    run = ProbeRun(StandInHost(), "hv1", Stats(), remote=True)
    output = probe.frame({"processes": (0, "self net:[1]\n7 net:[1] dnsmasq /usr/sbin/dnsmasq --x=XX")}, run.mark)
    run.host = StandInHost(stdout=output.encode().replace(b"XX", b"caf\xe9"))
    assert run.sections()["processes"] == (0, "self net:[1]\n7 net:[1] dnsmasq /usr/sbin/dnsmasq --x=caf\ufffd")


@pytest.mark.parametrize("remote, counted", [(True, (3, 1)), (False, (2, 2))])
def test_each_run_counts_one_remote_command_or_local_process_in_the_hosts_stats(remote, counted):
    stats = Stats(remote_commands=2, subprocesses=1)  # the host's others so far
    run = ProbeRun(StandInHost(), "hv1", stats, remote=remote)
    run.host = StandInHost(stdout=probe.frame({"routes": (0, "")}, run.mark).encode())
    run.sections()
    run.sections()  # the same run: its output is kept
    assert (stats.remote_commands, stats.subprocesses) == counted


@pytest.mark.parametrize("sections, says", [
    ({"ip-link": (0, "[]")}, "`ip -j` failed on hv1: missing (iproute2 4.14 or newer is needed)"),
    ({"ip-link": (255, "Option \"-j\" is unknown, try \"ip -help\"." + "x" * 300), "ip-addr": (0, "[]")},
     "`ip -j` failed on hv1: " + ("Option \"-j\" is unknown, try \"ip -help\"." + "x" * 300)[:200]
     + " (iproute2 4.14 or newer is needed)"),
    ({"ip-link": (0, "[]"), "ip-addr": (1, "  Cannot open netlink socket\n")},
     "`ip -j` failed on hv1: Cannot open netlink socket (iproute2 4.14 or newer is needed)"),
])
def test_links_that_ip_could_not_give_are_one_line(sections, says):
    run = ProbeRun(StandInHost(), "hv1", Stats(), remote=True, links=True)
    run.host = StandInHost(stdout=probe.frame(sections, run.mark).encode())
    with pytest.raises(FactError) as error:
        ProbeLinkSource(run).collect()
    assert str(error.value) == says
