"""A check's failure under --tb=no is its message alone (virtnat.failures): in-process runs on a
recording where checks fail, and the hooks on their own."""
from types import SimpleNamespace

import pytest

from selftests.unit.checkrun import DATA
from virtnat.failures import ShortFailures
from virtnat.state import CHECKS_DIR

DOCKER_NFT = DATA / "libvirt11-nftables" / "docker-forward-drop.txt"


def failed_call_reports(pytester, *args) -> dict:
    result = pytester.runpytest_inprocess(str(CHECKS_DIR), "-p", "no:cacheprovider", f"--report-dir={pytester.path / 'r'}",
                                          f"--facts={DOCKER_NFT}", *args)
    assert result.ret == 1
    reports = result.reprec.getreports("pytest_runtest_logreport")
    return {r.virtnat["id"]: r for r in reports if r.when == "call" and r.failed}


def test_under_tb_no_a_failed_checks_report_holds_its_message_alone(pytester):
    failed = failed_call_reports(pytester)
    assert sorted(failed) == ["HOST-11", "PATH-03"]
    for report in failed.values():
        assert isinstance(report.longrepr, str)
        assert report.longrepr.splitlines()[0] == report.virtnat["message"]
    assert "policy drop (Docker, whose chains are in this table)" in failed["PATH-03"].longrepr


def test_a_traceback_asked_for_is_pytests_own(pytester):
    failed = failed_call_reports(pytester, "--tb=short")
    assert sorted(failed) == ["HOST-11", "PATH-03"]
    for report in failed.values():
        assert not isinstance(report.longrepr, str) and report.virtnat["message"] in report.longreprtext
    assert "assert False" in failed["PATH-03"].longreprtext  # the assertion's explanation, kept


def drive_call(marker, raising=None):
    item = SimpleNamespace(get_closest_marker=lambda name: marker if name == "control" else None)
    hook = ShortFailures().pytest_pyfunc_call(item)
    next(hook)
    if raising is None:
        with pytest.raises(StopIteration) as done:
            hook.send(True)
        return done.value.value
    return hook.throw(raising)


ASSERTION = "net.ipv4.ip_forward is '0', expected '1'\nassert '0' == '1'"
CONTROL = pytest.mark.control(id="HOST-05").mark


def test_a_checks_failed_assertion_fails_with_its_message_alone():
    with pytest.raises(pytest.fail.Exception) as failed:
        drive_call(CONTROL, AssertionError(ASSERTION))
    assert (failed.value.msg, failed.value.pytrace) == (ASSERTION, False)
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


def test_a_test_that_is_no_check_keeps_its_assertion_and_a_pass_its_result():
    error = AssertionError(ASSERTION)
    with pytest.raises(AssertionError) as kept:
        drive_call(None, error)
    assert kept.value is error
    assert drive_call(CONTROL) is True


def excinfo_of(exc):
    try:
        raise exc
    except BaseException:
        return pytest.ExceptionInfo.from_current()


@pytest.mark.parametrize("exc", [None, pytest.skip.Exception("no guest"), pytest.fail.Exception("x", pytrace=True),
                                 AssertionError("x"), KeyError("x")],
                         ids=["passed", "skipped", "fail with a traceback", "an assertion", "a bug"])
def test_what_is_not_a_failure_without_traceback_is_left_to_pytest(exc):
    call = SimpleNamespace(excinfo=None if exc is None else excinfo_of(exc))
    assert ShortFailures().pytest_runtest_makereport(SimpleNamespace(), call) is None


def test_a_failure_without_traceback_is_reported_with_its_message_and_call():
    item = SimpleNamespace(nodeid="tests/host/test_bridge.py::test_x[hv1]", location=("tests/host/test_bridge.py", 9, "test_x[hv1]"),
                           keywords={"test_x[hv1]": 1, "control": 1}, user_properties=[("note", "n")])
    call = SimpleNamespace(excinfo=excinfo_of(pytest.fail.Exception("virbr0 is DOWN", pytrace=False)), when="setup",
                           duration=0.5, start=10.0, stop=10.5)
    report = ShortFailures().pytest_runtest_makereport(item, call)
    assert (report.nodeid, report.location, report.outcome, report.longrepr, report.when) == (
        item.nodeid, item.location, "failed", "virbr0 is DOWN", "setup")
    assert (report.duration, report.start, report.stop, report.user_properties) == (0.5, 10.0, 10.5, [("note", "n")])
    assert report.keywords == {"test_x[hv1]": 1, "control": 1} and report.sections == []
