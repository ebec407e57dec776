"""Whatever a host is called, its audit's reports are written (under a safe, short file name of
its own), and a report that cannot be written leaves no earlier run's latest copy behind."""
import json

import pytest

from selftests.unit.checkrun import DATA
from virtnat.collectors.bundle import bundle_bytes
from virtnat.state import CHECKS_DIR

HEALTHY = (DATA / "libvirt9" / "healthy.txt").read_text()


def _audit(pytester, host: str, *args):
    bundle = pytester.path / "hv.facts"
    bundle.write_bytes(bundle_bytes(host, "2026-12-07T10:00:00+00:00", HEALTHY))
    reports = pytester.path / "reports"
    result = pytester.runpytest_inprocess(str(CHECKS_DIR), "-p", "no:cacheprovider", f"--report-dir={reports}",
                                          f"--facts={bundle}", *args)
    return result, reports


@pytest.mark.parametrize("host", ["h" * 300, "hv1\x00evil", "../../../tmp/x", ".hv1", "hv 1;rm -rf ~", "é" * 200],
                         ids=["300 characters", "a NUL", "dot-dot slashes", "a leading dot", "spaces and ;", "200 é"])
def test_any_host_name_gets_its_reports(pytester, host):
    result, reports = _audit(pytester, host)
    assert result.ret == 0, result.stdout.str()
    names = sorted(p.name for p in reports.iterdir())
    stamped = [n for n in names if not n.startswith("latest")]
    assert {n.rsplit(".", 1)[1] for n in stamped} == {"json", "html", "xml"} and "latest.json" in names
    assert all(len(n) < 100 and "/" not in n and "\x00" not in n and not n.startswith(".") for n in names)
    assert json.loads((reports / "latest.json").read_text())["hosts"][0]["host"] == host
    assert [p for p in pytester.path.parent.iterdir() if p.name == "x"] == []


def test_a_report_that_cannot_be_written_leaves_no_earlier_latest(pytester, monkeypatch):
    """The earlier run passed. This run's JSON and page cannot be written (something else holds
    their names): latest.json and latest.html go, the terminal says why, and the exit is 1."""
    import datetime as dt

    from virtnat import state

    result, reports = _audit(pytester, "hv1")
    assert result.ret == 0 and (reports / "latest.json").exists() and (reports / "latest.html").exists()
    monkeypatch.setattr(state, "utc_now", lambda: dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc))
    for suffix in ("json", "html"):
        (reports / f"hv1-20261207T100000Z.{suffix}").mkdir()
    again, _ = _audit(pytester, "hv1")
    assert again.ret == 1
    assert not (reports / "latest.json").exists() and not (reports / "latest.html").exists()
    out = again.stdout.str()
    assert f"virtnat: removed {reports / 'latest.json'}: it showed an earlier run" in out
    assert f"virtnat: removed {reports / 'latest.html'}: it showed an earlier run" in out
