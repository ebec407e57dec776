"""`virtnat collect`: every host's probe output saved as a bundle, run for real on this machine
(testinfra's local backend, the probe read-only) and on a port where nothing listens; the
command's lines and exit codes."""
import hashlib
import socket
from types import SimpleNamespace

import pytest

from virtnat import __version__, cli
from virtnat.collect import bundle_name, collect_bundles, taken_names
from virtnat.collectors.bundle import BundleRun, Header, read_bundle
from virtnat.collectors.deadline import Deadline
from virtnat.connections import open_hosts
from virtnat.targets import BundleTarget, Target

HOSTNAME = socket.gethostname()
REFUSED = "cannot reach 127.0.0.1: Unable to connect to port 1 on 127.0.0.1; no SSH server answers there: is the host up and sshd running?"


@pytest.mark.parametrize("host, name", [("hv1", "hv1.facts"), ("10.0.0.2", "10.0.0.2.facts"), ("a/b:c d", "a_b_c_d.facts"),
                                        ("hv-1_x", "hv-1_x.facts"), (".hidden.", "hidden..facts"),
                                        ("..", "host.facts"), ("../etc", "_etc.facts"), ("root@hv1", "root@hv1.facts"),
                                        ("Xen-1", "Xen-1.facts")])
def test_a_bundle_is_named_for_its_host_safely(host, name):
    assert bundle_name(host) == name


@pytest.mark.parametrize("host", ["h" * 300, "é" * 120, "hv1." + "x" * 250])
def test_a_long_host_name_gets_a_short_bundle_name_of_its_own(host, tmp_path):
    name = bundle_name(host)
    assert len(name.encode()) <= 150 and name.endswith(".facts") and "~" in name
    assert name != bundle_name(host + "y") and name == bundle_name(host)
    (tmp_path / name).write_text("")  # a name the file system takes


def test_a_long_name_is_cut_at_exactly_100_bytes_to_64_characters_and_ten_of_its_hash():
    assert bundle_name("h" * 100) == "h" * 100 + ".facts"
    lone = "\udcff" + "h" * 100  # a byte that is not UTF-8, as os.fsdecode gives it
    digest = hashlib.sha256(lone.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    assert bundle_name(lone) == "_" + "h" * 63 + f"~{digest}.facts"
    assert bundle_name("h" * 101) == "h" * 64 + f"~{hashlib.sha256(b'h' * 101).hexdigest()[:10]}.facts"
    assert bundle_name("X-1_b.c@d") == "X-1_b.c@d.facts"


def test_two_hosts_never_share_a_bundle_the_first_keeps_its_name():
    names = ["a/b", "hv1", "a_b", "a:b", "HV1", "hv2", "hv1#2", "hv1_2"]
    assert taken_names(names) == {
        2: "a_b: not collected: its bundle's file name a_b.facts is a/b's too (collect it into another --out)",
        3: "a:b: not collected: its bundle's file name a_b.facts is a/b's too (collect it into another --out)",
        4: "HV1: not collected: its bundle's file name HV1.facts is hv1's too (collect it into another --out)",
        7: "hv1_2: not collected: its bundle's file name hv1_2.facts is hv1#2's too (collect it into another --out)",
    }
    assert taken_names(["hv1", "hv2", "10.0.0.1"]) == {}


def test_a_host_whose_bundle_name_is_taken_is_a_line_and_is_not_contacted(tmp_path, monkeypatch):
    import virtnat.collect as collect
    contacted = []
    monkeypatch.setattr(collect, "collect_one", lambda target, out, time: contacted.append(target.name) or out / bundle_name(target.name))
    hosts = [SimpleNamespace(name=name) for name in ("a/b", "a_b", "hv1")]
    assert collect_bundles(hosts, tmp_path, "t") == [
        ("a/b", tmp_path / "a_b.facts"),
        ("a_b", "a_b: not collected: its bundle's file name a_b.facts is a/b's too (collect it into another --out)"),
        ("hv1", tmp_path / "hv1.facts")]
    assert sorted(contacted) == ["a/b", "hv1"]


def test_this_host_is_collected_into_one_bundle_that_audits_as_it(tmp_path):
    [host] = open_hosts("local://", None, timeout=5)
    target = Target(host, "qemu:///system")
    [(name, path)] = collect_bundles([target], tmp_path / "out" / "site", "2026-11-28T10:00:00+00:00")
    assert (name, path) == (HOSTNAME, tmp_path / "out" / "site" / bundle_name(HOSTNAME))
    assert read_bundle(path.read_bytes())[0] == Header(HOSTNAME, "2026-11-28T10:00:00+00:00", __version__)
    assert (target.stats.subprocesses, target.stats.remote_commands) == (1, 0)  # this host: a local process
    sections = BundleRun(path, name).sections()
    assert {"ip-link", "ip-addr", "runtime", "processes", "libvirt-version"} <= set(sections)  # links and virsh too
    facts = BundleTarget(path, "qemu:///system").facts
    assert "lo" in facts.links()


def test_a_host_that_cannot_be_reached_is_a_line_and_no_file(tmp_path):
    [host] = open_hosts("paramiko://127.0.0.1:1", None, timeout=2)
    [(name, why)] = collect_bundles([Target(host, "qemu:///system", deadline=Deadline(5, 2))], tmp_path, "t")
    assert (name, why) == ("127.0.0.1", REFUSED)
    assert list(tmp_path.iterdir()) == []


def test_collect_prints_each_bundle_and_exits_0(tmp_path, capsys):
    assert cli.main(["collect", f"--out={tmp_path / 'b'}"]) == 0
    assert capsys.readouterr().out == f"{HOSTNAME}: {tmp_path / 'b' / bundle_name(HOSTNAME)}\n"


def test_collects_lines_show_a_hosts_controls_escaped(tmp_path, capsys, monkeypatch):
    """A host named with a newline or an escape sequence neither forges a line nor reaches the terminal."""
    import virtnat.collect

    monkeypatch.setattr(virtnat.collect, "collect_bundles", lambda targets, out, time: iter([
        ("hv1\nhv2: /tmp/forged.facts", tmp_path / "hv1~1.facts"), ("hv\x1b]0;x\x07", "hv\x1b]0;x\x07: not collected: refused")]))
    assert cli.main(["collect", f"--out={tmp_path}"]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"hv1\\nhv2: /tmp/forged.facts: {tmp_path / 'hv1~1.facts'}\n"
    assert captured.err == "virtnat collect: hv\\x1b]0;x\\x07: not collected: refused\n"


def test_collect_says_which_host_failed_and_exits_1(tmp_path, capsys):
    assert cli.main(["collect", f"--out={tmp_path}", "--hosts=local://,paramiko://127.0.0.1:1", "--connect-timeout=2"]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"{HOSTNAME}: {tmp_path / bundle_name(HOSTNAME)}\n"
    assert captured.err == f"virtnat collect: {REFUSED}\n"  # the host named once


@pytest.mark.parametrize("args, says", [
    (["--profile=/nonexistent.toml"], "virtnat collect: profile /nonexistent.toml: file not found"),
    (["--hosts=bogus://hv1"], "virtnat collect: --hosts bogus://hv1: "),
    (["--hosts=ssh://"], "virtnat collect: --hosts ssh://: no host name"),
])
def test_collect_refuses_what_cannot_work_with_exit_4_and_contacts_nothing(tmp_path, capsys, args, says):
    assert cli.main(["collect", f"--out={tmp_path / 'b'}", *args]) == 4
    assert capsys.readouterr().err.startswith(says)
    assert not (tmp_path / "b").exists() or list((tmp_path / "b").iterdir()) == []


def test_collect_into_a_place_that_cannot_be_written_exits_4(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert cli.main(["collect", f"--out={tmp_path / 'file'}"]) == 4
    assert capsys.readouterr().err == f"virtnat collect: --out={tmp_path / 'file'}: cannot write reports there: Not a directory\n"


def test_collect_needs_out(capsys):
    assert cli.main(["collect"]) == 4
    assert "the following arguments are required: --out" in capsys.readouterr().err


def test_no_host_no_bundle(tmp_path):
    assert collect_bundles([], tmp_path / "out", "t") == [] and (tmp_path / "out").is_dir()


def test_a_host_past_its_deadline_is_one_line(home, silent_sshd):
    """The target's deadline holds: a server that takes the probe and never answers."""
    (home / ".ssh/known_hosts").write_text(silent_sshd.known_hosts_line())
    [host] = open_hosts(f"paramiko://alice:pw@127.0.0.1:{silent_sshd.port}", None, timeout=1)
    out = home / "out"
    target = Target(host, "qemu:///system", deadline=Deadline(0.3, 0))
    [(name, why)] = collect_bundles([target], out, "t")
    assert (name, why) == ("127.0.0.1", "127.0.0.1: probe did not finish within 0.3 s") and list(out.iterdir()) == []
    assert (target.stats.remote_commands, target.stats.subprocesses) == (1, 0)  # the probe went over the connection


@pytest.mark.parametrize("count, workers", [(0, 1), (1, 1), (3, 3), (40, 32)])
def test_every_host_is_collected_at_once_up_to_32(tmp_path, monkeypatch, count, workers):
    import virtnat.collect as collect
    made = []

    class Pool(collect.ThreadPoolExecutor):
        def __init__(self, max_workers):
            made.append(max_workers)
            super().__init__(max_workers)
    monkeypatch.setattr(collect, "ThreadPoolExecutor", Pool)
    monkeypatch.setattr(collect, "collect_one", lambda target, out, time: out / f"{target.name}.facts")
    hosts = [SimpleNamespace(name=f"hv{n}") for n in range(count)]
    assert collect_bundles(hosts, tmp_path, "t") == [(f"hv{n}", tmp_path / f"hv{n}.facts") for n in range(count)]
    assert made == [workers]


def test_collect_reads_the_profiles_libvirt_uri_and_stamps_the_time(tmp_path, capsys, monkeypatch):
    import datetime as dt

    import virtnat.collect as collect
    import virtnat.state as state
    profile = tmp_path / "site.toml"
    profile.write_text('[libvirt]\nuri = "qemu+ssh://root@hv1/system"\n')
    calls = []
    monkeypatch.setattr(state, "utc_now", lambda: dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.timezone.utc))
    monkeypatch.setattr(collect, "collect_bundles", lambda targets, out, time: calls.append((targets, out, time)) or [
        ("hv1", "cannot write /b/1.facts: Permission denied")])
    assert cli.main(["collect", f"--out={tmp_path / 'b'}", f"--profile={profile}"]) == 1
    [(targets, out, time)] = calls
    assert ([t.libvirt_uri for t in targets], out, time) == (["qemu+ssh://root@hv1/system"], tmp_path / "b", "2026-11-28T10:00:00+00:00")
    assert capsys.readouterr().err == "virtnat collect: hv1: cannot write /b/1.facts: Permission denied\n"  # the host named
