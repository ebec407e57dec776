"""Every check declares its control (id, title, impact, remediation), with an id of its own."""
from pathlib import Path

import pytest

from virtnat.controls import control_problem

BUILTIN = Path("/pkg/virtnat/catalog")
GOOD = {"id": "SITE-01", "title": "t", "impact": "high", "remediation": "virsh net-start lab"}


def check(path, function="test_a", **control):
    return Path(path), function, {**GOOD, **control}


def test_complete_controls_with_own_ids_are_fine():
    checks = [check(BUILTIN / "host/test_daemons.py", id="HOST-01"), check(BUILTIN / "host/test_daemons.py", id="HOST-01"),
              check("/site/test_site.py", "test_b")]  # a parametrized check comes once per parameter
    assert control_problem(checks, BUILTIN) is None


def test_no_marker():
    assert control_problem([(Path("/site/test_site.py"), "test_b", None)], BUILTIN) == (
        "/site/test_site.py::test_b is not a check: it has no @pytest.mark.control(id=..., title=..., impact=..., remediation=...)")


@pytest.mark.parametrize("change, lacks", [
    ({"id": None}, "id"),
    ({"title": ""}, "title"),
    ({"remediation": "  "}, "remediation"),
    ({"impact": 3, "title": 7}, "title, impact"),
])
def test_a_field_missing_or_empty(change, lacks):
    control = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    assert control_problem([(Path("/site/test_site.py"), "test_b", control)], BUILTIN) == (
        f"/site/test_site.py::test_b: its control marker lacks {lacks} (every check has id, title, impact, remediation)")


def test_an_unknown_impact():
    assert control_problem([check("/site/test_site.py", impact="severe")], BUILTIN) == (
        "/site/test_site.py::test_a: impact 'severe' is not one of low, medium, high, critical")


def test_a_built_in_id_reused():
    checks = [check(BUILTIN / "host/test_daemons.py", id="HOST-01"), check("/site/test_site.py", "test_b", id="HOST-01")]
    assert control_problem(checks, BUILTIN) == (
        "/site/test_site.py::test_b: id HOST-01 is already a built-in check's: give this check an id of its own")


def test_two_site_checks_with_one_id():
    checks = [check("/site/test_site.py"), check("/site/test_more.py", "test_c")]
    assert control_problem(checks, BUILTIN) == (
        "/site/test_more.py::test_c: id SITE-01 is already /site/test_site.py::test_a's: give this check an id of its own")


def test_a_built_in_file_without_marker_is_named_as_virtnats():
    assert control_problem([(BUILTIN / "vm/test_taps.py", "test_x", None)], BUILTIN).startswith("virtnat's vm/test_taps.py::test_x is not")
