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


def test_the_section_s_own_lines_are_read_by_their_whole_word():
    units = parse_units("socket  virtqemud \nsocket libvirt\nsystemd running \nId=libvirtd.service\n"
                        "After=a=b.service firewalld.service\n")
    assert units.libvirt_sockets == ("virtqemud", "libvirt") and units.systemd and units.systemctl
    assert units.units["libvirtd.service"].after == ("a=b.service", "firewalld.service")  # the value: all after the first =
    assert not parse_units("socket libvirt\n").systemd  # no word of systemd: not running
    assert parse_units("systemd not-running\nId=libvirtd.service\n").units == {}


def test_without_systemd_shown_blocks_are_not_units():
    units = parse_units("systemd not-running\nId=libvirtd.service\nActiveState=active\n\n"
                        "@@unit firewalld.service \n@@file /lib/systemd/system/firewalld.service\n|[Unit]\n")
    assert list(units.units) == ["firewalld.service"]
    assert units.units["firewalld.service"].enabled == "unknown"  # is-enabled said nothing


def test_is_enabled_failing_for_another_reason_is_kept_as_it_said():
    denied = "Failed to get unit file state for libvirtd.service: Permission denied"
    units = parse_units(f"systemd not-running\n@@unit libvirtd.service {denied}\n@@unit virtqemud.service "
                        "Failed to get unit file state for virtqemud.service: No such file or directory\n").units
    assert units["libvirtd.service"].enabled == denied and units["virtqemud.service"].enabled == "not-found"


def test_a_bracket_in_a_value_does_not_open_a_section():
    units = parse_units("systemd not-running\n@@unit libvirtd.service enabled\n@@file /lib/systemd/system/libvirtd.service\n"
                        "|[Unit]\n|Description=libvirt [virtualization daemon]\n|After=firewalld.service\n|[Service]\n"
                        "|After=ignored.service\n").units
    assert units["libvirtd.service"].after == ("firewalld.service",)


def test_a_unit_s_files_are_matched_by_their_last_path_component():
    units = parse_units("systemd not-running\n@@unit libvirtd.service enabled\n"
                        "@@file /etc/systemd/system/libvirtd.service.d/libvirtd.service\n|[Unit]\n|After=x.service\n"
                        "@@file /lib/systemd/system/libvirtd.service\n|[Unit]\n|After=y.service\n"
                        "@@file /etc/systemd/system/libvirtd.service.d/z.conf\n|[Unit]\n|After=z.service\n"
                        "@@file /lib/systemd/system/libvirtd.service.d/z.conf\n|[Unit]\n|After=hidden.service\n"
                        "@@unreadable /etc/systemd/system/other.service.d/libvirtd.service.d\n").units
    unit = units["libvirtd.service"]
    assert unit.files == ("/etc/systemd/system/libvirtd.service.d/libvirtd.service", "/etc/systemd/system/libvirtd.service.d/z.conf")
    assert unit.after == ("x.service", "z.service")


def test_an_unreadable_unit_file_is_matched_by_its_name_alone():
    text = "systemd not-running\n@@unit libvirtd.service enabled\n@@file /lib/systemd/system/libvirtd.service\n|[Unit]\n"
    assert parse_units(text + "@@unreadable /etc/systemd/system/libvirtd.service\n").units["libvirtd.service"].after is None
    assert parse_units(text + "@@unreadable /etc/libvirtd.service/x\n").units["libvirtd.service"].after == ()
