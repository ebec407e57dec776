"""facts/netconfig.py on link-config sections as probe.sh's link_config prints them: what
systemd-networkd and NetworkManager say they will set for a link's IPv4 forwarding at the next
boot, which of their files they read, and what cannot be known."""
import pytest

from virtnat.facts import netconfig

HEAD = "systemd 257\nudev running\nnetworkd enabled\nnm-version \nnm disabled"
NM_HEAD = "systemd 257\nudev running\nnetworkd disabled\nnm-version 1.54.0\nnm enabled"
UPLINK = "/etc/systemd/network/10-uplink.network"
MANAGED = {"ADMIN_STATE": "configured", "NETWORK_FILE": UPLINK}
KEYFILE = "/etc/NetworkManager/system-connections/uplink.nmconnection"


def section(files=(), states=None, head=HEAD, extra=""):
    """A link-config section: its first lines, each link's networkd state (@@link: a dict, or the
    file's text), each file framed (@@file) or masked (text None) in the probe's order."""
    out = [head]
    for index, state in (states or {}).items():
        lines = state.splitlines() if isinstance(state, str) else [f"{k}={v}" for k, v in state.items()]
        out += [f"@@link {index}", *(f"|{line}" for line in lines), ""]
    for path, text in files:
        out += [f"@@masked {path}"] if text is None else [f"@@file {path}", *(f"|{line}" for line in text.splitlines()), ""]
    return netconfig.parse_link_config("\n".join(out) + extra)


def link(text, *files, version=257, state=None):
    """What networkd sets for link 2, which UPLINK (text) configures."""
    config = section([(UPLINK, text), *files], {1: {"ADMIN_STATE": "unmanaged"}, 2: state or MANAGED},
                     head=HEAD.replace("257", str(version)))
    return netconfig.networkd_link(config, 2)


# -- the section ------------------------------------------------------------------------------

def test_masked_and_unreadable_files_are_kept_apart_from_the_read_ones():
    config = section([(UPLINK, "[Network]\nDHCP=yes"), ("/etc/systemd/network/99-default.network", None)],
                     extra="\n@@unreadable /etc/systemd/network/20-secret.network")
    assert config.masked == ("/etc/systemd/network/99-default.network",)
    assert config.unreadable == ("/etc/systemd/network/20-secret.network",)
    assert list(config.files) == [UPLINK]


def test_stray_lines_name_no_link():
    """A framed line before any @@link, and the lines after an @@link whose index is not a number
    (a corrupted section), go to no link's state."""
    config = netconfig.parse_link_config("|ADMIN_STATE=configured\n" + HEAD + "\n@@link x\n|ADMIN_STATE=configured\n"
                                         "@@link ²\n|NETWORK_FILE=/x.network\n@@link 3\n|ADMIN_STATE=unmanaged\n")
    assert config.link_states == {3: {"ADMIN_STATE": "unmanaged"}}
    assert config.systemd_version == 257


def test_a_section_without_its_first_lines_says_nothing_is_known():
    config = netconfig.parse_link_config("@@link 2\n|ADMIN_STATE=configured\n")
    assert (config.systemd_version, config.udev, config.networkd, config.nm_version, config.nm) == (None, False, None, None, None)
    assert not config.networkd_enabled and not config.nm_enabled
    assert netconfig.networkd_link(config, 2) == (None, None)


def test_a_state_file_keeps_what_follows_the_first_equals_sign():
    """networkd's state file: NETWORK_FILE= of a file whose name holds `=` (the probe prints such
    names), a comment line, a line without `=`."""
    odd = "/etc/systemd/network/10-lan=uplink.network"
    config = section([(odd, "[Network]\nIPv4Forwarding=no")],
                     {2: f"# This is private data. Do not parse.\nADMIN_STATE=configured\nOPER_STATE=routable\nNETWORK_FILE={odd}\n"
                         "NETWORK_FILE_DROPINS=\"\"\nDNS="})
    assert config.link_states[2]["NETWORK_FILE"] == odd
    assert netconfig.networkd_link(config, 2)[0] == netconfig.Setting("0", f"IPv4Forwarding= in {odd}")


# -- ini files --------------------------------------------------------------------------------

def test_ini_sections_blank_lines_comments_and_values_with_brackets():
    text = ("[Match]\nName=uplink0\n\n[Network]\n# IPv4Forwarding=yes\n;IPv4Forwarding=yes\nDescription=uplink [lab]\n\n"
            "IPv4Forwarding=no\n[DHCPv4]\nIPv4Forwarding=yes\n")
    assert link(text)[0] == netconfig.Setting("0", f"IPv4Forwarding= in {UPLINK}")


def test_a_value_networkd_does_not_parse_is_no_setting():
    setting, unknown = link("[Network]\nIPv4Forwarding=sometimes\nIPMasquerade=ipv4\n")
    assert setting == netconfig.Setting("1", f"IPMasquerade= in {UPLINK}") and unknown is None


# -- which files networkd reads ---------------------------------------------------------------

def test_drop_ins_apply_in_file_name_order_across_directories():
    setting = link("[Network]\n",
                   ("/etc/systemd/network/10-uplink.network.d/50-on.conf", "[Network]\nIPv4Forwarding=yes"),
                   ("/usr/lib/systemd/network/10-uplink.network.d/60-off.conf", "[Network]\nIPv4Forwarding=no"))[0]
    assert setting == netconfig.Setting("0", "IPv4Forwarding= in /usr/lib/systemd/network/10-uplink.network.d/60-off.conf")


@pytest.mark.parametrize("mask", [None, ""], ids=["linked-to-dev-null", "empty"])
def test_a_masked_drop_in_hides_the_one_of_the_same_name_in_a_later_directory(mask):
    hidden = ("/usr/lib/systemd/network/10-uplink.network.d/50-off.conf", "[Network]\nIPv4Forwarding=no")
    masking = ("/etc/systemd/network/10-uplink.network.d/50-off.conf", mask)
    assert link("[Network]\nIPv4Forwarding=yes", hidden, masking)[0].value == "1"
    assert link("[Network]\nIPv4Forwarding=yes", hidden)[0].value == "0"


def test_the_global_setting_comes_from_the_first_networkd_conf_and_every_drop_in():
    lib = ("/usr/lib/systemd/networkd.conf", "[Network]\nIPv4Forwarding=no")
    config = section([lib], {2: MANAGED})
    assert netconfig.networkd_global(config) == netconfig.Setting("0", "IPv4Forwarding= in /usr/lib/systemd/networkd.conf")
    for etc in ("[Network]\n#IPv4Forwarding=\n", None):  # an /etc copy (edited, or masked) hides it
        assert netconfig.networkd_global(section([lib, ("/etc/systemd/networkd.conf", etc)], {2: MANAGED})) is None
    dropin = ("/etc/systemd/networkd.conf.d/90-on.conf", "[Network]\nIPv4Forwarding=yes")
    config = section([lib, ("/etc/systemd/networkd.conf", None), dropin], {2: MANAGED})
    assert netconfig.networkd_global(config) == netconfig.Setting("1", "IPv4Forwarding= in /etc/systemd/networkd.conf.d/90-on.conf")


def test_the_global_setting_is_networkd_256s_and_enabled_ones_only():
    conf = ("/etc/systemd/networkd.conf", "[Network]\nIPv4Forwarding=yes")
    assert netconfig.networkd_global(section([conf], head=HEAD.replace("257", "256"))).value == "1"
    assert netconfig.networkd_global(section([conf], head=HEAD.replace("257", "255"))) is None
    assert netconfig.networkd_global(section([conf], head=HEAD.replace("enabled", "disabled"))) is None
    assert netconfig.networkd_global(section([conf], head=HEAD.replace("257", ""))) is None


def test_a_link_that_masquerades_turns_the_global_setting_on_for_the_others():
    """PR 34014: networkd 256.x turns the global IPv4Forwarding= on for a link configured with
    IPMasquerade=; a link configured without IPv4Forwarding= then takes it. The other links: lo
    (unmanaged), one still being set up (no .network file yet), one whose file cannot be read."""
    ve, lo = "/usr/lib/systemd/network/80-container-ve.network", "/etc/systemd/network/05-all.network"
    states = {1: {"ADMIN_STATE": "unmanaged", "NETWORK_FILE": lo}, 2: MANAGED, 3: {"ADMIN_STATE": "pending"},
              4: {"ADMIN_STATE": "configured", "NETWORK_FILE": "/etc/systemd/network/30-x.network"},
              5: {"ADMIN_STATE": "configured", "NETWORK_FILE": ve}}
    files = [(lo, "[Network]\nIPMasquerade=yes"), (UPLINK, "[Network]\nIPMasquerade=no"), (ve, "[Network]\nIPMasquerade=both")]
    config = section(files, states, extra="\n@@unreadable /etc/systemd/network/30-x.network")
    source = f"IPMasquerade= in {ve}, which turns the global IPv4Forwarding= on"
    assert netconfig.networkd_global(config) == netconfig.Setting("1", source)
    assert netconfig.networkd_link(config, 2)[0] == netconfig.Setting("1", f"networkd's global {source} "
                                                                            f"(no IPv4Forwarding= in {UPLINK})")
    del states[5]
    assert netconfig.networkd_global(section(files, states, extra="\n@@unreadable /etc/systemd/network/30-x.network")) is None


# -- what networkd sets for a link ------------------------------------------------------------

def test_which_links_networkd_manages():
    for head in (HEAD.replace("networkd enabled", "networkd disabled"), HEAD.replace("257", "")):
        config = section([(UPLINK, "[Network]\nIPv4Forwarding=no")], {2: MANAGED}, head=head)
        assert netconfig.networkd_link(config, 2) == (None, None)
    assert link("[Network]\nIPv4Forwarding=no", state={"ADMIN_STATE": "unmanaged", "NETWORK_FILE": UPLINK}) == (None, None)
    assert link("[Network]\nIPv4Forwarding=no", state={"ADMIN_STATE": "configuring"}) == (None, None)
    assert link("[Network]\nIPv4Forwarding=no", state={"NETWORK_FILE": UPLINK}) == (None, None)  # a state cut short
    assert link("[Network]\nIPv4Forwarding=no", state={"ADMIN_STATE": "configured", "NETWORK_FILE": "/run/x.network"}) == (
        None, "/run/x.network, the .network file of the link, could not be read")


@pytest.mark.parametrize("value, expected", [("yes", "1"), ("ipv4", "1"), ("both", "1"), ("no", "0"), ("ipv6", "0"),
                                             ("kernel", None)])
def test_networkd_256_takes_the_deprecated_ipforward_for_ipv4forwarding(value, expected):
    setting, _ = link(f"[Network]\nIPForward={value}\nIPMasquerade=no\n", version=256)
    assert setting == (netconfig.Setting(expected, f"IPForward= in {UPLINK}") if expected else None)
    # IPv4Forwarding= comes first
    assert link(f"[Network]\nIPForward={value}\nIPv4Forwarding=yes\n", version=256)[0].source == f"IPv4Forwarding= in {UPLINK}"


@pytest.mark.parametrize("text, said", [("IPForward=ipv4", "IPForward"), ("IPForward=both", "IPForward"),
                                        ("IPMasquerade=yes", "IPMasquerade"), ("IPForward=no\nIPMasquerade=ipv4", "IPMasquerade")])
def test_networkd_before_256_turns_ip_forward_on(text, said):
    assert link(f"[Network]\n{text}\n", version=255) == (netconfig.Setting("1", f"{said}= in {UPLINK}", "all"), None)


def test_networkd_before_256_turns_nothing_off():
    assert link("[Network]\nIPForward=ipv6\nIPMasquerade=no\n", version=255) == (None, None)


# -- NetworkManager ---------------------------------------------------------------------------

def keyfile(*lines, path=KEYFILE, head=NM_HEAD, extra=""):
    return netconfig.nm_connection(section([(path, "\n".join(lines))], head=head, extra=extra), "uplink0")


@pytest.mark.parametrize("said, value", [("yes", "1"), ("1", "1"), ("no", "0"), ("0", "0")])
def test_a_keyfiles_forwarding(said, value):
    setting, name, note = keyfile("[connection]", "id=Wired uplink", "interface-name=uplink0", "[ipv4]", f"forwarding={said}")
    assert (setting, name, note) == (
        netconfig.Setting(value, f"ipv4.forwarding={said} of NetworkManager's connection 'Wired uplink' ({KEYFILE})"),
        "Wired uplink", None)


def test_a_keyfile_without_id_or_forwarding_is_named_by_its_file_and_not_modelled():
    setting, name, note = keyfile("[connection]", "interface-name=uplink0", "[ipv4]", "method=auto")
    assert (setting, name) == (None, "uplink")
    assert note == f"NetworkManager's ipv4.forwarding=default of connection 'uplink' ({KEYFILE}) is not modelled"


def test_the_connection_keys_are_the_connection_sections_own():
    """A VLAN's keyfile has an id= of its [vlan] too; a connection id may hold `=`."""
    setting, name, _ = keyfile("[connection]", "id=uplink vlan=10", "type=vlan", "interface-name=uplink0", "[vlan]", "id=10",
                               "parent=eth0", "[ipv4]", "forwarding=no")
    assert (setting.value, name) == ("0", "uplink vlan=10")


@pytest.mark.parametrize("autoconnect, taken", [("false", False), ("no", False), ("true", True), ("", True)])
def test_a_connection_that_does_not_autoconnect_sets_nothing_at_boot(autoconnect, taken):
    lines = ["[connection]", "id=up", "interface-name=uplink0"] + ([f"autoconnect={autoconnect}"] if autoconnect else [])
    setting = keyfile(*lines, "[ipv4]", "forwarding=no")[0]
    assert setting == (netconfig.Setting("0", f"ipv4.forwarding=no of NetworkManager's connection 'up' ({KEYFILE})")
                       if taken else None)


def test_networkmanager_installed_but_not_enabled_or_older_sets_nothing():
    lines = ("[connection]", "id=up", "interface-name=uplink0", "[ipv4]", "forwarding=no")
    assert keyfile(*lines, head=NM_HEAD.replace("nm enabled", "nm disabled")) == (None, None, None)
    assert keyfile(*lines, head=NM_HEAD.replace("1.54.0", "1.52.4")) == (None, None, None)
    assert keyfile(*lines)[0].value == "0"


def test_keyfiles_that_could_not_be_read_are_named():
    unread = "\n@@unreadable /etc/NetworkManager/system-connections/a.nmconnection" \
             "\n@@unreadable /etc/NetworkManager/system-connections/b.nmconnection\n@@unreadable /etc/systemd/networkd.conf"
    assert keyfile("[connection]", "interface-name=eth1", extra=unread) == (None, None, (
        "NetworkManager's keyfiles /etc/NetworkManager/system-connections/a.nmconnection, "
        "/etc/NetworkManager/system-connections/b.nmconnection could not be read"))
    assert keyfile("[connection]", "interface-name=eth1") == (None, None, None)
