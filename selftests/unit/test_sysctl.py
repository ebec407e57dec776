"""The persisted sysctl value: systemd-sysctl's precedence, Debian's 99-sysctl.conf link."""
from virtnat.facts.sysctl import boot_order, persisted_values, sysctl_conf_read_at_boot, unread_values

KEY = "net.ipv4.ip_forward"


def files(**by_path):
    return {path: (real, text) for path, (real, text) in by_path.items()}


def value(fs, key=KEY, systemd=True):
    return persisted_values(fs, [key], systemd).get(key)


def test_sysctl_conf_alone_without_systemd():
    """Without systemd the boot runs `sysctl --system`, which reads /etc/sysctl.conf last."""
    fs = {"/etc/sysctl.conf": ("/etc/sysctl.conf", "# comment\nnet.ipv4.ip_forward = 1\n")}
    assert value(fs, systemd=False) == ("1", "/etc/sysctl.conf")


def test_debian13_systemd_does_not_read_sysctl_conf():
    """Debian 13 dropped the 99-sysctl.conf link: the document's sysctl.conf line does not persist."""
    fs = {"/etc/sysctl.conf": ("/etc/sysctl.conf", "net.ipv4.ip_forward = 1\n"),
          "/etc/sysctl.d/README.sysctl": ("/etc/sysctl.d/README.sysctl", "")}
    assert value(fs) is None
    assert not sysctl_conf_read_at_boot(fs)


def test_etc_masks_usr_lib_file_of_same_name():
    fs = {
        "/usr/lib/sysctl.d/50-fwd.conf": ("/usr/lib/sysctl.d/50-fwd.conf", "net.ipv4.ip_forward=1\n"),
        "/etc/sysctl.d/50-fwd.conf": ("/etc/sysctl.d/50-fwd.conf", "net.ipv4.ip_forward=0\n"),
    }
    assert value(fs) == ("0", "/etc/sysctl.d/50-fwd.conf")


def test_later_name_wins_across_directories():
    fs = {
        "/etc/sysctl.d/10-on.conf": ("/etc/sysctl.d/10-on.conf", "net.ipv4.ip_forward=1\n"),
        "/usr/lib/sysctl.d/90-off.conf": ("/usr/lib/sysctl.d/90-off.conf", "net/ipv4/ip_forward = 0\n"),
    }
    assert value(fs)[0] == "0"


def test_debian_link_applies_sysctl_conf_in_its_place_not_again():
    conf = "net.ipv4.ip_forward=1\n"
    fs = {
        "/etc/sysctl.d/99-sysctl.conf": ("/etc/sysctl.conf", conf),
        "/etc/sysctl.d/99-zz-off.conf": ("/etc/sysctl.d/99-zz-off.conf", "net.ipv4.ip_forward=0\n"),
        "/etc/sysctl.conf": ("/etc/sysctl.conf", conf),
    }
    assert boot_order(fs)[-1] == "/etc/sysctl.d/99-zz-off.conf"
    assert value(fs)[0] == "0"


def test_sysctl_conf_comes_last_without_the_link_and_without_systemd():
    fs = {
        "/etc/sysctl.d/99-zz-off.conf": ("/etc/sysctl.d/99-zz-off.conf", "net.ipv4.ip_forward=0\n"),
        "/etc/sysctl.conf": ("/etc/sysctl.conf", "net.ipv4.ip_forward=1\n"),
    }
    assert value(fs, systemd=False) == ("1", "/etc/sysctl.conf")
    assert value(fs) == ("0", "/etc/sysctl.d/99-zz-off.conf")


def test_alias_glob_and_ignore_prefix():
    fs = {"/etc/sysctl.d/60-x.conf": ("/etc/sysctl.d/60-x.conf", "-net.ipv4.conf.all.forwarding = 1\n; note\nnet.ipv6.conf.*.forwarding=1\n")}
    assert value(fs)[0] == "1"  # conf.all.forwarding is ip_forward's alias
    assert value(fs, "net.ipv6.conf.all.forwarding")[0] == "1"


def test_unset_and_non_conf_files_are_ignored():
    fs = {"/etc/sysctl.d/README": ("/etc/sysctl.d/README", "net.ipv4.ip_forward=1\n")}
    assert value(fs) is None


def test_recorded_lab_probe(data):
    from virtnat.facts.probe import parse_probe

    facts = parse_probe(data("libvirt9/probe-healthy.txt"))
    assert facts.sysctl_persisted[KEY] == "1"
    assert facts.sysctl_sources[KEY] == "/etc/sysctl.d/99-sysctl.conf"
    assert facts.sysctl_runtime == {KEY: "1", "net.ipv4.conf.all.forwarding": "1", "net.ipv6.conf.all.forwarding": "1"}


def test_etc_masks_run_of_the_same_name_and_run_masks_usr_lib():
    same = "50-fwd.conf"
    fs = {f"/run/sysctl.d/{same}": (f"/run/sysctl.d/{same}", "net.ipv4.ip_forward=1\n"),
          f"/etc/sysctl.d/{same}": (f"/etc/sysctl.d/{same}", "net.ipv4.ip_forward=0\n")}
    assert value(fs) == ("0", f"/etc/sysctl.d/{same}")
    fs = {f"/run/sysctl.d/{same}": (f"/run/sysctl.d/{same}", "net.ipv4.ip_forward=1\n"),
          f"/usr/lib/sysctl.d/{same}": (f"/usr/lib/sysctl.d/{same}", "net.ipv4.ip_forward=0\n")}
    assert value(fs) == ("1", f"/run/sysctl.d/{same}")


def test_a_later_name_in_run_beats_an_earlier_one_in_etc():
    fs = {"/etc/sysctl.d/10-off.conf": ("/etc/sysctl.d/10-off.conf", "net.ipv4.ip_forward=0\n"),
          "/run/sysctl.d/90-on.conf": ("/run/sysctl.d/90-on.conf", "net.ipv4.ip_forward=1\n")}
    assert value(fs) == ("1", "/run/sysctl.d/90-on.conf")


def test_debian12_link_means_sysctl_conf_is_read_at_boot():
    fs = {"/etc/sysctl.conf": ("/etc/sysctl.conf", "net.ipv4.ip_forward = 1\n"),
          "/etc/sysctl.d/99-sysctl.conf": ("/etc/sysctl.conf", "net.ipv4.ip_forward = 1\n")}
    assert sysctl_conf_read_at_boot(fs, True) and value(fs)[0] == "1"


def test_assignments_exactly():
    from virtnat.facts.sysctl import normalize_key, parse_sysctl_text
    text = ("# c\n; c\n  \nkernel.x\n - net/ipv4/ip_forward =  1 \n a.b==c\n#net.ipv4.ip_forward=0\n"
            "  ;x=1\n--b.c = \n")
    assert parse_sysctl_text(text) == [("net.ipv4.ip_forward", "1"), ("a.b", "=c"), ("b.c", "")]
    assert normalize_key("  net/ipv4/conf/all/forwarding \n") == "net.ipv4.conf.all.forwarding"


def test_boot_order_exactly():
    names = ["/usr/lib/sysctl.d/10-a.conf", "/lib/sysctl.d/10-a.conf", "/lib/sysctl.d/05-z.conf",
             "/usr/local/lib/sysctl.d/20-b.conf", "/usr/local/lib/sysctl.d/10-a.conf", "/etc/sysctl.d/30-c.conf.bak",
             "/etc/sysctl.d/sub/40-d.conf", "/etc/60-e.conf", "/run/sysctl.d/99-f.conf", "/etc/sysctl.conf"]
    fs = {p: (p, "") for p in names}
    order = ["/lib/sysctl.d/05-z.conf", "/usr/local/lib/sysctl.d/10-a.conf", "/usr/local/lib/sysctl.d/20-b.conf",
             "/run/sysctl.d/99-f.conf"]
    assert boot_order(fs) == order
    assert boot_order(fs, systemd=False) == order + ["/etc/sysctl.conf"]
    assert not sysctl_conf_read_at_boot(fs) and sysctl_conf_read_at_boot(fs, systemd=False)
    assert boot_order({}) == [] and boot_order({}, systemd=False) == []


def test_without_systemd_the_linked_sysctl_conf_is_not_read_twice():
    fs = {"/etc/sysctl.d/99-sysctl.conf": ("/etc/sysctl.conf", ""), "/etc/sysctl.conf": ("/etc/sysctl.conf", ""),
          "/etc/sysctl.d/10-a.conf": ("/etc/sysctl.d/10-a.conf", "")}
    assert boot_order(fs, systemd=False) == ["/etc/sysctl.d/10-a.conf", "/etc/sysctl.d/99-sysctl.conf"]
    assert sysctl_conf_read_at_boot(fs, systemd=True)


def test_every_key_with_its_last_value_alias_and_glob():
    fs = {"/etc/sysctl.d/10-a.conf": ("/etc/sysctl.d/10-a.conf", "net.ipv4.ip_forward=1\nnet.ipv6.conf.all.forwarding=1\n"),
          "/etc/sysctl.d/20-b.conf": ("/etc/sysctl.d/20-b.conf", "net.ipv4.conf.all.forwarding=0\nnet.ipv6.conf.*.forwarding=2\n"
                                                                  "net.ipv4.conf.default.forwarding=5\nnet.ipv4.conf.all.forwardin?=7\n")}
    keys = ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv6.conf.all.forwarding", "net.ipv6.conf.default.x"]
    assert persisted_values(fs, keys) == {
        "net.ipv4.ip_forward": ("0", "/etc/sysctl.d/20-b.conf"),
        "net.ipv4.conf.all.forwarding": ("0", "/etc/sysctl.d/20-b.conf"),
        "net.ipv6.conf.all.forwarding": ("2", "/etc/sysctl.d/20-b.conf"),
    }
    assert persisted_values(fs, ["NET.ipv6.conf.all.forwarding"]) == {}


def test_only_hash_and_semicolon_start_comments_and_only_dashes_are_stripped():
    from virtnat.facts.sysctl import parse_sysctl_text
    assert parse_sysctl_text("X.y = 1\n-X.z=2\nXX-.w=3\n") == [("X.y", "1"), ("X.z", "2"), ("XX-.w", "3")]


def test_systemd_is_the_default_boot():
    fs = {"/etc/sysctl.conf": ("/etc/sysctl.conf", "net.ipv4.ip_forward=1\n")}
    assert persisted_values(fs, [KEY]) == {} and persisted_values(fs, [KEY], False) == {KEY: ("1", "/etc/sysctl.conf")}


def test_what_an_unread_sysctl_conf_sets_is_reported_and_only_then():
    """Debian 12 with its 99-sysctl.conf link removed: systemd-sysctl never applies sysctl.conf."""
    conf = "net.ipv4.ip_forward = 1\nnet.ipv6.conf.*.forwarding = 1\n"
    keys = [KEY, "net.ipv4.conf.all.forwarding", "net.ipv6.conf.all.forwarding", "net.ipv4.conf.all.rp_filter"]
    fs = {"/etc/sysctl.conf": ("/etc/sysctl.conf", conf)}
    assert unread_values(fs, keys) == {KEY: "1", "net.ipv4.conf.all.forwarding": "1", "net.ipv6.conf.all.forwarding": "1"}
    assert unread_values(fs, keys, systemd=False) == {}  # `sysctl --system` reads it
    linked = dict(fs, **{"/etc/sysctl.d/99-sysctl.conf": ("/etc/sysctl.conf", conf)})
    assert unread_values(linked, keys) == {}
    assert unread_values({"/etc/sysctl.d/60.conf": ("/etc/sysctl.d/60.conf", conf)}, keys) == {}
