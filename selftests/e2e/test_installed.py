"""virtnat as its users install it: the wheel built from this checkout (and the wheel built from
its sdist, which holds the same files), installed into a fresh virtualenv, run from a folder
outside the checkout. It audits the lab locally and over SSH as the checkout does, runs the
site's own checks (examples/site-checks) beside the built-in ones, and, as a plain pytest
plugin, runs the built-in checks with `pytest --pyargs virtnat.catalog`. `virtnat` writes
nothing inside the virtualenv (pytest itself caches the plugins it rewrites, virtnat's too,
unless PYTHONDONTWRITEBYTECODE is set: the README says so)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from virtnat.collectors.libvirt_api import NO_LIBVIRT_PYTHON

from .labhost import ADDRS, NS, ROOT, AuditRun

SITE_CHECKS = ROOT / "examples" / "site-checks"
NOBODY = 65534  # Debian's nobody and nogroup


def _files(tree: Path) -> dict[str, int]:
    """Every file under tree with its modification time in ns: a file written or changed shows."""
    return {str(p.relative_to(tree)): p.lstat().st_mtime_ns for p in tree.rglob("*") if not p.is_dir()}


class Installed:
    """A fresh virtualenv holding the wheel, in a folder every user can read, and a place to work
    outside the checkout."""

    def __init__(self, base: Path, wheel: Path, extras: str = "[libvirt]"):
        self.base = base
        self.venv = base / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True, timeout=120)
        subprocess.run([str(self.venv / "bin" / "pip"), "install", "-q", f"{wheel}{extras}"], check=True, timeout=900,
                       capture_output=True)
        self.work = base / "work"
        self.work.mkdir()
        self.files = _files(self.venv)  # as installed
        self.runs = 0

    def run(self, *args: str, inside: bool = False, program: str = "virtnat", env: dict | None = None,
            user: int | None = None) -> AuditRun:
        """The installed tool, run from the work folder (inside=True: in the lab's namespace, a
        local audit). Reports go where --report-dir says; the JSON to --audit-json's path, else
        the document named by the last `virtnat: JSON ...` line."""
        self.runs += 1
        cmd = [str(self.venv / "bin" / program), *args]
        if user:
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]  # uid = gid here
        if inside:
            cmd = ["ip", "netns", "exec", NS, *cmd]
        environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as a user's shell has it
        run = subprocess.run(cmd, cwd=self.work, capture_output=True, text=True, timeout=300, env={**environ, **(env or {})})
        output = run.stdout + run.stderr
        doc = None
        for arg in args:
            if arg.startswith("--audit-json="):
                path = Path(arg.split("=", 1)[1])
                doc = json.loads(path.read_text()) if path.exists() else None
        return AuditRun(run.returncode, output, doc, self.work)

    def written_inside(self) -> list[str]:
        """Files added to or changed in the virtualenv since it was installed."""
        now = _files(self.venv)
        return sorted(name for name, mtime in now.items() if self.files.get(name) != mtime)


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """`make dist`'s steps: the sdist and the wheel built from it; and the wheel built straight
    from the checkout, as `pip wheel .` makes it."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out / "sdist"), str(ROOT)], check=True,
                   capture_output=True, timeout=600)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out / "direct"), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def installed(dist):
    base = Path(tempfile.mkdtemp(prefix="virtnat-installed-"))
    base.chmod(0o755)  # another user runs the installed tool too
    yield Installed(base, next((dist / "direct").glob("virtnat-*.whl")))
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def bare(dist):
    """The wheel alone, without its libvirt extra: what installs where there is no C compiler."""
    base = Path(tempfile.mkdtemp(prefix="virtnat-bare-"))
    yield Installed(base, next((dist / "direct").glob("virtnat-*.whl")), extras="")
    shutil.rmtree(base, ignore_errors=True)


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return sorted(archive.namelist())


def test_the_dist_passes_twine_and_both_wheels_hold_the_same_files(dist):
    [sdist] = (dist / "sdist").glob("virtnat-*.tar.gz")
    [from_sdist] = (dist / "sdist").glob("virtnat-*.whl")
    [direct] = (dist / "direct").glob("virtnat-*.whl")
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(from_sdist)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert _names(from_sdist) == _names(direct)
    shipped = _names(direct)
    checks = sorted(str(p.relative_to(ROOT / "tests")) for p in (ROOT / "tests").rglob("test_*.py"))
    assert [n for n in shipped if n.startswith("virtnat/catalog/") and n.endswith(".py") and "/test_" in n] == \
        [f"virtnat/catalog/{c}" for c in checks]
    assert "virtnat/profiles/default.toml" in shipped and "virtnat/facts/probe.sh" in shipped


def _verdicts(doc: dict) -> list[tuple]:
    return [(c["id"], c["subject"], c["outcome"], c["message"]) for host in doc["hosts"] for c in host["checks"]]


def test_the_installed_tool_audits_the_lab_locally_as_the_checkout_does(lab, installed):
    out = installed.base / "local"
    here = lab.audit()
    there = installed.run("audit", f"--report-dir={out}", f"--audit-json={out / 'a.json'}", inside=True)
    assert there.rc == 0, there.stdout
    assert _verdicts(there.doc) == _verdicts(here.doc)
    assert len(there.doc["hosts"][0]["checks"]) >= 36
    assert {p.suffix for p in out.iterdir()} == {".json", ".html", ".xml"}
    assert installed.written_inside() == []


def test_the_installed_tool_audits_the_lab_over_ssh_as_the_checkout_does(lab, installed):
    cfg = lab.ssh_config(installed.base / "ssh-config")
    host = ADDRS[0]
    here = lab.audit(f"--hosts=ssh://{host}", f"--ssh-config={cfg}", inside=False)
    out = installed.base / "remote"
    there = installed.run("audit", f"--hosts=ssh://{host}", f"--ssh-config={cfg}", f"--report-dir={out}",
                          f"--audit-json={out / 'a.json'}")
    assert there.rc == 0, there.stdout
    assert there.doc["hosts"][0]["host"] == host
    assert _verdicts(there.doc) == _verdicts(here.doc)
    assert installed.written_inside() == []


def test_reports_go_to_the_documented_default(lab, installed):
    """No --report-dir: a person's reports go to their XDG state directory, a systemd unit's to
    its StateDirectory=."""
    home, state = installed.base / "home", installed.base / "state"
    person = installed.run("audit", inside=True, env={"HOME": str(home), "XDG_STATE_HOME": ""})
    assert person.rc == 0, person.stdout
    reports = home / ".local" / "state" / "virtnat" / "reports"
    assert f"virtnat: JSON {reports}/" in person.stdout
    assert (reports / "latest.json").exists() and (reports / "latest.html").exists()
    unit = installed.run("audit", inside=True, env={"STATE_DIRECTORY": str(state)})
    assert unit.rc == 0, unit.stdout
    assert json.loads((state / "reports" / "latest.json").read_text())["hosts"][0]["summary"]["failed"] == 0
    assert installed.written_inside() == []


def test_another_user_runs_every_check_from_the_installed_tool(lab, installed):
    """Not root: nobody audits a bundle the installed tool collected from the lab; its reports go
    to its own state directory; every check runs."""
    bundles = installed.base / "bundles"
    collected = installed.run("collect", f"--out={bundles}", inside=True)
    assert collected.rc == 0, collected.stdout
    bundles.chmod(0o755)
    for bundle in bundles.iterdir():
        bundle.chmod(0o644)
    home = installed.base / "nobody"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    run = installed.run("audit", f"--facts={bundles}", user=NOBODY, env={"HOME": str(home), "XDG_STATE_HOME": ""})
    assert run.rc == 0, run.stdout
    reports = home / ".local" / "state" / "virtnat" / "reports"
    doc = json.loads((reports / "latest.json").read_text())
    checks = doc["hosts"][0]["checks"]
    assert len(checks) >= 36 and {c["outcome"] for c in checks} <= {"passed", "skipped"}
    assert installed.written_inside() == []


def _site_audit(installed, name, *args):
    out = installed.base / name
    prom = out / "virtnat.prom"
    run = installed.run("audit", f"--checks={installed.base / 'site-checks'}", f"--report-dir={out}",
                        f"--audit-json={out / 'a.json'}", f"--prometheus={prom}", *args, inside=True)
    return run, out, prom


def test_the_sites_own_checks_run_beside_the_built_in_ones(lab, installed):
    shutil.copytree(SITE_CHECKS, installed.base / "site-checks", dirs_exist_ok=True)
    run, out, prom = _site_audit(installed, "site")
    assert run.rc == 1, run.stdout
    checks = {c["id"]: c for c in run.doc["hosts"][0]["checks"]}
    assert checks["SITE-01"]["outcome"] == "passed" and checks["SITE-02"]["outcome"] == "failed"
    assert checks["SITE-02"]["message"] == "network 'backup' is not defined (defined: default)"
    assert checks["SITE-02"]["remediation"].startswith("virsh net-define /etc/libvirt/site/backup.xml")
    assert {c["outcome"] for i, c in checks.items() if not i.startswith("SITE")} <= {"passed", "skipped"}
    assert "SITE-02 FAILED  The site's backup network 'backup' is defined, active and autostarted" in run.stdout
    [page] = out.glob("*-2*.html")
    assert "SITE-01" in page.read_text() and "SITE-02" in page.read_text()
    [junit] = out.glob("*.xml")
    cases = {case.get("name"): case for case in ElementTree.parse(junit).iter("testcase")}
    site = {name: case for name, case in cases.items() if "SITE-0" in name}
    assert {name.split("[")[0] for name in site} == {"SITE-01", "SITE-02"}  # SITE-01 once per guest interface
    assert [name for name, case in site.items() if case.find("failure") is not None] == ["SITE-02"]
    metrics = prom.read_text()
    assert 'check="SITE-01"' not in metrics and 'check="SITE-02"' in metrics  # by default the checks that did not pass

    waived, _, prom = _site_audit(installed, "waived", f"--waivers={installed.base / 'site-checks' / 'waivers.toml'}")
    assert waived.rc == 0, waived.stdout
    site02 = next(c for c in waived.doc["hosts"][0]["checks"] if c["id"] == "SITE-02")
    assert site02["outcome"] == "waived" and "storage migration" in site02["waiver"]["reason"]
    assert 'check="SITE-02"' in prom.read_text()
    assert installed.written_inside() == []


@pytest.mark.parametrize("source, says", [
    ("def test_bare(links):\n    assert links\n",
     "test_site_bad.py::test_bare is not a check: it has no @pytest.mark.control(id=..., title=..., impact=..., remediation=...)"),
    ("import pytest\n\n@pytest.mark.control(id='HOST-01', title='t', impact='low', remediation='r')\n"
     "def test_mine(links):\n    assert links\n",
     "test_site_bad.py::test_mine: id HOST-01 is already a built-in check's: give this check an id of its own"),
    ("import pytest\n\n@pytest.mark.control(title='t', impact='low', remediation='r')\n"
     "def test_anonymous(links):\n    assert links\n",
     "test_site_bad.py::test_anonymous: its control marker lacks id (every check has id, title, impact, remediation)"),
], ids=["no control", "a built-in id", "no id"])
def test_a_bad_site_check_is_a_usage_error_of_one_line(lab, installed, source, says):
    folder = installed.base / "bad"
    folder.mkdir(exist_ok=True)
    (folder / "test_site_bad.py").write_text(source)
    out = installed.base / "bad-reports"
    run = installed.run("audit", f"--checks={folder}", f"--report-dir={out}", f"--audit-json={out / 'a.json'}", inside=True)
    assert run.rc == 4, run.stdout
    [line] = [line for line in run.stdout.splitlines() if line.startswith("ERROR")]
    assert line == f"ERROR: {folder}/{says}"
    assert run.doc["error"] == f"{folder}/{says}"


def test_the_built_in_checks_run_in_a_pytest_session_of_their_own(lab, installed):
    """A team's own pytest: `pytest --pyargs virtnat.catalog` with virtnat's options and reports."""
    out = installed.base / "pyargs"
    here = lab.audit()
    there = installed.run("-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "virtnat.catalog", f"--report-dir={out}",
                          f"--audit-json={out / 'a.json'}", inside=True, program="python")
    assert there.rc == 0, there.stdout
    assert _verdicts(there.doc) == _verdicts(here.doc)


def test_without_libvirt_python_remote_hosts_work_and_a_local_audit_says_what_to_install(lab, bare, dist):
    """libvirt-python builds from source; it is the `libvirt` extra. Without it a remote host is
    audited as the checkout does, and a local audit's libvirt checks say in one line what to install."""
    [wheel] = (dist / "direct").glob("virtnat-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("virtnat-0.1.0.dist-info/METADATA").decode()
    assert 'Requires-Dist: libvirt-python>=9; extra == "libvirt"' in metadata
    assert subprocess.run([str(bare.venv / "bin" / "pip"), "show", "-q", "libvirt-python"], capture_output=True).returncode == 1
    cfg = lab.ssh_config(bare.base / "ssh-config")
    here = lab.audit(f"--hosts=ssh://{ADDRS[0]}", f"--ssh-config={cfg}", inside=False)
    out = bare.base / "out"
    remote = bare.run("audit", f"--hosts=ssh://{ADDRS[0]}", f"--ssh-config={cfg}", f"--report-dir={out}", f"--audit-json={out / 'r.json'}")
    assert remote.rc == 0, remote.stdout
    assert _verdicts(remote.doc) == _verdicts(here.doc)
    local = bare.run("audit", f"--report-dir={out}", f"--audit-json={out / 'l.json'}", inside=True)
    assert local.rc == 1
    host01 = next(c for c in local.doc["hosts"][0]["checks"] if c["id"] == "HOST-01")
    assert host01["message"] == NO_LIBVIRT_PYTHON
    assert host01["outcome"] in ("failed", "error") and NO_LIBVIRT_PYTHON in local.stdout
