"""Root conftest: the checks in tests/ run through virtnat's pytest plugin.

Installed (pip install -e .), the plugin loads through its pytest11 entry point, early
enough for its options to be parsed; from a bare checkout it is loaded from src/ here.
"""
import sys
from importlib.metadata import entry_points
from pathlib import Path

if not any(ep.name == "virtnat" for ep in entry_points(group="pytest11")):
    sys.path.insert(0, str(Path(__file__).parent / "src"))
    pytest_plugins = ["virtnat.plugin"]
