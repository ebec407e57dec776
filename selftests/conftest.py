"""The project's own tests. Unit tests need nothing; e2e tests bring up the lab once per run."""
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]  # in-process runs of the plugin (selftests/unit/test_plugin_runs.py)

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data():
    """Read a file recorded from a live host: data("libvirt9/iptables-save.txt")."""
    return lambda name: (DATA / name).read_text()
