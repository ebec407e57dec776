"""The lab comes up once per test run and goes down at the end.

VIRTNAT_KEEP_LAB=1 reuses a lab that is already up and leaves it running (for development).
"""
import os
import shutil

import pytest

from .lab11host import CONFIGS, Lab11
from .labhost import Lab
from .labsdhost import LabSD


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which("libvirtd") or not shutil.which("firewalld"):
        pytest.fail("the lab needs root and its packages: run `make lab-deps` (or `make test`)", pytrace=False)
    keep = os.environ.get("VIRTNAT_KEEP_LAB") == "1"
    host = Lab(tmp_path_factory.mktemp("lab"))
    if not (keep and host.lab("status", check=False).returncode == 0):
        host.lab("up")
    run = host.wait_healthy(timeout=90)
    if run.rc != 0:
        pytest.fail(f"the lab did not come up healthy: {run.stdout[-2000:]}", pytrace=False)
    yield host
    if not keep:
        host.lab("down", check=False)


@pytest.fixture(scope="session", params=list(CONFIGS))
def lab11(request, tmp_path_factory):
    """The libvirt 11 lab in each configuration, brought up once per run and shared by every
    module (pytest groups the tests by configuration), torn down before the next."""
    host = Lab11(request.param, tmp_path_factory.mktemp(request.param))
    host.control("up")
    yield host
    host.control("down")


@pytest.fixture(scope="session")
def labsd(tmp_path_factory):
    """The systemd lab (lab/labsd.sh, libvirt 9), booted once per run, down at the end.
    Its tree is built on first use (~2 min) and cached; a boot takes about 2 s."""
    if os.geteuid() != 0 or not shutil.which("systemd-nspawn") or not shutil.which("debootstrap"):
        pytest.fail("the systemd lab needs root, systemd-nspawn and debootstrap: run `make lab-deps` (or `make test`)",
                    pytrace=False)
    host = LabSD(tmp_path_factory.mktemp("labsd"))
    host.up("9")
    yield host
    host.control("down")
