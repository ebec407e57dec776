"""Recordings of the probe for the boot checks (HOST-10, HOST-11, NET-17).

    python3 selftests/data/systemd/record.py units
        The non-systemd labs: adds the probe's units section to the recordings of
        selftests/data/path/ (made before the section existed), read from the root each lab runs
        on: this machine's for libvirt9 (lab 9 runs this machine's libvirt in a namespace), the
        Debian 13 tree for libvirt11-* (lab 11 is a chroot). Read-only: no lab is used.
    python3 selftests/data/systemd/record.py lab libvirt9 [FAULT...]
        The systemd lab (lab/labsd.sh; brought up, left down), as an audit reads it: healthy,
        after a reboot, under each fault of selftests/e2e/bootfaults.py (injected, proven,
        recorded, undone) and after a reboot with it in place, the daemon stopped, no daemon.
        With FAULT names (bootfaults.py's), only those faults and their reboots.
    python3 selftests/data/systemd/record.py lab11 libvirt11
        The systemd lab with libvirt 11.3 from bookworm-backports: as it booted, and with
        HOST-11's fix after a reboot."""
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from virtnat.facts.probe import script  # noqa: E402

PATH = HERE.parent / "path"
ROOTS = {"libvirt9": "/", "libvirt11-iptables": "/var/cache/virtnat/trixie-root",
         "libvirt11-nftables": "/var/cache/virtnat/trixie-root"}


def units_snippet() -> str:
    """The probe's units function, alone."""
    text = script()
    return re.search(r'^UNITS=.*?^}\n', text, re.S | re.M).group(0)


def units_of(root: str) -> str:
    command = f"PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C; {units_snippet()}units"
    argv = ["sh", "-c", command] if root == "/" else ["chroot", root, "sh", "-c", command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout


def add_units() -> None:
    for generation, root in ROOTS.items():
        section = units_of(root).rstrip("\n")
        for path in sorted((PATH / generation).glob("*.txt")):
            text = path.read_text()
            mark = re.match(r"@@virtnat-probe 2 (\S+)\n", text).group(1)
            if f"@@{mark} begin units\n" in text:
                continue
            done = f"@@{mark} done\n"
            framed = f"@@{mark} begin units\n{section}\n\n@@{mark} end units rc=0\n"
            path.write_text(text.replace(done, framed + done))
        print(f"{generation}: units from {root}")


if __name__ == "__main__":
    if sys.argv[1:] == ["units"]:
        add_units()
    elif sys.argv[1:2] == ["lab"]:
        from selftests.e2e.bootfaults import record_lab  # noqa: E402
        record_lab(HERE / sys.argv[2], tuple(sys.argv[3:]))
    elif sys.argv[1:2] == ["lab11"]:
        from selftests.e2e.bootfaults import record_lab11  # noqa: E402
        record_lab11(HERE / sys.argv[2])
    else:
        raise SystemExit(__doc__)
