"""The files in examples/ are what they say: the systemd units parse and run the installed
`virtnat audit`, the CI workflow is YAML whose steps run it, and ansible-builder accepts the
execution environment (`create` writes the build context and builds nothing)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def unit_file(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file as systemd reads it: sections of keys, each with its values in order
    (a key may repeat); `#` and `;` start comments; a line ending in a backslash goes on."""
    sections: dict[str, dict[str, list[str]]] = {}
    section = None
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            section = sections.setdefault(line[1:-1], {})
            continue
        assert section is not None and "=" in line, f"{path.name}: not a unit file line: {raw!r}"
        key, value = line.split("=", 1)
        section.setdefault(key.strip(), []).append(" ".join(value.split()))
    assert not pending, f"{path.name} ends in a continued line"
    return sections


def test_service_runs_the_installed_virtnat():
    service = unit_file(EXAMPLES / "virtnat-audit.service")["Service"]
    [command] = service["ExecStart"]
    argv = command.split()
    assert Path(argv[0]).name == "virtnat" and argv[1] == "audit"
    assert "--hosts=ansible://hypervisors" in argv
    assert "--ansible-inventory=/etc/virtnat/inventory.ini" in argv
    assert "--profile=/etc/virtnat/site.toml" in argv
    assert "--keep=30" in argv
    assert "--prometheus=/var/lib/node_exporter/textfile_collector/virtnat.prom" in argv
    assert not any(arg.startswith("--report-dir") for arg in argv)  # $STATE_DIRECTORY/reports
    assert service["StateDirectory"] == ["virtnat"]
    assert "1" in " ".join(service["SuccessExitStatus"]).split()
    assert service["Type"] == ["oneshot"]


def test_service_needs_no_checkout():
    text = (EXAMPLES / "virtnat-audit.service").read_text()
    for word in ("/opt/virtnat", ".venv", "make ", "pytest", "WorkingDirectory"):
        assert word not in text


def test_timer_starts_the_audit_nightly():
    timer = unit_file(EXAMPLES / "virtnat-audit.timer")
    assert timer["Timer"]["OnCalendar"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]


def test_workflow_runs_the_installed_virtnat():
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    steps = workflow["jobs"]["site-audit"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert any(run.startswith("pip install virtnat") for run in runs)
    [audit] = [run for run in runs if "virtnat audit" in run]
    assert "--hosts=ssh://" in audit and "--ssh-config=" in audit and "--report-dir=reports" in audit
    assert runs.index(audit) < len(steps) - 1
    upload = steps[-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"
    names = [step["with"]["name"] for job in workflow["jobs"].values()
             for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(names) == len(set(names))  # one run's artifacts need names of their own


def test_execution_environment_builds_a_context(tmp_path):
    builder = Path(sys.executable).parent / "ansible-builder"
    builder = str(builder) if builder.exists() else shutil.which("ansible-builder")
    assert builder, "ansible-builder is not installed (pip install 'virtnat[test]')"
    context = tmp_path / "context"
    done = subprocess.run([builder, "create", "-f", str(EXAMPLES / "execution-environment.yml"),
                           "-c", str(context)], check=False, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert (context / "_build" / "requirements.txt").read_text().split() == ["virtnat[libvirt]"]
    bindep = (context / "_build" / "bindep.txt").read_text()
    assert "libvirt-devel [platform:rpm compile]" in bindep
    assert "libvirt-libs [platform:rpm]" in bindep
