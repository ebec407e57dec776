"""Record the probe's output on a running lab host, healthy and under each fault of
selftests/e2e/pathfaults.py, for the unit tests of the packet-path model.

    make lab-up && python3 selftests/data/path/record.py libvirt9
    make lab-up LAB=11 BACKEND=nftables && python3 selftests/data/path/record.py libvirt11-nftables

Each fault is injected, proven in place, recorded (the probe, with `ip -j` sections) and undone.
With `cross` after the generation it records, into selftests/data/cross/GENERATION/, what PATH-05
judges (the probe reads br_netfilter's sysctl there): the healthy host, the guests' own faults
(pathfaults.CROSS_FAULTS) and the firewall faults that drop their frames too. With `ufw` after it
(libvirt11-nftables-no-firewalld, on `make lab-up LAB=11 BACKEND=nftables FIREWALLD=0`) it records,
into selftests/data/ufw/GENERATION/, the healthy host and ufw enabled (pathfaults.UFW_ENABLED)."""
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from selftests.e2e.pathfaults import CROSS_FAULTS, PATH_FAULTS, UFW_ENABLED  # noqa: E402
from virtnat.facts.probe import script  # noqa: E402


def runner(generation: str):
    if generation == "libvirt9":
        return lambda cmd: subprocess.run(["ip", "netns", "exec", "virtnat-lab", "sh", "-c", cmd],
                                          capture_output=True, text=True, timeout=120)
    return lambda cmd: subprocess.run([str(ROOT / "lab" / "lab11.sh"), "exec", "sh", "-c", cmd],
                                      capture_output=True, text=True, timeout=120)


# The firewall faults whose drop meets the guests' frames to each other as well.
CROSSING = ("docker-forward-drop", "host-forward-drop", "rule-ahead-forward", "legacy-drop")


def record(generation: str, cross: bool = False, ufw: bool = False) -> None:
    sh = runner(generation)
    out = HERE.parent / "cross" / generation if cross else HERE.parent / "ufw" / generation if ufw else HERE / generation
    out.mkdir(parents=True, exist_ok=True)
    faults = [f for f in PATH_FAULTS if f.name in CROSSING] + CROSS_FAULTS if cross else [UFW_ENABLED] if ufw else PATH_FAULTS
    probe = f"VIRTNAT_IP=1 VIRTNAT_VIRSH=qemu:///system sh -s <<'VIRTNAT_PROBE'\n{script()}\nVIRTNAT_PROBE"
    (out / "healthy.txt").write_text(sh(probe).stdout)
    for fault in faults:
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
    record(sys.argv[1], cross=sys.argv[2:] == ["cross"], ufw=sys.argv[2:] == ["ufw"])
