"""docs/site-checks.md is the site checks' API: every fixture the plugin gives a check and every
field of the types they hold, under the version virtnat.CHECKS_API says. A fixture or field
added, renamed or removed fails here until the document (and the version) say so."""
import dataclasses
import re
from pathlib import Path

import pytest

import virtnat
from virtnat import fixtures
from virtnat.facts import model
from virtnat.profile import Profile

DOC = (Path(__file__).resolve().parents[2] / "docs" / "site-checks.md").read_text()
TYPES = {"Profile": Profile, **{name: getattr(model, name) for name in (
    "LibvirtFacts", "NetworkFacts", "NetworkDefinition", "DhcpRange", "GuestNic", "LinkFacts", "RouteFacts",
    "SystemFacts", "UnitsFacts", "FirewallFacts")}}


def _rows(section: str) -> list[str]:
    """The first column of the table under a `### `name`` heading, or of the fixtures' table."""
    body = DOC.split(section, 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", body, re.M)


def test_the_document_states_the_api_version():
    assert f"## The fixtures: API version {virtnat.CHECKS_API}\n" in DOC
    assert f"virtnat.CHECKS_API == {virtnat.CHECKS_API}," in DOC


def test_every_fixture_a_check_may_use_is_documented():
    given = {name for name, value in vars(fixtures).items() if hasattr(value, "_fixture_function_marker")
             or type(value).__name__ == "FixtureFunctionDefinition"}
    given |= {"profile", "target"}  # the run's fixture (RunFixtures) and the plugin's parametrization
    given = {name for name in given if not name.startswith("_")}
    assert set(_rows("| fixture | what it holds |")) == given


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_field_and_property_of_each_type_is_documented(name):
    kind = TYPES[name]
    properties = {attr for attr, value in vars(kind).items() if isinstance(value, property) and not attr.startswith("_")}
    assert set(_rows(f"### `{name}`\n")) == {f.name for f in dataclasses.fields(kind)} | properties


def test_the_example_checks_use_only_documented_fixtures():
    documented = set(_rows("| fixture | what it holds |"))
    folder = Path(__file__).resolve().parents[2] / "examples" / "site-checks"
    for path in folder.glob("test_*.py"):
        for args in re.findall(r"^def test_\w+\(([^)]*)\)", path.read_text(), re.M):
            assert {a.strip() for a in args.split(",") if a.strip()} <= documented, path.name
