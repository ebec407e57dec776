"""Waivers: read from a profile or a file of their own, each mistake one line naming the entry;
which check on which host a waiver covers, and until when."""
import datetime as dt

import pytest

from virtnat.errors import ProfileError
from virtnat.profile import load_profile
from virtnat.waivers import Waiver, judge, load_waivers, parse_waivers

ENTRY = {"check": "HOST-03", "hosts": "hv-lab-*", "reason": "firewalld off  until\\nCHG-1234", "expires": dt.date(2026, 12, 31)}
TODAY = dt.date(2026, 11, 28)


def test_a_waiver_from_its_table():
    assert parse_waivers([ENTRY, {**ENTRY, "hosts": "*", "check": "NET-07"}], "w.toml") == (
        Waiver("HOST-03", "hv-lab-*", "firewalld off until\\nCHG-1234", "2026-12-31"),
        Waiver("NET-07", "*", "firewalld off until\\nCHG-1234", "2026-12-31"))
    without_hosts = {k: v for k, v in ENTRY.items() if k != "hosts"}
    assert parse_waivers([without_hosts], "w.toml")[0].hosts == "*"  # every host


@pytest.mark.parametrize("entries, says", [
    ({"check": "HOST-03"}, "w.toml: waiver: write each as a [[waiver]] table"),
    (["HOST-03"], "w.toml: waiver 1: write each as a [[waiver]] table"),
    ([ENTRY, {**ENTRY, "until": "x"}], "w.toml: waiver 2: unknown key 'until' (known: check, hosts, reason, expires)"),
    ([{k: v for k, v in ENTRY.items() if k != "reason"}], "w.toml: waiver 1: reason is missing (a waiver needs check, reason and expires)"),
    ([{k: v for k, v in ENTRY.items() if k != "check"}], "w.toml: waiver 1: check is missing (a waiver needs check, reason and expires)"),
    ([{k: v for k, v in ENTRY.items() if k != "expires"}], "w.toml: waiver 1: expires is missing (a waiver needs check, reason and expires)"),
    ([{**ENTRY, "check": "host-03"}], "w.toml: waiver 1: check 'host-03' is not a check id like HOST-03"),
    ([{**ENTRY, "check": "HOST-03 "}], "w.toml: waiver 1: check 'HOST-03 ' is not a check id like HOST-03"),
    ([{**ENTRY, "check": 3}], "w.toml: waiver 1: check 3 is not a check id like HOST-03"),
    ([{**ENTRY, "hosts": ""}], "w.toml: waiver 1: hosts '' is not a host name or pattern"),
    ([{**ENTRY, "hosts": ["hv1"]}], "w.toml: waiver 1: hosts ['hv1'] is not a host name or pattern"),
    ([{**ENTRY, "reason": " "}], "w.toml: waiver 1: reason is empty: say why the site accepts this"),
    ([{**ENTRY, "reason": 5}], "w.toml: waiver 1: reason is empty: say why the site accepts this"),
    ([{**ENTRY, "expires": "2026-12-31"}], "w.toml: waiver 1: expires '2026-12-31' is not a date like 2026-12-31 (unquoted)"),
    ([{**ENTRY, "expires": dt.datetime(2026, 12, 31, 1)}],
     "w.toml: waiver 1: expires datetime.datetime(2026, 12, 31, 1, 0) is not a date like 2026-12-31 (unquoted)"),
])
def test_a_wrong_waiver_is_one_line_naming_it(entries, says):
    with pytest.raises(ProfileError) as caught:
        parse_waivers(entries, "w.toml")
    assert str(caught.value) == says


def test_which_check_and_host_a_waiver_covers():
    waiver = Waiver("HOST-03", "hv-lab-*", "r", "2026-12-31")
    assert waiver.covers("HOST-03", "hv-lab-1")
    assert not waiver.covers("HOST-03", "hv-prod-1") and not waiver.covers("HOST-02", "hv-lab-1")
    assert not waiver.covers("HOST-03", "HV-LAB-1")  # host names are matched as written


def test_a_waiver_holds_through_its_last_day():
    waiver = Waiver("HOST-03", "*", "r", "2026-11-28")
    assert not waiver.expired(dt.date(2026, 11, 28)) and waiver.expired(dt.date(2026, 11, 29))


def test_judge_gives_the_live_waiver_and_the_expired_one():
    old = Waiver("HOST-03", "*", "old", "2026-01-31")
    live = Waiver("HOST-03", "hv1", "live", "2026-12-31")
    later = Waiver("HOST-03", "*", "later", "2027-01-31")
    assert judge((old, live, later), "HOST-03", "hv1", TODAY) == (live, old)  # the first that holds
    assert judge((old, live), "HOST-03", "hv2", TODAY) == (None, old)
    assert judge((old, Waiver("HOST-03", "*", "older", "2025-01-31")), "HOST-03", "hv2", TODAY) == (None, old)
    assert judge((live,), "NET-07", "hv1", TODAY) == (None, None)


def test_a_waiver_file(tmp_path):
    path = tmp_path / "waivers.toml"
    path.write_text('[[waiver]]\ncheck = "NET-07"\nreason = "bridge rebuilt"\nexpires = 2026-12-01\n')
    assert load_waivers(str(path)) == (Waiver("NET-07", "*", "bridge rebuilt", "2026-12-01"),)
    path.write_text("")
    assert load_waivers(str(path)) == ()


@pytest.mark.parametrize("content, says", [
    (None, "waivers {path}: file not found"),
    ("[[waiver]\n", "waivers {path}: not valid TOML: "),
    ("[network]\nname = 'x'\n", "waivers {path}: network: unknown (a waiver file holds [[waiver]] tables only)"),
    (b"\xff\xfe", "waivers {path}: cannot read: "),
    ('[[waiver]]\ncheck = "NET-07"\n', "waivers {path}: waiver 1: reason is missing"),
])
def test_a_waiver_file_that_cannot_be_used_is_one_line(tmp_path, content, says):
    path = tmp_path / "waivers.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ProfileError) as caught:
        load_waivers(str(path))
    assert str(caught.value).startswith(says.format(path=path)) and "\n" not in str(caught.value)


def test_a_profile_holds_waivers_too(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[network]\nname = "default"\n\n[[waiver]]\ncheck = "HOST-03"\nreason = "lab"\nexpires = 2026-12-31\n')
    profile = load_profile(str(path))
    assert profile.waivers == (Waiver("HOST-03", "*", "lab", "2026-12-31"),)
    assert profile.as_dict()["waivers"] == [{"check": "HOST-03", "hosts": "*", "reason": "lab", "expires": "2026-12-31"}]
    path.write_text('[[waiver]]\ncheck = "HOST-3"\nreason = "lab"\nexpires = 2026-12-31\n')
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    assert str(caught.value) == f"profile {path}: waiver 1: check 'HOST-3' is not a check id like HOST-03"


def test_a_profile_without_waivers_adds_to_a_waiver_file(tmp_path):
    """Found on the lab: a profile file without [[waiver]] held the defaults' list, and adding the
    --waivers file's tuple to it failed the run's start."""
    profile, waivers = tmp_path / "site.toml", tmp_path / "waivers.toml"
    profile.write_text('[network]\nname = "default"\n')
    waivers.write_text('[[waiver]]\ncheck = "NET-03"\nreason = "lab"\nexpires = 2026-12-31\n')
    assert load_profile(str(profile)).waivers + load_waivers(str(waivers)) == (Waiver("NET-03", "*", "lab", "2026-12-31"),)
