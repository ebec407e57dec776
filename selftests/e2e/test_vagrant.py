"""Issue 11, Vagrant for real: `make vagrant-audit` boots the Vagrantfile's VM with Debian's
vagrant and vagrant-libvirt from the box built here (lab/vagrant-box.sh, cached), in the lab's
libvirtd (TCG), audits it over SSH and destroys it (lab/vagrant.sh). About 3 minutes with the
box cached: a minute and a half to boot until SSH answers, the provisioner, an audit, destroy."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .labhost import CHECK_COUNT, ROOT

VAGRANT = ROOT / "lab" / "vagrant.sh"
RUN = Path("/run/virtnat-vagrant")
NO_GUEST = {"VM-01", "VM-02", "VM-03", "VM-04"}  # the VM runs no guest of its own: they skip, saying so


def libvirt_state() -> set[str]:
    """Domains, networks, volumes (but the box's cached one) and bridges of the lab's libvirt."""
    return set(subprocess.run([str(VAGRANT), "state"], capture_output=True, text=True, check=True,
                              timeout=60).stdout.splitlines())


def test_vagrant_audit_is_healthy_and_destroy_leaves_nothing(lab, tmp_path):
    before = libvirt_state()
    report = tmp_path / "reports"
    start = time.monotonic()
    # The target as CI runs it; the session has installed the packages and the venv already
    # (-o: not remade). Not the variables of a `make test` this runs under (its ARGS).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "-o", ".venv/.installed", "-o", "lab-deps", "vagrant-audit", f"PY={sys.executable}",
         f"ARGS=--report-dir={report} --audit-json={report / 'audit.json'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - start
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]

    doc = json.loads((report / "audit.json").read_text())
    [host] = doc["hosts"]
    assert host["host"] == "default"  # Vagrant's name for the machine, from `vagrant ssh-config`
    checks = {c["id"]: c for c in host["checks"]}
    assert len(checks) == CHECK_COUNT == 38
    assert {i for i, c in checks.items() if c["outcome"] == "skipped"} == NO_GUEST, out[-4000:]
    assert {i for i, c in checks.items() if c["outcome"] != "skipped"} == set(checks) - NO_GUEST
    assert all(c["outcome"] == "passed" for i, c in checks.items() if i not in NO_GUEST), out[-4000:]
    # The VM's own libvirt and boot, read over SSH: not the lab's (no systemd, no management network).
    assert checks["HOST-01"]["message"] == "libvirt 9.0.0 at qemu:///system (libvirtd)"
    assert "(`default via 10.213.9.1 dev " in checks["HOST-09"]["message"]  # Vagrant's management network
    assert checks["HOST-10"]["message"] == "libvirtd.service is enabled"
    assert checks["HOST-11"]["message"] == "libvirtd.service is ordered after firewalld.service"
    assert checks["NET-11"]["message"] == "iptables backend"
    # The Vagrantfile's provisioner ran provision/provision.sh, and skipped apt (the box has no internet).
    assert "provision: the packages are installed already" in out
    assert "provision: network default active and autostarted" in out

    # Destroyed: the domain, its disk, the management network and its bridge are gone.
    after = libvirt_state()
    assert after == before, (sorted(before), sorted(after))
    assert not any(line.endswith("_default") or "virtnat-vagrant" in line for line in after)
    times = {name: (RUN / f"{name}.seconds").read_text().strip() for name in ("box", "up", "audit", "destroy")}
    print(f"vagrant-audit: {seconds:.0f} s in all; box {times['box']} s, vagrant up {times['up']} s, "
          f"audit {times['audit']} s, destroy {times['destroy']} s")
