"""The units parser's and the stopped-daemon helpers' edges: what systemd leaves out, what a
daemon with no unit at all gives, several daemons stopped at once."""
from virtnat.facts.model import UnitFacts, UnitsFacts
from virtnat.facts.units import describe_stopped, libvirt_stopped, parse_stopped, parse_units


def test_a_shown_unit_without_file_state_order_or_trigger():
    units = parse_units("systemd running\nId=libvirtd.service\nLoadState=loaded\nActiveState=active\n\n"
                        "Id=virtnetworkd.service\nLoadState=not-found\n").units
    assert units["libvirtd.service"] == UnitFacts(name="libvirtd.service", enabled="unknown", loaded="loaded", active="active",
                                                  after=(), triggered_by=())
    assert units["virtnetworkd.service"].enabled == "not-found" and units["virtnetworkd.service"].active is None


def _units(**shown) -> UnitsFacts:
    return UnitsFacts(True, True, {name: UnitFacts(name, "enabled", "loaded", active, ()) for name, active in shown.items()},
                      ("virtqemud",))


def test_stopped_daemons_without_units_or_states_are_unknown():
    # virtqemud's socket: the client takes virtqemud, which asks virtnetworkd for networks
    assert libvirt_stopped(_units(**{"virtqemud.service": "active"})) == (("virtnetworkd", "unknown", "unknown"),)
    assert libvirt_stopped(_units(**{"virtqemud.service": "active", "virtnetworkd.service": None, "virtnetworkd.socket": None})) == (
        ("virtnetworkd", "unknown", "unknown"),)
    assert libvirt_stopped(_units(**{"virtqemud.service": "active", "virtnetworkd.service": "failed",
                                     "virtnetworkd.socket": "active"})) == (("virtnetworkd", "failed", "active"),)


def test_several_stopped_daemons_are_described_one_after_the_other():
    stopped = parse_stopped("virtqemud.service inactive virtqemud.socket active\nvirtnetworkd.service failed\n"
                            "socket virtqemud\n.service\n")
    assert stopped == (("virtqemud", "inactive", "active"), ("virtnetworkd", "failed", "unknown"))
    assert describe_stopped(stopped) == ("virtqemud.service is inactive, virtqemud.socket is active; "
                                         "virtnetworkd.service is failed, virtnetworkd.socket is unknown")
