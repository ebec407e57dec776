"""A check's failure under --tb=no (virtnat's default) is its message alone, as every report shows it.

pytest formats each failure's traceback even when --tb=no shows none: for a failed assertion,
with the repr of every fact the check was given; for any failure, the traceback filtered frame
by frame. That is 2-5 ms a failure, and a 1000-host audit has thousands. The plugin registers
this only where no traceback is asked for (--tb=no and no --pdb)."""
from __future__ import annotations

import pytest


class ShortFailures:
    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        """A check's failed assertion fails the check with the assertion's message."""
        try:
            return (yield)
        except AssertionError as exc:
            if pyfuncitem.get_closest_marker("control") is None:
                raise
            raise pytest.fail.Exception(str(exc), pytrace=False) from None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        """The report of a failure without a traceback (pytest.fail(..., pytrace=False), a
        check's assertion, a fact that cannot be read) holds its message; the rest is pytest's."""
        excinfo = call.excinfo
        if excinfo is None or not isinstance(excinfo.value, pytest.fail.Exception) or excinfo.value.pytrace:
            return None
        return pytest.TestReport(item.nodeid, item.location, dict.fromkeys(item.keywords, 1), "failed", str(excinfo.value),
                                 call.when, (), call.duration, call.start, call.stop, user_properties=item.user_properties)
