"""PATH-05 on probe output recorded from the labs where the probe reads br_netfilter's sysctl
(selftests/data/cross/, made by `selftests/data/path/record.py GENERATION cross`): the healthy
host with two guests, the guests' own faults (a drop for virbr0 to virbr0 ahead of libvirt's
accept, with br_netfilter's switch on and off; Docker's policy with it off) and the firewall
faults whose drop meets their frames too. Each fails exactly the checks the e2e matrix names,
PATH-05 with the culprit, the sysctl and its fix."""
import pytest

from selftests.e2e.pathfaults import CROSS_FAULTS, PATH_FAULTS
from selftests.unit.checkrun import DATA, GENERATIONS, STANDING, findings, outcomes

CROSS = DATA.parent / "cross"
RECORDED = sorted(p.name for p in CROSS.iterdir() if p.is_dir())
FAULTS = {f.name: f for f in PATH_FAULTS + CROSS_FAULTS}
CASES = [(g, p.stem) for g in RECORDED for p in sorted((CROSS / g).glob("*.txt")) if p.stem != "healthy"]
# What PATH-05 says and fixes on each recorded fault that fails it: (message ends with, fix).
SAID = {
    "cross-drop-rule": ("iptables-nft table filter chain FORWARD: rule 1 (-A FORWARD -i virbr0 -o virbr0 -j DROP) "
                        "(a host iptables-nft rule)", "iptables -I FORWARD -i virbr0 -o virbr0 -j ACCEPT"),
    "host-forward-drop": ("table inet filter chain forward: policy drop (a host nftables table, like Debian's "
                          "/etc/nftables.conf)", 'nft insert rule inet filter forward iifname "virbr0" oifname "virbr0" accept'),
    "rule-ahead-forward": ("iptables-nft table filter chain FORWARD: rule 1 (-A FORWARD -i virbr0 -j DROP) (a host "
                           "iptables-nft rule)", "iptables -I FORWARD -i virbr0 -o virbr0 -j ACCEPT"),
    "legacy-drop": ("iptables-legacy table filter chain FORWARD: rule 1 (-A FORWARD -i virbr0 -j DROP) (a host "
                    "iptables-legacy rule)", "iptables-legacy -I FORWARD -i virbr0 -o virbr0 -j ACCEPT"),
    "docker-forward-drop": ("iptables-nft table filter chain FORWARD: policy drop (Docker, whose chains are in this table)",
                            "iptables -I DOCKER-USER -i virbr0 -o virbr0 -j ACCEPT"),
}
# What stands on these recordings beyond the fault: Debian 13's HOST-11 (checkrun.STANDING); this
# probe reads the persistent definition, so NET-17 is checked (and passes).
STANDING_NOW = {g: {c: o for c, o in standing.items() if c != "NET-17"} for g, standing in STANDING.items()}
PREFIX = "with net.bridge.bridge-nf-call-iptables = 1 (br_netfilter): "
ALL = ("a guest's packet to another guest (icmp), the other guest's reply (icmp), a guest's packet to another guest "
       "(tcp 22), the other guest's reply (tcp 22): dropped by ")


def recording(generation: str, name: str) -> str:
    return (CROSS / generation / f"{name}.txt").read_text()


@pytest.mark.parametrize("generation", RECORDED)
def test_the_healthy_host_with_two_guests_passes_and_path05_walked_their_frames(generation):
    found = outcomes(recording(generation, "healthy"))
    assert {c: o for c, o in found.items() if o[0] != "passed"} == STANDING_NOW[generation], found
    assert {"VM-04[virtnat-guest:vnet0]", "VM-04[virtnat-peer:vnet1]"} <= set(found) and len(found) == 42
    evidence = findings(recording(generation, "healthy"))["PATH-05"]["evidence"]
    assert evidence.startswith("frames between two guests on virbr0: net.bridge.bridge-nf-call-iptables = 1: br_netfilter "
                               "sends them through the IPv4 hooks\n"), evidence
    assert evidence.count("  => accepted") == 4


@pytest.mark.parametrize("generation, name", CASES, ids=[f"{g}-{n}" for g, n in CASES])
def test_each_fault_fails_exactly_its_checks_and_path05_names_the_culprit(generation, name):
    fault = FAULTS[name]
    found = outcomes(recording(generation, name))
    failing = {c.split("[")[0] for c, (o, _) in found.items() if o != "passed" and found[c] != STANDING_NOW[generation].get(c)}
    assert failing == fault.expected(GENERATIONS[generation]), found
    for check, text in fault.culprit.items():
        if check in failing:
            assert text in found[check][1], found[check]
    if "PATH-05" in failing:
        end, fix = SAID[name]
        assert found["PATH-05"][1] == PREFIX + ALL + end
        assert findings(recording(generation, name))["PATH-05"]["fix"] == fix
    elif name.endswith("bridge-nf-off"):
        evidence = findings(recording(generation, name))["PATH-05"]["evidence"]
        assert evidence == ("frames between two guests on virbr0: net.bridge.bridge-nf-call-iptables = 0: they do not "
                            "meet the IPv4 hooks")
