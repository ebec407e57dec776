"""Issue 25, done-when 3: an audit in slices on an existing engine, as examples/ shows it. Three
slices of an inventory (six hosts, all the lab's SSH endpoint) each run examples/slice.yml with
ansible-core: its hosts' bundles collected, audited into a part; then examples/merge.yml merges the
parts. The merged reports are those of one audit of all six hosts' bundles (times aside)."""
import json
import re
import subprocess
import sys
from pathlib import Path

from .labhost import ADDRS, KEY, KNOWN_HOSTS, ROOT

BIN = Path(sys.executable).parent
HOSTS = [f"hv{n}" for n in range(1, 7)]


def playbook(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "ansible-playbook"), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def stamped(folder: Path, suffix: str) -> Path:
    [path] = [p for p in folder.iterdir() if p.suffix == suffix and not p.name.startswith("latest")]
    return path


def comparable(folder: Path) -> dict:
    """The JSON document and the JUnit report of an audit, times and time stamps taken out."""
    document = json.loads(stamped(folder, ".json").read_text())
    del document["started"], document["finished"]
    junit = re.sub(r' (time|timestamp)="[^"]*"', "", stamped(folder, ".xml").read_text())
    return {"json": document, "junit": junit}


def test_three_slices_merged_are_one_audit_of_all_their_hosts(lab, tmp_path):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[hypervisors]\n" + "".join(
        f"{host} ansible_host={ADDRS[0]} ansible_user=root ansible_ssh_private_key_file={KEY} "
        f"ansible_ssh_common_args='-o UserKnownHostsFile={KNOWN_HOSTS}'\n" for host in HOSTS))
    parts, bundles = tmp_path / "parts", []
    for k, limit in enumerate(("hypervisors[0:1]", "hypervisors[2:3]", "hypervisors[4:5]")):
        bundles.append(tmp_path / f"bundles-{k}")
        done = playbook("-i", str(inventory), "examples/slice.yml", "-l", limit, "-e", f"virtnat_slice={k}",
                        "-e", f"virtnat_out={bundles[-1]}", "-e", f"virtnat_parts={parts}", "-e", "virtnat_become=false")
        assert done.returncode == 0, done.stdout[-3000:]
        assert sorted(p.name for p in bundles[-1].iterdir()) == [f"{HOSTS[2 * k]}.facts", f"{HOSTS[2 * k + 1]}.facts"]
    assert sorted(p.name for p in parts.iterdir()) == ["0.json", "1.json", "2.json"]

    merged = playbook("examples/merge.yml", "-e", f"virtnat_parts={parts}", "-e", f"virtnat_reports={tmp_path / 'merged'}",
                      "-e", "virtnat_fail=false")
    assert merged.returncode == 0, merged.stdout[-3000:]
    one = subprocess.run([str(BIN / "virtnat"), "audit", "--facts=" + ",".join(map(str, bundles)),
                          f"--report-dir={tmp_path / 'one'}", "--shards=1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert one.returncode in (0, 1), one.stderr
    assert comparable(tmp_path / "merged") == comparable(tmp_path / "one")
    assert [host["host"] for host in comparable(tmp_path / "merged")["json"]["hosts"]] == HOSTS
    page = stamped(tmp_path / "merged", ".html")
    assert sorted(p.name for p in page.with_suffix("").iterdir()) == sorted(f"{host}.html" for host in HOSTS)
