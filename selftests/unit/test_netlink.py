"""Link facts of this machine through pyroute2, read-only: in-process, in the helper process,
and the helper's failures. `lo` is always there, and `ip -j` must agree about it."""
import json
import pickle
import subprocess
import sys

import pytest

from virtnat.collectors import Stats
from virtnat.collectors import netlink
from virtnat.collectors.netlink import NetlinkSource, dump
from virtnat.errors import FactError
from virtnat.facts.links import parse_ip_json


def ip_json(*args: str) -> str:
    return subprocess.run(["ip", "-j", *args], check=True, capture_output=True, text=True).stdout


def assert_is_loopback(lo):
    """What is true of lo on any Linux, up or down."""
    assert (lo.name, lo.index, lo.kind, lo.mac, lo.master, lo.stp_enabled) == ("lo", 1, None, "00:00:00:00:00:00", None, None)


def test_lo_read_in_process():
    links = dump()
    assert_is_loopback(links["lo"])
    assert all(name == facts.name for name, facts in links.items())


def test_netlink_and_ip_json_agree_on_lo():
    """Two readers of the same kernel state: pyroute2's messages and iproute2's JSON."""
    from_ip = parse_ip_json(ip_json("-d", "link", "show", "dev", "lo"), ip_json("addr", "show", "dev", "lo"))
    assert dump()["lo"] == from_ip["lo"]


def test_lo_addresses_follow_its_state():
    lo = dump()["lo"]
    if lo.admin_up:  # the kernel gives lo its address when it is brought up
        assert "127.0.0.1/8" in lo.addresses and lo.operstate == "UNKNOWN"
    else:
        assert lo.operstate == "DOWN"


def test_helper_process_gives_the_same_links_and_counts_itself():
    stats = Stats(subprocesses=2)  # the host's other processes so far
    source = NetlinkSource(stats)
    source.start()
    assert stats.subprocesses == 3
    links = source.collect()
    assert links["lo"] == dump()["lo"]
    assert set(links) == {link["ifname"] for link in json.loads(ip_json("link", "show"))}


def test_without_start_the_dump_runs_in_process():
    stats = Stats()
    assert NetlinkSource(stats).collect()["lo"] == dump()["lo"]
    assert stats.subprocesses == 0


def test_apart_starts_the_helper_at_the_first_collect_only():
    stats = Stats()
    source = NetlinkSource(stats, apart=True)
    assert stats.subprocesses == 0  # nothing runs until the links are asked for (the probe's `ip -j` failed)
    assert source.collect()["lo"] == dump()["lo"]
    assert stats.subprocesses == 1


def test_helper_without_stats_still_runs():
    source = NetlinkSource()
    source.start()
    assert_is_loopback(source.collect()["lo"])


def test_pyroute2_missing_in_process(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyroute2", None)  # what `import pyroute2` sees when it is not installed
    with pytest.raises(FactError) as err:
        dump()
    assert str(err.value) == "pyroute2 is not installed: pip install pyroute2"


@pytest.fixture
def shadow_pyroute2(tmp_path, monkeypatch):
    """A `pyroute2` package ahead of the real one on the helper's PYTHONPATH, with the given body."""
    def make(body: str):
        package = tmp_path / "pyroute2"
        package.mkdir()
        (package / "__init__.py").write_text(body)
        monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return make


@pytest.mark.parametrize("body, line", [
    ("raise ImportError('No module named pyroute2')\n", "pyroute2 is not installed: pip install pyroute2"),
    ("raise RuntimeError('netlink socket: Operation not permitted')\n", "RuntimeError: netlink socket: Operation not permitted"),
    ("import os\nos._exit(3)\n", "netlink helper exited 3"),  # dies saying nothing
    ("import os\nos.write(2, b'caf\\xe9: gone\\n')\nos._exit(1)\n", "caf\ufffd: gone"),  # not UTF-8
], ids=["no-pyroute2", "crash", "silent-exit", "latin1"])
def test_helper_failure_is_its_last_line(shadow_pyroute2, body, line):
    shadow_pyroute2(body)
    source = NetlinkSource(Stats())
    source.start()
    with pytest.raises(FactError) as err:
        source.collect()
    assert str(err.value) == line


def test_the_helper_runs_this_virtnat_whatever_is_first_on_pythonpath(tmp_path, monkeypatch):
    shadow = tmp_path / "virtnat"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise SystemExit('another virtnat')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    source = NetlinkSource(Stats())
    source.start()
    assert source.collect()["lo"] == dump()["lo"]


@pytest.fixture
def own_pyroute2_modules():
    """main() swaps pyroute2 in sys.modules for its light loading: put the real ones back."""
    saved = {name: mod for name, mod in sys.modules.items() if name == "pyroute2" or name.startswith("pyroute2.")}
    yield
    for name in [n for n in sys.modules if n == "pyroute2" or n.startswith("pyroute2.")]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_helper_main_writes_the_pickled_links(own_pyroute2_modules, capsysbinary):
    assert netlink.main() == 0
    links = pickle.loads(capsysbinary.readouterr().out)
    assert_is_loopback(links["lo"])
    assert not hasattr(sys.modules["pyroute2"], "NDB")  # the light package: IPRoute only


def test_helper_main_reports_a_missing_pyroute2(own_pyroute2_modules, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyroute2", None)
    assert netlink.main() == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "pyroute2 is not installed: pip install pyroute2\n")


def test_light_loading_falls_back_to_the_full_package(own_pyroute2_modules, shadow_pyroute2, tmp_path, monkeypatch):
    """A pyroute2 without iproute.linux: the light package is dropped, nothing half-loaded stays."""
    shadow_pyroute2("FULL = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [n for n in sys.modules if n == "pyroute2" or n.startswith("pyroute2.")]:
        del sys.modules[name]
    netlink._light_pyroute2()
    assert not any(n == "pyroute2" or n.startswith("pyroute2.") for n in sys.modules)
    import pyroute2
    assert pyroute2.FULL is True


def test_light_loading_does_nothing_without_pyroute2(own_pyroute2_modules, monkeypatch):
    monkeypatch.setattr(sys, "path", ["/nonexistent"])
    for name in [n for n in sys.modules if n == "pyroute2" or n.startswith("pyroute2.")]:
        del sys.modules[name]
    netlink._light_pyroute2()
    assert "pyroute2" not in sys.modules


def test_light_loading_leaves_a_single_module_pyroute2_alone(own_pyroute2_modules, tmp_path, monkeypatch):
    (tmp_path / "pyroute2.py").write_text("SINGLE = True\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    for name in [n for n in sys.modules if n == "pyroute2" or n.startswith("pyroute2.")]:
        del sys.modules[name]
    netlink._light_pyroute2()
    assert "pyroute2" not in sys.modules

