"""One audit's plan, decided once from the run's options (state.plan_audit): which hosts, which
report paths, and the one-line usage errors that stop a run before any host is contacted; and the
run that carries it out (state.Audit)."""
import os
import re
import socket
from dataclasses import FrozenInstanceError
from pathlib import Path
from types import SimpleNamespace

import pytest

from virtnat.report.finish import Outputs
from virtnat.state import CATALOG, CHECKS_DIR, Audit, Plan, _outputs, _short_failures, default_report_dir, plan_audit, report_stem
from virtnat.state import utc_now as real_utc_now
from virtnat.targets import BundleTarget

PROJECT = Path(__file__).resolve().parents[2]

STARTED = "20261128T101500Z"


class Options:
    """The run's options as pytest's config.getoption gives them (a name not set: the default),
    and pytest's own as config.option holds them."""

    def __init__(self, **values):
        self.values = values
        self.option = SimpleNamespace(tbstyle="auto", reportchars="fE", collectonly=False, htmlpath=None, xmlpath=None)

    def getoption(self, name, default=None):
        return self.values.get(name, default)


def planned(**options) -> Plan:
    return plan_audit(Options(**options))


@pytest.fixture(autouse=True)
def fixed_time_and_state_directory(monkeypatch, tmp_path):
    """The clock stands still; the default report directory is a fresh one (the plan makes it)."""
    import datetime as dt

    from virtnat import state as state_module
    monkeypatch.setattr(state_module, "utc_now", lambda: dt.datetime(2026, 11, 28, 10, 15, tzinfo=dt.timezone.utc))
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))


def test_the_checkout_holds_the_checks():
    """In a checkout the package's catalog is a link to tests/, the checks' one source."""
    assert CHECKS_DIR == PROJECT / "tests" and (CHECKS_DIR / "network").is_dir() and CATALOG.is_symlink()


@pytest.mark.parametrize("env, where", [
    ({"STATE_DIRECTORY": "/var/lib/virtnat:/var/lib/other", "HOME": "/root"}, "/var/lib/virtnat/reports"),  # a unit's StateDirectory=
    ({"XDG_STATE_HOME": "/home/op/state", "HOME": "/home/op"}, "/home/op/state/virtnat/reports"),
    ({"XDG_STATE_HOME": "relative", "HOME": "/home/op"}, "/home/op/.local/state/virtnat/reports"),  # XDG: relative paths are ignored
    ({"HOME": "/home/op"}, "/home/op/.local/state/virtnat/reports"),
])
def test_the_default_report_directory(env, where):
    assert default_report_dir(env) == Path(where)


def test_without_home_the_passwd_entry_decides(monkeypatch):
    monkeypatch.setattr(os.path, "expanduser", lambda path: "/var/op" if path == "~" else path)
    assert default_report_dir({}) == Path("/var/op/.local/state/virtnat/reports")


def test_this_host_by_default_with_reports_named_for_it():
    run = planned()
    [target] = run.targets
    assert (target.name, target.is_local, run.error) == (socket.gethostname(), True, None)
    stem = f"{socket.gethostname()}-{STARTED}"
    reports = default_report_dir()
    assert run.outputs == Outputs(json=reports / f"{stem}.json", html=reports / f"{stem}.html", junit=reports / f"{stem}.xml",
                                  latest_json=reports / "latest.json", latest_html=reports / "latest.html", prune_dir=reports)
    assert reports.is_dir()  # made by the plan, which found it can be written
    assert run.started.isoformat() == "2026-11-28T10:15:00+00:00"
    assert (run.collect, run.passthrough, run.fail_on, run.stats_json) == (True, (), None, None)
    audit = Audit(run)
    assert audit.collection is None and audit.spawned == 0 and audit.record.results.checks == {} and audit.error is None


def test_a_plan_does_not_change():
    run = planned()
    with pytest.raises(FrozenInstanceError):
        run.error = "later"


def test_options_reach_each_host_and_its_deadline(tmp_path):
    run = planned(hosts="ssh://root@hv1:2222, ,paramiko://hv2", connect_timeout=7, command_timeout=30,
                libvirt_uri="qemu+ssh://root@{host}/system", report_dir=str(tmp_path), sudo=True)
    assert [t.name for t in run.targets] == ["hv1", "hv2"]
    for target in run.targets:
        assert (target.deadline.command, target.deadline.connect) == (30, 7)
        assert target.api_uri == f"qemu+ssh://root@{target.name}/system"
        assert target.libvirt_uri == "qemu:///system"
    assert run.targets[0].host.backend.timeout == 7
    assert run.targets[0].host.backend.sudo is True
    assert run.outputs.json == tmp_path / f"2-hosts-{STARTED}.json"


def test_without_timeouts_the_defaults_apply():
    [target] = planned(hosts="ssh://hv1").targets
    assert (target.deadline.command, target.deadline.connect) == (60, 10)
    assert target.host.backend.timeout == 10


def test_a_host_named_twice_is_two_entries():
    assert [t.name for t in planned(hosts="ssh://hv1,paramiko://hv1,ssh://hv1").targets] == ["hv1", "hv1#2", "hv1#3"]


def test_a_one_host_stem_is_safe_as_a_file_name(tmp_path):
    run = planned(hosts="ssh://[fe80::1]:22", report_dir=str(tmp_path))
    assert run.outputs.html.name == f"fe80__1-{STARTED}.html"


def test_an_option_no_plugin_declared_reads_as_not_given(tmp_path):
    """As pytest's getoption: a name no plugin declared raises without a default (testinfra's
    connection options, when its plugin is not loaded)."""
    testinfras = {"connection", "ssh_config", "ssh_identity_file", "sudo", "sudo_user", "ansible_inventory", "force_ansible"}

    class Declared(Options):
        def getoption(self, name, default=ValueError):
            if name in testinfras and default is ValueError:
                raise ValueError(f"no option named {name!r}")
            return self.values.get(name, None if default is ValueError else default)
    run = plan_audit(Declared(hosts="local://", report_dir=str(tmp_path / "reports")))
    assert run.error is None and len(run.targets) == 1


def test_a_stem_is_the_label_and_the_start_with_no_slash_or_colon():
    import datetime as dt

    started = dt.datetime(2026, 11, 28, 10, 15, tzinfo=dt.timezone.utc)
    assert report_stem("dc1/hv:7", started) == "dc1_hv_7-20261128T101500Z"
    assert report_stem("3-hosts", started) == "3-hosts-20261128T101500Z"
    assert report_stem("hv1.example.org", started) == "hv1.example.org-20261128T101500Z"


@pytest.mark.parametrize("label, stem", [
    ("a b", "a_b~c8687a08aa"), ("h" * 64, "h" * 64), ("h" * 65, "h" * 48 + "~33b63d82e4"), (".Xy", "Xy~bb2002433c"),
    ("x" * 70, "x" * 48 + "~c71bd10922"),
])
def test_a_label_that_is_not_a_plain_name_of_64_characters_at_most_is_cut_and_hashed(label, stem):
    import datetime as dt
    assert report_stem(label, dt.datetime(2026, 12, 8, tzinfo=dt.timezone.utc)) == f"{stem}-20261208T000000Z"


@pytest.mark.parametrize("label", [
    "hv1\x00evil", "hv1\nHOST-01 PASSED", "\x1b]0;pwned\x07", "a" * 300, "..", ".hidden", "", "hv 1", "hv*", "é" * 100,
    "hv1/../../etc/passwd", "\udcff", "%2F", "hv1;rm -rf",
])
def test_any_host_name_makes_a_short_safe_stem_of_its_own(label, tmp_path):
    import datetime as dt

    started = dt.datetime(2026, 11, 28, 10, 15, tzinfo=dt.timezone.utc)
    stem = report_stem(label, started)
    assert len(stem) <= 64 + 1 + 16 and stem.endswith("-20261128T101500Z")
    assert re.fullmatch(r"[A-Za-z0-9._+@~-]+", stem) and not stem.startswith(".")
    (tmp_path / f"{stem}.json").write_text("{}")  # a file name the file system takes
    others = {report_stem(other, started) for other in (label + "x", label.upper() + "y", "hv1")}
    assert stem not in others


def test_audit_json_elsewhere_is_not_the_default(tmp_path):
    run = planned(audit_json=str(tmp_path / "out.json"))
    assert (run.outputs.json, run.outputs.latest_json) == (tmp_path / "out.json", None)


def test_saved_facts_are_bundle_targets_named_by_their_files(tmp_path):
    for name in ("hv1.facts", "hv2.txt", "hv3"):
        (tmp_path / name).write_text("")
    run = planned(facts=str(tmp_path))
    assert all(isinstance(t, BundleTarget) for t in run.targets)
    assert [t.name for t in run.targets] == ["hv1", "hv2", "hv3"]
    assert run.error is None


def test_the_same_bundle_twice_is_a_usage_error(tmp_path):
    (tmp_path / "hv1.facts").write_text("")
    run = planned(facts=f"{tmp_path}/hv1.facts,{tmp_path}")
    assert run.targets == ()
    assert run.error == f"--facts: {tmp_path}/hv1.facts is given twice: audit each host from one file (move or remove the other)"


def test_two_bundles_of_one_host_are_a_usage_error_naming_both(tmp_path):
    """A forged file that claims a host's name (by its header, or by its file name) is never
    renamed into the audit: both files are named and nothing runs."""
    from virtnat.collectors.bundle import bundle_bytes
    (tmp_path / "a").mkdir()
    (tmp_path / "a/hv1.facts").write_bytes(bundle_bytes("hv1", "t", "x"))
    (tmp_path / "a/zz.facts").write_bytes(bundle_bytes("hv1", "t", "x"))
    (tmp_path / "hv2.facts").write_text("")
    (tmp_path / "a/hv2.txt").write_text("")
    run = planned(facts=f"{tmp_path}/a")
    assert run.error == (f"--facts: {tmp_path}/a/hv1.facts and {tmp_path}/a/zz.facts both hold host 'hv1': audit each host"
                         " from one file (move or remove the other)")
    run = planned(facts=f"{tmp_path}/a/hv2.txt,{tmp_path}/hv2.facts")
    assert run.error.startswith(f"--facts: {tmp_path}/a/hv2.txt and {tmp_path}/hv2.facts both hold host 'hv2': ")
    assert planned(facts=f"{tmp_path}/a/hv1.facts,{tmp_path}/hv2.facts").error is None


def test_a_facts_directory_keeps_a_line_per_entry_it_does_not_audit(tmp_path):
    (tmp_path / "hv1.facts").write_text("")
    (tmp_path / "old").mkdir()
    (tmp_path / "hv2.facts").symlink_to(tmp_path / "gone")
    run = planned(facts=str(tmp_path))
    assert [t.name for t in run.targets] == ["hv1"] and run.error is None
    assert run.not_audited == (f"--facts: {tmp_path}/hv2.facts is not audited: a symbolic link to nothing",
                               f"--facts: {tmp_path}/old is not audited: a directory, not a regular file")


def test_the_evidence_holds_each_host_its_pieces_facts_and_checks_and_the_default_profile(tmp_path):
    from virtnat.evidence import host_evidence
    from virtnat.profile import Profile
    recording = PROJECT / "selftests" / "data" / "path" / "libvirt9" / "healthy.txt"
    for name in ("hv1", "hv2"):
        (tmp_path / f"{name}.facts").write_text(recording.read_text())
    audit = Audit(planned(facts=str(tmp_path)))
    hv1, _hv2 = audit.plan.targets
    hv1.facts.collect("links")
    data = {"host": "hv1", "id": "NET-07", "title": "t", "impact": "high", "subject": "virbr0", "outcome": "passed",
            "message": "", "remediation": ""}
    audit.record.pytest_runtest_logreport(SimpleNamespace(nodeid="n", virtnat=data, virtnat_evidence={"text": "UP", "kinds": ["links"]}))
    evidence = audit.evidence_dict()
    assert list(evidence) == ["profile_defaults", "hosts"] and evidence["profile_defaults"] == Profile().as_dict()
    assert evidence["hosts"]["hv1"] == host_evidence(hv1.facts.collected(), audit.plan.profile, audit.record.evidence["hv1"])
    assert evidence["hosts"]["hv1"]["checks"] == {"NET-07[virbr0]": {"text": "UP", "kinds": ["links"]}}
    assert evidence["hosts"]["hv1"]["pieces"]["bridge"] and evidence["hosts"]["hv1"]["facts"]["links"]
    assert evidence["hosts"]["hv2"] == {"pieces": {}, "facts": {}, "checks": {}}  # its facts were never read


@pytest.mark.parametrize("options, error", [
    ({"facts": "a.facts", "hosts": "ssh://hv1"}, "--facts audits saved probe output, --hosts live hosts: give one of them"),
    ({"facts": "nowhere.facts"}, "--facts: nowhere.facts: no such file or directory"),
    ({"hosts": "ssh://alice:s3cret@hv1"}, "--hosts ssh://alice:***@hv1: a password cannot work over ssh:// (ssh runs in "
                                          "BatchMode and never asks for one): use a key (--ssh-identity-file) or paramiko://"),
    ({"hosts": "bogus://hv1"}, "--hosts bogus://hv1: "),
    ({"hosts": " , "}, "--hosts ' , ': no host to audit (an empty ansible group?)"),
    ({"profile": "/nonexistent/site.toml"}, "profile /nonexistent/site.toml: "),
])
def test_usage_errors_are_one_line_and_leave_no_host(options, error):
    run = planned(**options)
    assert run.error.startswith(error) and "\n" not in run.error
    assert run.targets == () and not run.collect
    assert run.outputs.json.name == f"0-hosts-{STARTED}.json"


def test_a_bad_profile_keeps_the_defaults_to_report_with():
    run = planned(profile="/nonexistent/site.toml")
    assert run.profile.as_dict() == planned().profile.as_dict()


WAIVER = """[[waiver]]
check = "{check}"
reason = "{reason}"
expires = 2026-12-31
"""


def test_waivers_come_from_the_profile_and_then_the_waivers_file(tmp_path):
    profile, extra = tmp_path / "site.toml", tmp_path / "waivers.toml"
    profile.write_text(WAIVER.format(check="HOST-03", reason="in the profile"))
    extra.write_text(WAIVER.format(check="NET-07", reason="in the file"))
    assert [(w.check, w.reason) for w in planned(profile=str(profile), waivers=str(extra)).waivers] == [
        ("HOST-03", "in the profile"), ("NET-07", "in the file")]
    assert [w.reason for w in planned(profile=str(profile)).waivers] == ["in the profile"]
    assert [w.reason for w in planned(waivers=str(extra)).waivers] == ["in the file"]
    assert planned().waivers == ()


def test_a_broken_waivers_file_is_the_runs_usage_error_with_no_waiver(tmp_path):
    extra = tmp_path / "waivers.toml"
    extra.write_text(WAIVER.format(check="firewalld", reason="x"))
    run = planned(waivers=str(extra))
    assert run.error == f"waivers {extra}: waiver 1: check 'firewalld' is not a check id like HOST-03"
    assert run.waivers == () and run.targets == ()


def test_processes_spawned_are_counted_by_their_audit_events():
    run = Audit(planned())
    for event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.system", "open", "socket.connect"):
        run.count_spawn(event, ())
    assert run.spawned == 4


def test_stats_name_each_host():
    run = Audit(planned(hosts="ssh://hv1"))
    for _ in range(3):
        run.count_spawn("os.system", ())
    stats = run.stats()
    assert (stats["spawned_processes"], stats["collection_wall_seconds"], list(stats["hosts"])) == (3, None, ["hv1"])
    assert stats["check_processes"] == 1
    assert stats["hosts"]["hv1"] == {"seconds": {}, "collections": {}, "subprocesses": 0, "remote_commands": 0, "libvirt_calls": 0}


def test_the_collections_wall_time_is_in_the_stats():
    run = Audit(planned(hosts="ssh://hv1"))
    run.collection = SimpleNamespace(seconds=1.5)
    assert run.stats()["collection_wall_seconds"] == 1.5


def test_facts_handed_to_a_worker_keep_the_hosts_name_and_stats():
    from virtnat.errors import FactError
    [target] = planned(hosts="ssh://hv1").targets
    unreachable = FactError("hv1: unreachable")
    target.preload({"libvirt": unreachable, "links": (), "system": "sys"})
    assert target.facts_started
    assert target.facts.stats is target.stats
    assert target.facts.collected() == {"libvirt": unreachable, "links": (), "system": "sys"}
    with pytest.raises(FactError, match="hv1: unreachable"):
        target.facts.libvirt()


# -- which collectors each kind of host gets ----------------------------------------------------

def env_of(run) -> list[str]:
    """The variables the probe is started with (its command, before the script)."""
    return run.command.split(" $bound sh -c ")[0].split("; ")[-1].split()


def sources(target):
    facts = target.facts
    return facts._sources["libvirt"], facts._sources["links"], facts._sources["system"]


def test_this_host_reads_libvirt_python_and_a_local_probe_with_netlink_behind_its_links():
    from virtnat.collectors.command import ProbeLinkSource
    from virtnat.collectors.libvirt_api import LibvirtApiSource
    from virtnat.collectors.netlink import NetlinkSource
    [target] = planned(command_timeout=30, connect_timeout=5).targets
    libvirt, links, system = sources(target)
    assert type(libvirt) is LibvirtApiSource and type(links) is ProbeLinkSource and links.run is system.run
    assert (libvirt.uri, libvirt.deadline.command, libvirt.stats) == ("qemu:///system", 30, target.stats)
    assert type(links.fallback) is NetlinkSource and links.fallback.stats is target.stats and links.fallback.apart
    run = system.run
    assert (run.name, run.remote, run.stats, run.deadline.command) == (target.name, False, target.stats, 30)
    assert env_of(run) == [f"VIRTNAT_MARK={run.mark}", "VIRTNAT_IP=1"]
    assert target.facts.stats is target.stats


def test_a_remote_host_reads_everything_from_one_probe_with_virsh():
    from virtnat.collectors.command import ProbeLibvirtSource, ProbeLinkSource
    [target] = planned(hosts="ssh://hv1", command_timeout=30).targets
    libvirt, links, system = sources(target)
    assert type(libvirt) is ProbeLibvirtSource and type(links) is ProbeLinkSource
    assert libvirt.run is links.run is system.run and libvirt.uri == "qemu:///system"
    run = system.run
    assert (run.name, run.remote, run.deadline.command) == ("hv1", True, 30)
    assert env_of(run) == [f"VIRTNAT_MARK={run.mark}", "VIRTNAT_IP=1", "VIRTNAT_VIRSH=qemu:///system"]
    assert target.facts.stats is target.stats


def test_a_remote_host_with_libvirt_uri_reads_libvirt_python_and_no_virsh():
    from virtnat.collectors.libvirt_api import LibvirtApiSource
    [target] = planned(hosts="ssh://hv1", libvirt_uri="qemu+ssh://{host}/system", command_timeout=30).targets
    libvirt, _, system = sources(target)
    assert type(libvirt) is LibvirtApiSource
    assert (libvirt.uri, libvirt.deadline.command) == ("qemu+ssh://hv1/system", 30)
    assert env_of(system.run) == [f"VIRTNAT_MARK={system.run.mark}", "VIRTNAT_IP=1"]


def test_a_bundle_reads_its_file_for_every_kind(tmp_path):
    from virtnat.collectors.command import ProbeLibvirtSource
    (tmp_path / "hv1.facts").write_text("")
    [target] = planned(facts=str(tmp_path / "hv1.facts")).targets
    libvirt, links, system = sources(target)
    assert type(libvirt) is ProbeLibvirtSource and libvirt.uri == "qemu:///system"
    assert libvirt.run.path == links.run.path == system.run.path == tmp_path / "hv1.facts"
    assert system.run.name == "hv1" and target.facts.stats is target.stats


def test_connection_options_reach_testinfra():
    run = planned(hosts="ssh://hv1", ssh_config="/etc/virtnat/ssh_config", ssh_identity_file="/etc/virtnat/id_ed25519",
                ssh_extra_args="-4", sudo=True, sudo_user="auditor")
    backend = run.targets[0].host.backend
    assert (backend.ssh_config, backend.ssh_identity_file, backend.ssh_extra_args, backend.sudo, backend.sudo_user) == (
        "/etc/virtnat/ssh_config", "/etc/virtnat/id_ed25519", "-o BatchMode=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3 -4",
        True, "auditor")


def test_ansible_options_reach_testinfra(tmp_path):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[fleet]\nhv1 ansible_connection=local\n")
    [target] = planned(hosts="ansible://fleet", ansible_inventory=str(inventory), force_ansible=True).targets
    assert (target.host.backend.ansible_inventory, target.host.backend.force_ansible) == (str(inventory), True)


def test_waiting_for_facts_waits_for_the_collection_if_one_runs():
    run = Audit(planned(hosts="ssh://hv1"))
    run.wait_for_facts()  # none started: nothing to wait for
    waited = []
    run.collection = SimpleNamespace(wait=lambda: waited.append(True))
    run.wait_for_facts()
    assert waited == [True]


def test_a_bundles_collection_is_timed_and_counted_per_kind(tmp_path):
    (tmp_path / "hv1.facts").write_text("not a probe's output")
    [target] = planned(facts=str(tmp_path / "hv1.facts")).targets
    with pytest.raises(Exception):
        target.facts.system()
    assert target.stats.collections == {"system": 1}
    assert 0 <= target.stats.seconds["system"] < 5


def test_a_bare_host_name_takes_the_connection_option():
    [target] = planned(hosts="hv1", connection="ssh").targets
    assert (target.host.backend.NAME, target.name) == ("ssh", "hv1")
    assert planned(hosts="alice:pw@hv1", connection="ssh").error.startswith("--hosts alice:***@hv1: a password cannot work")


def test_the_runs_clock_is_utc_in_whole_seconds():
    import datetime as dt

    now = real_utc_now()  # the module's own, not the fixed clock the other tests see
    assert now.tzinfo is dt.timezone.utc and now.microsecond == 0


def test_the_background_collection_never_holds_up_the_exit_and_times_itself(tmp_path):
    from virtnat.targets import Collection
    (tmp_path / "hv1.facts").write_text("not a probe's output")
    targets = planned(facts=str(tmp_path / "hv1.facts")).targets
    collection = Collection(targets)
    assert (collection._thread.name, collection._thread.daemon) == ("virtnat-facts", True)
    collection.wait()
    assert 0 < collection.seconds < 5
    assert set(targets[0].stats.collections) == {"libvirt", "links", "system"}


def test_a_title_is_filled_from_the_profile_once(monkeypatch):
    from virtnat.profile import Profile

    run = Audit(planned())
    calls = []
    real = Profile.substitute
    monkeypatch.setattr(Profile, "substitute", lambda self, text, **extra: calls.append(text) or real(self, text, **extra))
    assert run.title("{bridge} is UP") == run.title("{bridge} is UP") == "virbr0 is UP"
    assert run.title("{subnet}") == "192.168.122.0/24"
    assert calls == ["{bridge} is UP", "{subnet}"]


# -- where the reports go: a place that cannot be written is found before any host is contacted --

def paths_planned(tmp_path, **options) -> Plan:
    return planned(facts=__file__, report_dir=str(tmp_path / "reports"), **options)  # any existing file: no host is contacted


def test_writable_report_paths_are_made_and_planned(tmp_path):
    run = paths_planned(tmp_path, audit_json=str(tmp_path / "out/a.json"))
    assert run.error is None and run.outputs.json == tmp_path / "out/a.json" and run.outputs.html.parent == tmp_path / "reports"
    assert (tmp_path / "reports").is_dir() and (tmp_path / "out").is_dir()


def test_an_unwritable_report_dir_stops_the_reports_but_not_an_audit_json_elsewhere(tmp_path):
    (tmp_path / "reports").write_text("a file")
    run = paths_planned(tmp_path, audit_json=str(tmp_path / "a.json"))
    assert run.error == f"--report-dir={tmp_path}/reports: cannot write reports there: Not a directory"
    assert run.outputs == Outputs(json=tmp_path / "a.json")


def test_the_metrics_are_detailed_as_asked(tmp_path):
    prom = str(tmp_path / "virtnat.prom")
    assert [paths_planned(tmp_path, prometheus=prom, **given).outputs.prometheus_detail
            for given in ({}, {"prometheus_detail": True})] == [False, True]


def test_an_unwritable_report_dir_stops_the_default_json_too(tmp_path):
    (tmp_path / "reports").write_text("a file")
    assert paths_planned(tmp_path, keep=3).outputs == Outputs(keep=3)


def test_an_unwritable_default_report_dir_says_how_to_choose_another(tmp_path, monkeypatch):
    (tmp_path / "state").write_text("a file")
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    assert planned(facts=__file__).error == (f"the default report directory {tmp_path}/state/reports (--report-dir=DIR for "
                                             "another): cannot write reports there: Not a directory")


def test_an_unwritable_audit_json_is_named(tmp_path):
    (tmp_path / "file").write_text("")
    run = paths_planned(tmp_path, audit_json=str(tmp_path / "file/a.json"))
    assert run.error == f"--audit-json={tmp_path}/file/a.json: cannot write reports there: Not a directory"
    assert run.outputs.json is None and run.outputs.latest_json is None and run.outputs.html is not None


def test_the_first_problem_is_the_one_reported(tmp_path):
    (tmp_path / "reports").write_text("a file")
    (tmp_path / "file").write_text("")
    run = paths_planned(tmp_path, audit_json=str(tmp_path / "file/a.json"), profile="/nonexistent.toml")
    assert run.error.startswith("profile /nonexistent.toml: ")
    assert run.outputs == Outputs() and not run.collect


def test_an_xdist_workers_plan_has_its_hosts_and_nothing_to_write(tmp_path):
    run = plan_audit(Options(facts=__file__, report_dir=str(tmp_path / "reports")), worker=True)
    assert [t.name for t in run.targets] == [Path(__file__).name] and run.error is None
    assert (run.outputs, run.collect, run.pytest_options) == (Outputs(), False, (("tbstyle", "no"),))
    assert not (tmp_path / "reports").exists()


def _config(tbstyle, **given):
    """A config as pytest gives it: getoption's default for an option no plugin declared, else ValueError."""
    def getoption(name, *default):
        if name not in given and not default:
            raise ValueError(f"no option named {name!r}")
        return given.get(name, *default)
    return SimpleNamespace(option=SimpleNamespace(tbstyle=tbstyle), getoption=getoption)


@pytest.mark.parametrize("tbstyle, given, short", [
    ("no", {"usepdb": False}, True), ("auto", {"usepdb": False}, True), ("long", {"usepdb": False}, False),
    ("no", {"usepdb": True}, False), ("no", {}, True),  # -p no:debugging: no --pdb declared
])
def test_failures_are_their_message_alone_unless_a_traceback_or_pdb_is_asked_for(tbstyle, given, short):
    assert _short_failures(_config(tbstyle, **given)) is short


def test_a_part_is_the_one_output(tmp_path):
    part = tmp_path / "p.json"
    outputs, problem = _outputs({"part": str(part)}.get, [SimpleNamespace(name="hv1")], real_utc_now())
    assert (outputs.json, outputs.evidence, outputs.html, problem) == (part, True, None, None)
