"""The picture of a host's packet path: which piece each check judges, each piece's state in colour
and words, and the SVG itself, parsed as XML."""
import xml.etree.ElementTree as ET

import pytest

from selftests.unit.report_docs import PIECES, XSS, checks
from virtnat.report import picture
from virtnat.report.picture import CHECK_PIECES, host_picture, piece_of, piece_state, piece_status

SVG = "{http://www.w3.org/2000/svg}"


def check(id_, outcome="passed", subject=None):
    return {"id": id_, "title": "t", "impact": "high", "subject": subject, "outcome": outcome, "message": ""}


def pieces_of(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("data-piece"): g for g in root.iter(f"{SVG}g") if g.get("data-piece")}


def lines(g: ET.Element) -> list[str]:
    return [t.text for t in g.iter(f"{SVG}text")]


def test_every_check_of_today_judges_the_piece_the_issue_names():
    expected = {"guests": "VM-01 VM-02 VM-03 VM-04", "bridge": "NET-06 NET-07 NET-08 NET-09 NET-10",
                "forwarding": "HOST-05 HOST-06 HOST-07",
                "firewall": "HOST-02 HOST-03 NET-11 NET-12 NET-14 NET-16 PATH-03 PATH-04",
                "uplink": "HOST-08 HOST-09", "dnsmasq": "NET-13 NET-15 PATH-01 PATH-02",
                "libvirt": "HOST-01 HOST-04 NET-01 NET-02 NET-03 NET-04 NET-05"}
    assert {p: " ".join(sorted(i for i in CHECK_PIECES if CHECK_PIECES[i] == p)) for p in expected} == expected
    assert len(CHECK_PIECES) == 33 == len({c["id"] for c in checks()})


@pytest.mark.parametrize("id_, piece", [("HOST-10", "libvirt"), ("NET-17", "libvirt"), ("VM-05", "guests"),
                                        ("PATH-05", "other"), ("CIS-1", "other"), ("", "other"), (None, "other")])
def test_a_new_id_goes_to_its_areas_piece_or_to_other(id_, piece):
    assert piece_of(id_) == piece


@pytest.mark.parametrize("outcomes, state, status", [
    ([], "none", "no checks"),
    (["passed", "passed"], "passed", "ok"),
    (["passed", "skipped"], "skipped", "ok · 1 skipped"),
    (["skipped", "skipped"], "skipped", "skipped"),
    (["passed", "waived"], "waived", "ok · 1 waived"),
    (["waived", "skipped", "error"], "error", "1 error · 1 waived"),
    (["error", "failed", "failed", "passed"], "failed", "2 failing · 1 error"),
    (["error", "error"], "error", "2 errors"),
    (["mystery"], "error", "1 error"),  # an outcome the page does not know is never a pass
])
def test_the_worst_outcome_wins_and_is_said_in_words(outcomes, state, status):
    judged = [check("NET-07", o) for o in outcomes]
    assert (piece_state(judged), piece_status(judged)) == (state, status)


def test_each_piece_links_to_its_checks_with_its_state_title_and_fact_line():
    judged = [check("NET-07", "failed"), check("NET-09", "waived"), check("HOST-03", "skipped"), check("NET-11"),
              check("HOST-05"), check("VM-03", "failed", "vm1:vnet0"), check("VM-03", subject="vm2:vnet1")]
    svg = host_picture("hv1", judged, {**PIECES, "guests": [{"guest": "vm1", "tap": "vnet0"}, {"guest": "vm2", "tap": "vnet1"}]},
                       "h4")
    found = pieces_of(svg)
    assert {p: g.get("data-state") for p, g in found.items()} == {
        "guests": "failed", "bridge": "failed", "forwarding": "passed", "firewall": "skipped", "uplink": "none",
        "dnsmasq": "none", "libvirt": "none", "outside": "none"}
    bridge = found["bridge"]
    link = bridge.find(f"{SVG}a")
    assert link.get("href") == "#h4-p-bridge"
    assert link.find(f"{SVG}title").text.startswith("bridge: 1 failing · 1 waived. virbr0 · UP")
    assert lines(bridge) == ["bridge", "1 failing · 1 waived", "virbr0 · UP ·", "192.168.122.1/24 ·", "STP on"]
    assert lines(found["guests"])[2:] == ["✗ vm1 · vnet0", "vm2 · vnet1"]
    assert [t.get("class") for t in found["guests"].iter(f"{SVG}text")][2:] == ["fact g-failed", "fact g-passed"]
    assert found["outside"].find(f"{SVG}a") is None  # nothing is checked there
    assert ET.fromstring(svg).find(f"{SVG}title").text.startswith("Packet path of hv1")


def test_markup_in_a_name_stays_text_and_a_long_fact_is_cut_with_the_whole_in_the_title():
    long_uplink = "default via 10.0.0.1 dev eth0 " * 6
    svg = host_picture(f"{XSS}'", [check("VM-01", subject=f"{XSS}:vnet0")], {"uplink": long_uplink}, "h0")
    root = ET.fromstring(svg)
    assert not [e for e in root.iter() if e.tag.endswith("img")]
    assert root.get("aria-label") == f"packet path of {XSS}'"
    found = pieces_of(svg)
    assert lines(found["guests"])[2] == "<img src=x onerror=a…"  # guest names from the checks' subjects
    uplink = lines(found["uplink"])[2:]
    assert len(uplink) == 4 and uplink[-1].endswith("…") and all(len(line) <= 21 for line in uplink)
    assert " ".join(long_uplink.split()) in found["uplink"].find(f"{SVG}a/{SVG}title").text


def test_unknown_pieces_say_so_and_many_guests_are_counted():
    svg = host_picture("hv1", [check("NET-07", "error")], {"bridge": None, "guests": "not a list"}, "h0")
    found = pieces_of(svg)
    assert lines(found["bridge"]) == ["bridge", "1 error", "unknown"]
    assert lines(found["guests"]) == ["guests", "no checks", "unknown"]
    many = [{"guest": f"vm{i}", "tap": f"vnet{i}"} for i in range(7)]
    guests = lines(pieces_of(host_picture("hv1", [], {"guests": many}))["guests"])
    assert guests[2:] == ["vm0 · vnet0", "vm1 · vnet1", "vm2 · vnet2", "vm3 · vnet3", "+3 more"]
    assert lines(pieces_of(host_picture("hv1", [], {"guests": []}))["guests"])[2:] == ["no running guest"]


def test_the_anchor_prefix_cannot_break_out_of_its_attribute():
    svg = host_picture("hv1", [], {}, 'h0" onclick="x')
    assert {a.get("href") for a in ET.fromstring(svg).iter(f"{SVG}a")} == {
        f"#h0-onclick-x-p-{p}" for p in picture.PIECES}


def test_an_anchor_is_its_parts_joined_by_dashes_with_nothing_else():
    from virtnat.report.markup import anchor
    assert anchor("X1", "NET-0X") == "X1-NET-0X"
    assert anchor("-a b", "c/d-") == "a-b-c-d" and anchor("", "<>") == "x"


def test_a_line_as_long_as_its_box_is_kept_whole_and_a_longer_one_is_cut():
    assert picture._clip("a" * 21, 21) == "a" * 21 and picture._clip("a" * 22, 21) == "a" * 20 + "…"


def test_the_guests_box_with_no_guest_and_with_as_many_as_it_shows():
    assert picture._guest_lines([], []) == ([("fact", "no running guest")], "no running guest")
    four = [(f"vm{n}", f"vnet{n}", "") for n in range(picture.GUEST_LINES)]
    lines, _ = picture._guest_lines(four, [])
    assert [text for _, text in lines] == ["vm0 · vnet0", "vm1 · vnet1", "vm2 · vnet2", "vm3 · vnet3"]  # no "more" line
    errored = [{"id": "VM-04", "subject": "vm1:vnet1", "outcome": "error"}, {"id": "VM-04", "subject": "vm2:vnet2", "outcome": "failed"}]
    lines, _ = picture._guest_lines(four, errored)
    assert [text for _, text in lines][1:3] == ["✗ vm1 · vnet1", "✗ vm2 · vnet2"]


def test_a_guest_named_with_a_colon_keeps_it_in_its_name():
    checks = [{"id": "VM-01", "subject": "web:01:vnet3", "outcome": "passed"}]
    assert picture._guests({}, checks) == [("web:01", "vnet3", "")]


def test_a_picture_without_pieces_shows_every_fact_unknown_and_boxes_off_the_chain_one_line():
    svg = ET.fromstring(host_picture("hv1", [], None))
    assert {g.get("data-piece") for g in svg.iter(f"{SVG}g") if g.get("data-piece")} >= set(picture.PIECES)
    assert lines(pieces_of(host_picture("hv1", [], None))["bridge"])[-1] == "unknown"
    long = "libvirt 9.0.0 · network default active, autostart, bridge virbr0 192.168.122.1/24 and more words"
    libvirt = pieces_of(host_picture("hv1", [], {"libvirt": long}))["libvirt"]
    assert lines(libvirt) == ["libvirt", "no checks", "libvirt 9.0.0 · network default active, autostart,…"]  # one line


def test_a_picture_links_to_the_first_hosts_lists_by_default():
    assert {a.get("href") for a in ET.fromstring(host_picture("hv1", [], {})).iter(f"{SVG}a")} == {
        f"#h0-p-{p}" for p in picture.PIECES}
