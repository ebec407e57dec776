"""Issue 26, item 5: a fix proven by applying it. On libvirt 11 with the nftables backend and no
firewalld, ufw enabled with its default policies: the guest's own DHCP and DNS fail, and the
suite's verdicts agree with it packet by packet (its pings still pass: ufw's before.rules accept
echo-request). Then `virtnat fix RESULT.json`'s script runs on the lab host as an operator would
run it, twice (the second run changes nothing), ufw reloads, and the next audit passes while the
guest renews its lease, asks its DNS and pings beyond the gateway. Then the firewall's next boot
(the lab does not boot): iptables' tables go, as at a boot, and ufw.service's own command loads
ufw again from its files. ufw's rules come back and the guest still works; the iptables rule
virtnat used to print (`iptables -I INPUT ...`), put beside them, is gone (it outlives `ufw
reload`, which leaves the builtin chains alone). The fix and the fault are undone and the lab
read back as it was: nftables' ruleset, ufw's state and files, the sysctls ufw sets."""
import subprocess
import sys
import time

import pytest

from .labhost import ROOT
from .pathfaults import UFW_ENABLED, UFW_STATE, disagreements
from .test_generations import GEN_FAULTS, inject, undo

# What ufw's fix is, in ufw's words, from the packets the lab's audit finds dropped.
UFW_FIXES = {
    "PATH-01": "ufw allow in on virbr0 to any port 67 proto udp",
    "PATH-02": "ufw allow in on virbr0 to any port 53 proto udp && ufw allow in on virbr0 to any port 53 proto tcp",
    "PATH-03": "ufw route allow in on virbr0 out on uplink0",
    "PATH-05": "ufw route allow in on virbr0 out on virbr0",
}
SCRIPT = "/run/virtnat-fix.sh"  # in the lab root's own /run
# The firewall at the next boot: no iptables table yet (libvirt's nftables table is libvirt's to
# put back), then what ufw.service runs (ExecStart of Debian 13's unit).
BOOT = "nft delete table ip filter && nft delete table ip6 filter && /usr/lib/ufw/ufw-init start quiet"
# What virtnat printed for PATH-01 before it spoke ufw's language.
IPTABLES_FIX = "iptables -I INPUT -i virbr0 -p udp --dport 67 -j ACCEPT"


def _fix_script(result_json, host: str) -> str:
    run = subprocess.run([sys.executable, "-m", "virtnat", "fix", str(result_json), f"--host={host}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_ufw_enabled_is_fixed_by_ufws_own_rules_and_the_guest_works_again(lab11, tmp_path):
    if (lab11.backend, lab11.firewalld) != ("nftables", False):
        pytest.skip("the ufw case of issue 26: libvirt 11, nftables backend, no firewalld")
    fault, root = UFW_ENABLED, lab11.runner
    before = lab11.in_root(UFW_STATE).stdout
    healthy = root.guest_truth()
    assert healthy["dhcp"] and healthy["dns"] and healthy["out"], f"the guest is not healthy before the fault: {healthy}"
    mark = root.guest_mark()
    t0 = time.monotonic()
    assert lab11.in_root(fault.inject).returncode == 0
    try:
        assert lab11.in_root(fault.proof).returncode == 0, "ufw is not active"
        broken = root.guest_truth(after=mark, timeout=90)
        run = lab11.audit()
        assert lab11.in_root(fault.proof).returncode == 0, "ufw went inactive during the audit"
        outcomes = {k.split("[")[0]: v for k, v in run.outcomes().items()}
        messages = {c: run.check(c)["message"] for c in fault.culprit}
        assert run.by_outcome("failed") | run.by_outcome("error") == fault.expected("nftables"), run.stdout
        for check, text in fault.culprit.items():
            assert text in messages[check], run.check(check)
        assert disagreements(broken, outcomes, messages) == [], (broken, messages)
        assert not broken["dhcp"] and not broken["dns"], f"ufw's policies left the guest its DHCP or DNS: {broken}"
        assert {c: run.check(c)["remediation"] for c in UFW_FIXES} == UFW_FIXES

        result = run.report_dir / "audit.json"
        script = _fix_script(result, run.doc["hosts"][0]["host"])
        assert lab11.in_root(f"cat > {SCRIPT} <<'VIRTNAT_FIX'\n{script}VIRTNAT_FIX").returncode == 0
        first = lab11.in_root(f"sh {SCRIPT}")
        assert first.returncode == 0, first.stdout + first.stderr
        assert first.stdout.count("Rule added\n") == 5, first.stdout  # 67/udp, 53/udp, 53/tcp, two routes
        added = lab11.in_root("ufw show added").stdout
        second = lab11.in_root(f"sh {SCRIPT}")
        assert second.returncode == 0 and "Rule added" not in second.stdout and "Skipping" not in second.stdout, second.stdout
        assert lab11.in_root("ufw show added").stdout == added
        assert lab11.in_root("ufw reload").returncode == 0  # ufw's own rules are what it loads again

        mark = root.guest_mark()
        fixed = root.guest_truth(after=mark, timeout=90)
        again = lab11.audit()
        assert again.rc == 0, again.stdout
        assert fixed["dhcp"] and fixed["dns"] and fixed["dnstcp"] and fixed["out"] and fixed["peer"], fixed
        took = time.monotonic() - t0

        assert lab11.in_root(f"{IPTABLES_FIX} && ufw reload >/dev/null && {IPTABLES_FIX.replace(' -I ', ' -C ')}").returncode == 0
        boot = lab11.in_root(BOOT)
        assert boot.returncode == 0, boot.stderr
        assert lab11.in_root(IPTABLES_FIX.replace(" -I ", " -C ")).returncode != 0, "the iptables rule outlived the boot"
        mark = root.guest_mark()
        booted = root.guest_truth(after=mark, timeout=90)
        after_boot = lab11.audit()
        print(f"ufw-enabled: guest before {broken}, after the fix and ufw reload {fixed}, after the firewall's boot "
              f"{booted}; fault to fixed {took:.1f} s; script:\n{script}")  # shown with -rP
        assert after_boot.rc == 0, after_boot.stdout
        assert booted["dhcp"] and booted["dns"] and booted["dnstcp"] and booted["out"] and booted["peer"], booted
    finally:
        undo = lab11.in_root(f"rm -f {SCRIPT}; {fault.undo}")
    assert undo.returncode == 0, undo.stderr
    assert lab11.in_root(UFW_STATE).stdout == before, "the lab is not as it was before the fault"
    assert lab11.wait_healthy().rc == 0



@pytest.mark.parametrize("fault", list(GEN_FAULTS))
def test_the_documents_faults_are_fixed_by_the_printed_script(lab11, fault):
    """The document's faults on libvirt 11 (nftables, firewalld): autostart off, virbr0 DOWN, the
    masquerade gone. The script `virtnat fix` prints runs twice; the next audit passes, the guest
    renews its lease, asks its DNS and pings beyond the gateway, and the fault is gone."""
    if (lab11.backend, lab11.firewalld) != ("nftables", True):
        pytest.skip("the document's faults are fixed on one configuration: libvirt 11, nftables, firewalld")
    check = GEN_FAULTS[fault][1]
    proof = inject(lab11, fault)
    try:
        assert lab11.in_root(proof).returncode == 0, f"{fault} is not in place"
        run = lab11.audit()
        assert check in run.by_outcome("failed"), run.stdout
        script = _fix_script(run.report_dir / "audit.json", run.doc["hosts"][0]["host"])
        assert lab11.in_root(f"cat > {SCRIPT} <<'VIRTNAT_FIX'\n{script}VIRTNAT_FIX").returncode == 0
        for _ in range(2):  # the second run finds nothing to do
            applied = lab11.in_root(f"sh {SCRIPT}")
            assert applied.returncode == 0, script + applied.stdout + applied.stderr
        assert lab11.in_root(proof).returncode != 0, f"{fault} is still in place after the fix:\n{script}"
        for _ in range(3):  # a bridge brought back UP lets its ports forward after STP's forward delay
            mark = lab11.runner.guest_mark()
            fixed = lab11.runner.guest_truth(after=mark, timeout=90)
            if fixed["dhcp"] and fixed["dns"] and fixed["out"]:
                break
        again = lab11.audit()
        print(f"{fault}: fixed by\n{script}guest {fixed}")  # shown with -rP
        assert again.rc == 0, again.stdout
        assert fixed["dhcp"] and fixed["dns"] and fixed["out"], fixed
    finally:
        lab11.in_root(f"rm -f {SCRIPT}")
        undo(lab11)
    assert lab11.wait_healthy().rc == 0
