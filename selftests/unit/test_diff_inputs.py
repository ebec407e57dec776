"""`virtnat diff` on hostile inputs: whatever it is given, the answer is a diff (exit 0 or 1)
or one line naming the file and the problem (exit 2), never a traceback; and nothing a report
holds reaches the terminal as a control or starts a line of its own."""
import copy
import json
import os
import threading

import pytest

from virtnat import cli
from virtnat.report.diff import JSON_DEPTH, JSON_LIMIT


def check(id_="NET-07", outcome="passed", subject=None, message="virbr0 is up"):
    return {"id": id_, "title": "t", "impact": "critical", "subject": subject, "outcome": outcome,
            "message": message, "remediation": "ip link set virbr0 up"}


def document(*hosts):
    return {"tool": "virtnat", "version": "0.1.0", "started": "2026-11-27T22:19:57+00:00",
            "finished": "2026-11-27T22:19:59+00:00", "profile": None,
            "hosts": [{"host": name, "summary": {}, "checks": checks} for name, checks in hosts]}


GOOD = document(("hv1", [check(), check("VM-02", "failed", "g:vnet0", "vnet0 is not on virbr0")]))


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(GOOD))
    return str(path)


def diff(argv, capsys):
    """cli.main's exit code, stdout and stderr; it must end within seconds (a FIFO must not block it)."""
    done = []
    worker = threading.Thread(target=lambda: done.append(cli.main(["diff", *argv])), daemon=True)
    worker.start()
    worker.join(10)
    assert done, "virtnat diff did not finish"
    captured = capsys.readouterr()
    return done[0], captured.out, captured.err


def refused(path, good, capsys) -> str:
    """The one line diff answers for the bad file at path, given as OLD and as NEW: exit 2, no output."""
    lines = set()
    for argv in ([str(path), good], [good, str(path)]):
        code, out, err = diff(argv, capsys)
        assert (code, out) == (2, "") and err.endswith("\n") and err.count("\n") == 1
        assert err.startswith(f"virtnat diff: cannot read {path}: ")
        lines.add(err[:-1])
    [line] = lines
    return line[len(f"virtnat diff: cannot read {path}: "):]


@pytest.mark.parametrize("content, says", [
    ("[" * 100000, "nested too deeply"),
    ('{"a": ' * 100000, "nested too deeply"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    (json.dumps({**GOOD, "profile": json.loads("[" * (JSON_DEPTH + 1) + "]" * (JSON_DEPTH + 1))}), "nested too deeply"),
    ('{"tool": "virtnat", "hosts": [], "n": ' + "1" * 5000 + "}", "not JSON: "),
    (b"\xff\xfe\x00garbage", "not JSON: "),
    (b'{"tool": "virtnat\xc3"}', "not JSON: "),
    ("", "not JSON: "),
    ("null", "not a virtnat audit report"),
    ('"virtnat"', "not a virtnat audit report"),
])
def test_malformed_json_is_one_line_exit_2(tmp_path, good, capsys, content, says):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert says in refused(bad, good, capsys)


def test_a_fifo_is_refused_at_once(tmp_path, good, capsys):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # no writer: reading it would block for ever
    assert refused(fifo, good, capsys) == "a FIFO, not a regular file"


@pytest.mark.parametrize("path, says", [("/dev/zero", "a character device"), ("/dev/null", "a character device")])
def test_a_device_is_refused_unread(good, capsys, path, says):
    assert refused(path, good, capsys) == f"{says}, not a regular file"


def test_a_directory_and_a_missing_file_are_refused(tmp_path, good, capsys):
    assert refused(tmp_path, good, capsys) == "a directory, not a regular file"
    assert refused(tmp_path / "nothing.json", good, capsys) == "No such file or directory"
    (tmp_path / "loop.json").symlink_to(tmp_path / "loop.json")
    assert refused(tmp_path / "loop.json", good, capsys) == "Too many levels of symbolic links"


def test_a_file_over_the_limit_is_refused_unread(tmp_path, good, capsys):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as out:
        out.truncate(JSON_LIMIT + 1)  # sparse: nothing is written, and nothing must be read
    assert refused(huge, good, capsys) == "larger than 256 MiB, the limit of a JSON report"


def test_nesting_up_to_the_limit_is_read(tmp_path, good, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text(json.dumps({**GOOD, "profile": json.loads("[" * (JSON_DEPTH - 1) + "]" * (JSON_DEPTH - 1))}))
    assert diff([str(deep), good], capsys) == (0, "no changes\n", "")


@pytest.mark.parametrize("twice", ["hv1", "hv1\x1b[2J"])
def test_a_host_listed_twice_is_a_usage_error_naming_it_and_the_file(tmp_path, good, capsys, twice):
    bad = tmp_path / "twice.json"
    bad.write_text(json.dumps(document((twice, [check()]), ("hv2", []), (twice, [check(outcome="failed")]))))
    shown = twice.replace("\x1b", "\\x1b")
    assert refused(bad, good, capsys) == (f"hosts[2]: host '{shown}' is listed twice (also hosts[0]):"
                                          " an audit report lists each host once")


# Every place of a report that diff reads, and values of every wrong kind for it.
PLACES = [(), ("tool",), ("hosts",), ("hosts", 0), ("hosts", 0, "host"), ("hosts", 0, "checks"), ("hosts", 0, "checks", 0),
          *[("hosts", 0, "checks", 1, key) for key in ("id", "subject", "outcome", "message")]]
HOSTILE = [None, True, 0, -1.5, 1e308, "", "x" * 100000, "\x1b]0;owned\x07", "\ud800", [], [None], {}, {"id": "NET-07"},
           json.loads("[" * 50 + "]" * 50)]


def planted(place, value):
    doc = copy.deepcopy(GOOD)
    if not place:
        return value
    parent = doc
    for key in place[:-1]:
        parent = parent[key]
    parent[place[-1]] = value
    return doc


@pytest.mark.parametrize("place", PLACES, ids=lambda place: "/".join(map(str, place)) or "document")
def test_any_value_anywhere_gives_a_diff_or_one_line(tmp_path, good, capsys, place):
    path = tmp_path / "planted.json"
    for value in HOSTILE:
        path.write_text(json.dumps(planted(place, value)))
        for argv in ([str(path), good], [good, str(path)]):
            code, out, err = diff(argv, capsys)
            assert (code == 2 and out == "" and err.count("\n") == 1 and len(err) < 400) or (code in (0, 1) and err == "")
            for text in (out, err):
                text.encode("utf-8")  # strict: no lone surrogate
                assert not {"\x1b", "\x07", "\r"} & set(text)


@pytest.mark.parametrize("check_id", ["NET-²", "NET-" + "9" * 5000, "NET-١٢", "-", "", "NET-07\nHOST-01 PASSED"])
def test_odd_check_ids_are_diffed(tmp_path, good, capsys, check_id):
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(document(("hv1", [check(check_id, "failed"), check("NET-1", "passed")]))))
    code, out, err = diff([good, str(odd)], capsys)
    assert code == 1 and err == "" and out.count("\n") == 5  # the header and four changes
    if "\n" in check_id:
        assert "  NET-07\\nHOST-01 PASSED absent -> failed   virbr0 is up" in out.splitlines()


def test_names_and_messages_are_shown_inert(tmp_path, good, capsys):
    hostile = "hv1\nhv1: 0 changes, 0 worse\x1b]0;owned\x07"
    new = tmp_path / "new.json"
    new.write_text(json.dumps(document((hostile, [check("VM-02", "failed", "g\x9b2J:vnet0", "tap\x1b[31m gone\u2028x")]))))
    code, out, err = diff([good, str(new)], capsys)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "hv1: 2 changes, 2 worse",
        "  NET-07           passed -> absent   host hv1 is not in the new audit",
        "  VM-02[g:vnet0]   failed -> absent   host hv1 is not in the new audit",
        "hv1\\nhv1: 0 changes, 0 worse\\x1b]0;owned\\x07: 1 change, 1 worse",
        "  VM-02[g\\x9b2J:vnet0] absent -> failed   tap\\x1b[31m gone x",
    ]
