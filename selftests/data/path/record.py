"""Record the probe's output on a running lab host, healthy and under each fault of
selftests/e2e/pathfaults.py, for the unit tests of the packet-path model.

    make lab-up && python3 selftests/data/path/record.py libvirt9
    make lab-up LAB=11 BACKEND=nftables && python3 selftests/data/path/record.py libvirt11-nftables

Each fault is injected, proven in place, recorded (the probe, with `ip -j` sections) and undone."""
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from selftests.e2e.pathfaults import PATH_FAULTS  # noqa: E402
from virtnat.facts.probe import script  # noqa: E402


def runner(generation: str):
    if generation == "libvirt9":
        return lambda cmd: subprocess.run(["ip", "netns", "exec", "virtnat-lab", "sh", "-c", cmd],
                                          capture_output=True, text=True, timeout=120)
    return lambda cmd: subprocess.run([str(ROOT / "lab" / "lab11.sh"), "exec", "sh", "-c", cmd],
                                      capture_output=True, text=True, timeout=120)


def record(generation: str) -> None:
    sh = runner(generation)
    out = HERE / generation
    out.mkdir(exist_ok=True)
    probe = f"VIRTNAT_IP=1 VIRTNAT_VIRSH=qemu:///system sh -s <<'VIRTNAT_PROBE'\n{script()}\nVIRTNAT_PROBE"
    (out / "healthy.txt").write_text(sh(probe).stdout)
    for fault in PATH_FAULTS:
        sh(fault.inject)
        try:
            if sh(fault.proof).returncode != 0:
                raise SystemExit(f"{fault.name} did not take effect")
            time.sleep(0.5)
            (out / f"{fault.name}.txt").write_text(sh(probe).stdout)
        finally:
            sh(fault.undo)
        print(f"recorded {generation}/{fault.name}")


if __name__ == "__main__":
    record(sys.argv[1])
