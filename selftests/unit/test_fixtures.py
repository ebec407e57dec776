"""The fixtures checks take (fixtures.py): what one does when the facts it serves are missing."""
import pytest

from virtnat import fixtures


def test_a_fixture_whose_facts_are_missing_fails_with_that_one_line_and_no_traceback():
    with pytest.raises(pytest.fail.Exception) as failed:
        fixtures._fail_if("the probe's units section is missing")
    assert (failed.value.msg, failed.value.pytrace) == ("the probe's units section is missing", False)


def test_a_fixture_whose_facts_are_there_goes_on():
    assert fixtures._fail_if(None) is None and fixtures._fail_if("") is None
