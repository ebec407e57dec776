"""Profiles and waiver files that are hostile: special files, too large, nested too deeply, or
anything else tomllib cannot parse; each is one line naming the file, never a traceback."""
import tomllib

import pytest

import virtnat.inputs as inputs
from virtnat.errors import ProfileError
from virtnat.profile import load_profile
from virtnat.tomlfile import deeper_than, read_toml
from virtnat.waivers import load_waivers

LOADERS = [("profile", load_profile), ("waivers", load_waivers)]


@pytest.mark.parametrize("label, load", LOADERS)
def test_a_special_file_is_refused_at_once(specials, no_hang, label, load):
    for path, what in specials.items():
        with pytest.raises(ProfileError) as error:
            load(str(path))
        assert str(error.value) == f"{label} {path}: {what}, not a regular file: give the {label} file itself"


@pytest.mark.parametrize("label, load", LOADERS)
def test_a_file_over_1_mib_is_refused_unread(tmp_path, label, load):
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * (1024 * 1024 - 3) + "\n")  # 1 MiB exactly: a comment, read
    assert read_toml(path, label) == {}
    path.write_text("# " + "x" * (1024 * 1024 - 2) + "\n")
    with pytest.raises(ProfileError) as error:
        load(str(path))
    assert str(error.value) == f"{label} {path}: larger than 1 MiB, the limit of a {label} file: give the {label} file itself"


NESTED = {
    "arrays": "a = " + "[" * 5000 + "]" * 5000,                      # tomllib recurses: RecursionError
    "inline tables": "a = " + "{b = " * 3000 + "1" + "}" * 3000,
    "dotted keys": "a" + ".a" * 100 + " = 1",                         # parsed, but 101 levels deep
    "a table header": "[" + ".".join(["t"] * 200) + "]\nx = 1",
    "arrays of tables": "[[" + ".".join(["w"] * 40) + "]]\n",
    "just past the limit": "a = " + "[" * 32 + "]" * 32,               # 33 levels with the file's own table
}


@pytest.mark.parametrize("label, load", LOADERS)
@pytest.mark.parametrize("form", NESTED)
def test_nesting_past_32_levels_is_one_line(tmp_path, label, load, form):
    path = tmp_path / "nested.toml"
    path.write_text(NESTED[form])
    with pytest.raises(ProfileError) as error:
        load(str(path))
    assert str(error.value) == f"{label} {path}: nested too deeply (more than 32 levels of tables and arrays)"


def test_32_levels_are_read(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 31 + "]" * 31)
    assert deeper_than(read_toml(path, "profile"), 31) and not deeper_than(read_toml(path, "profile"), 32)


@pytest.mark.parametrize("text, says", [
    ("a = " + "9" * 5000, "not valid TOML: ValueError: Exceeds the limit (4300 digits) for integer string conversion"),
    ("a = 2026-02-30", "not valid TOML: Invalid date or datetime (at line 1, column 5)"),
    ("a = 1\na = 2", "not valid TOML: Cannot overwrite a value (at end of document)"),
    ("\x00", "not valid TOML: Invalid statement (at line 1, column 1)"),
])
def test_whatever_the_parser_raises_is_one_line(tmp_path, text, says):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as error:
        load_profile(str(path))
    message = str(error.value)
    assert message.startswith(f"profile {path}: {says}") and "\n" not in message and len(message) < 300 + len(str(path))


def test_an_odd_error_of_the_parser_is_its_first_line_cut_at_200_characters(tmp_path, monkeypatch):
    path = tmp_path / "p.toml"
    path.write_text("a = 1\n")
    for raised, says in ((RuntimeError("x" * 300 + "\nsecond"), "RuntimeError: " + "x" * 200), (KeyError(), "KeyError: ")):
        def loads(text, raised=raised):
            raise raised
        monkeypatch.setattr(tomllib, "loads", loads)
        with pytest.raises(ProfileError) as error:
            read_toml(path, "profile")
        assert str(error.value) == f"profile {path}: not valid TOML: {says}"


def test_depth_is_measured_without_recursion():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert deeper_than(deep, 32) and not deeper_than({"a": [1, {"b": 2}]}, 3) and deeper_than({"a": [1, {"b": 2}]}, 2)
    assert not deeper_than(1, 0) and deeper_than({}, 0) and not deeper_than({}, 1) and deeper_than([[]], 1)


def test_the_limits_are_module_settings(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "TOML_DEPTH", 2)
    path = tmp_path / "p.toml"
    path.write_text("[network]\nname = 'default'\n")
    assert read_toml(path, "profile") == {"network": {"name": "default"}}
    path.write_text("[network]\nname = ['default']\n")
    with pytest.raises(ProfileError, match="nested too deeply \\(more than 2 levels"):
        read_toml(path, "profile")
