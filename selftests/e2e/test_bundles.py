"""Issue 10, done-when 1 and 4: a bundle audits exactly as the live host does at the same moment
(ids, outcomes, messages), for the healthy lab and each fault of the e2e matrix, collected three
ways: `virtnat collect` on the host itself, `virtnat collect` over SSH, and the Ansible playbook
(examples/collect.yml) with ansible-core; on both generations of the lab. And a bundle changed
after collection is one line per check, never a pass."""
import subprocess
import sys
from pathlib import Path

import pytest

from .labhost import ADDRS, KEY, KNOWN_HOSTS, NS, ROOT
from .lab11host import HOST as HOST11, RUN11
from .test_faults import FAULTS, _apply
from .test_generations import GEN_FAULTS, MASQUERADE_FLUSH, MASQUERADE_PROOF

VIRTNAT = Path(sys.executable).parent / "virtnat"  # the console script, as users run it
PLAYBOOK = ROOT / "examples" / "collect.yml"


def checks(run) -> dict:
    """(id, subject) -> (outcome, message) of an audit's one host."""
    [host] = run.doc["hosts"]
    return {(c["id"], c["subject"]): (c["outcome"], c["message"]) for c in host["checks"]}


def collect(out: Path, *args: str, inside: bool = False) -> Path:
    command = [str(VIRTNAT), "collect", f"--out={out}", *args]
    if inside:
        command = ["ip", "netns", "exec", NS, *command]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def playbook(out: Path, inventory: Path) -> Path:
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOK),
                           "-e", f"virtnat_out={out}", "-e", "virtnat_become=false"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    return out


def inventory(path: Path, address: str, key: Path, known_hosts: Path) -> Path:
    path.write_text(f"[hypervisors]\nhv1 ansible_host={address} ansible_user=root ansible_ssh_private_key_file={key} "
                    f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts}'\n")
    return path


def three_ways(runner, tmp_path, ssh_args: list[str], address: str, key: Path, known_hosts: Path, local: bool):
    """[(way, live audit, audit of the bundle collected right after it)] for local (if asked),
    ssh and ansible."""
    pairs = []
    if local:
        live = runner.audit()
        pairs.append(("local", live, runner.audit(f"--facts={collect(tmp_path / 'local', inside=True)}", inside=False)))
    live = runner.audit(f"--hosts=ssh://{address}", *ssh_args, inside=False)
    pairs.append(("ssh", live, runner.audit(f"--facts={collect(tmp_path / 'ssh', f'--hosts=ssh://{address}', *ssh_args)}",
                                            *ssh_args[1:], inside=False)))
    inv = inventory(tmp_path / "inventory.ini", address, key, known_hosts)
    live = runner.audit("--hosts=ansible://hypervisors", f"--ansible-inventory={inv}", *ssh_args[1:], inside=False)
    pairs.append(("ansible", live, runner.audit(f"--facts={playbook(tmp_path / 'ansible', inv)}", *ssh_args[1:], inside=False)))
    return pairs


@pytest.mark.parametrize("fault", [None, *FAULTS], ids=lambda f: f.name if f else "healthy")
def test_a_bundle_audits_as_the_live_host(lab, tmp_path, fault):
    cfg = lab.ssh_config(tmp_path / "config")
    if fault:
        proof = f"({fault.proof.format(tap=lab.tap())}) && echo in-place"
        _apply(lab, fault.inject)
    try:
        before = lab.sh(proof, check=False) if fault else "in-place"
        pairs = three_ways(lab, tmp_path, [f"--ssh-config={cfg}"], ADDRS[0], KEY, KNOWN_HOSTS, local=True)
        after = lab.sh(proof, check=False) if fault else "in-place"
    finally:
        if fault:
            _apply(lab, fault.undo)
    assert "in-place" in before and "in-place" in after, "the fault was not in place all through"
    for way, live, bundled in pairs:
        assert live.rc == bundled.rc == (1 if fault else 0), (way, live.stdout[-1500:], bundled.stdout[-1500:])
        assert checks(bundled) == checks(live), way
    if fault:
        assert set(fault.fails) <= {k[0] for k, (outcome, _) in checks(pairs[0][1]).items() if outcome == "failed"}
        assert lab.wait_healthy().rc == 0


@pytest.mark.parametrize("fault", [None, *GEN_FAULTS], ids=lambda f: f or "healthy")
def test_a_libvirt11_bundle_audits_as_the_live_host(lab11, tmp_path, fault):
    proof = MASQUERADE_PROOF[lab11.backend] if fault == "@masquerade" else GEN_FAULTS[fault][0] if fault else "true"
    if fault == "@masquerade":
        lab11.sh(MASQUERADE_FLUSH[lab11.backend])
    elif fault and fault.startswith("virsh"):
        lab11.control("exec", *fault.split())
    elif fault:
        lab11.sh(fault)
    try:
        before = lab11.in_root(proof).returncode
        pairs = three_ways(lab11.runner, tmp_path, [f"--ssh-config={lab11.cfg}", f"--profile={lab11.profile}"], HOST11,
                           RUN11 / "id_ed25519", RUN11 / "known_hosts", local=False)
        after = lab11.in_root(proof).returncode
    finally:
        if fault:
            lab11.control("exec", "virsh", "net-autostart", "default")
            lab11.sh("ip link set virbr0 up")
            lab11.control("restart-libvirtd")  # reinstalls libvirt's rules
    assert before == after == 0
    for way, live, bundled in pairs:
        assert live.rc == bundled.rc == (1 if fault else 0), (way, live.stdout[-1500:])
        assert checks(bundled) == checks(live), way
    if fault:
        assert lab11.wait_healthy().rc == 0


def test_a_bundle_changed_after_collection_is_an_error_per_check_never_a_pass(lab, tmp_path):
    folder = collect(tmp_path / "b", inside=True)
    [bundle] = folder.iterdir()
    bundle.write_bytes(bundle.read_bytes().replace(b"net/ipv4/ip_forward=1", b"net/ipv4/ip_forward=0", 1))
    run = lab.audit(f"--facts={folder}", inside=False)
    assert run.rc == 1
    outcomes = {outcome for outcome, _ in checks(run).values()}
    messages = {message for _, message in checks(run).values()}
    assert outcomes == {"error"} and messages == {f"{bundle}: its checksum does not match: the bundle was changed or "
                                                  "cut after it was collected"}
    assert "Traceback" not in run.stdout
