"""`virtnat fix` (issue 26, item 4): from audit documents made of the recorded faults, a POSIX shell
script per host (bash and sh parse every one), causes first, each fix once, each step guarded so that
a second run changes nothing (run in bash against a host of stand-ins, world.py); the playbook of
--ansible (YAML, and ansible-playbook --syntax-check); --host; what is not an audit; hostile names."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from selftests.unit import checkrun, probe_edits, report_docs, world
from selftests.unit.checkrun import CONTROLS, DATA, GENERATIONS
from selftests.unit.test_checks_one_fact import BACKENDS, FAULTS, healthy
from selftests.unit.test_hostile_names import HOSTILE
from selftests.unit.test_remediations import _remediations
from virtnat import cli
from virtnat.profile import Profile
from virtnat.report.fix_ansible import playbook, quoted
from virtnat.report.fix_order import ORDER, RANK, by_hand, command_guard, guard_values, guest_and_tap, stepwise
from virtnat.report.fixes import Answer, Step, body, comment, describe, plan, shell_scripts

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "fix"
WRITE = os.environ.get("VIRTNAT_GOLDEN") == "write"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def document_of(text: str, host: str = "hv1", impact: str = "high") -> dict:
    """The audit document the plugin would write for a recording: each check's outcome, message
    and remediation (its fix, else its marker filled)."""
    fixes = _remediations(text)
    checks = []
    for label, (outcome, message) in checkrun.outcomes(text).items():
        check_id, _, subject = label.partition("[")
        checks.append({"id": check_id, "title": "", "impact": impact, "subject": subject.rstrip("]") or None,
                       "outcome": outcome, "message": message, "remediation": fixes.get(label, "true")})
    return report_docs.document({"host": host, "summary": {}, "checks": checks}, profile=Profile().as_dict())


def faulty(generation: str, *faults: str, base: str | None = None) -> str:
    text = (DATA / generation / f"{base}.txt").read_text() if base else healthy(generation)
    for name in faults:
        text = FAULTS[name][0](text, BACKENDS[generation])
    return text


def _ip_forward_off(text: str) -> str:
    return probe_edits.sub(text, "runtime", "net/ipv4/ip_forward=1", "net/ipv4/ip_forward=0")


def parses(script: str) -> None:
    for shell in ("/bin/bash", "/bin/sh"):
        run = subprocess.run([shell, "-n"], input=script, capture_output=True, text=True, timeout=10)
        assert run.returncode == 0, f"{shell} -n: {run.stderr}\n{script}"


# -- the order -------------------------------------------------------------------------------

def test_every_check_is_placed_once():
    ids = [check for check, _ in ORDER]
    assert len(ids) == len(set(ids))
    assert {check_id for check_id, _ in CONTROLS} <= set(ids)


@pytest.mark.parametrize("cause, effects", [
    ("HOST-01", "HOST-05 NET-01"), ("HOST-05", "NET-01 PATH-03"), ("HOST-08", "NET-02"),
    ("NET-01", "NET-02 NET-03"), ("NET-04", "NET-02"), ("NET-15", "NET-02"),
    ("NET-02", "NET-06 NET-07 NET-08 NET-09 NET-10 NET-11 NET-13 VM-01 VM-02"),
    ("NET-10", "NET-11 NET-12 NET-13 NET-14 NET-16"), ("NET-16", "PATH-01 PATH-03"), ("PATH-04", "VM-01"),
])
def test_causes_come_first(cause, effects):
    assert all(RANK[cause] < RANK[effect] for effect in effects.split())


def test_a_check_the_order_does_not_know_goes_last():
    from virtnat.report.fix_order import rank
    assert rank("SITE-01") > rank("VM-04") and rank("SITE-01") > rank("HOST-01")


def test_a_vm_subject_gives_the_guest_and_its_tap():
    assert guest_and_tap("vm:1:vnet0") == ("vm:1", "vnet0")
    assert guest_and_tap("vm1:52:54:00:12:34:56") == ("vm1", None)
    assert guest_and_tap(None) == (None, None)
    assert guest_and_tap("g:abcdefghijk:vnet0") == ("g:abcdefghijk", "vnet0")  # a colon 18 from the end, no MAC


def test_editors_and_listings_are_by_hand():
    assert by_hand("virsh net-edit default") and by_hand("ip -4 route show table all && ip -br -4 address show up")
    assert not by_hand("ip link set virbr0 up") and not by_hand("virsh net-start default")
    assert not by_hand("virsh net-edit default && virsh net-start default")  # a part a script runs


def test_a_rule_to_delete_by_its_place_gives_no_guard():
    assert command_guard("iptables -t nat -D POSTROUTING 1") is None
    assert command_guard("iptables -t nat -D POSTROUTING -s 10.0.0.0/8 -j ACCEPT") == (
        "iptables -t nat -C POSTROUTING -s 10.0.0.0/8 -j ACCEPT 2>/dev/null")
    assert command_guard("nft delete rule inet filter forward handle 7") == (
        "nft -a list chain inet filter forward 2>/dev/null | grep -q '# handle 7$'")


def test_a_fix_of_several_rules_does_each_only_while_it_is_still_to_do():
    both = "iptables -I DOCKER-USER -i virbr0 -j ACCEPT && iptables -I DOCKER-USER -o virbr0 -j ACCEPT"
    check_in = "iptables -C DOCKER-USER -i virbr0 -j ACCEPT 2>/dev/null"
    check_out = "iptables -C DOCKER-USER -o virbr0 -j ACCEPT 2>/dev/null"
    assert command_guard(both) == f"{{ ! {check_in}; }} || {{ ! {check_out}; }}"  # half done: still to do
    assert stepwise(both) == (f"if ! {check_in}; then iptables -I DOCKER-USER -i virbr0 -j ACCEPT; fi && "
                              f"if ! {check_out}; then iptables -I DOCKER-USER -o virbr0 -j ACCEPT; fi")
    assert stepwise("iptables -I FORWARD -i virbr0 -j ACCEPT") == "iptables -I FORWARD -i virbr0 -j ACCEPT"
    assert stepwise("systemctl restart libvirtd && iptables -I FORWARD -i virbr0 -j ACCEPT") == \
        "systemctl restart libvirtd && iptables -I FORWARD -i virbr0 -j ACCEPT"  # a part without a guard: as it is


# -- the scripts -----------------------------------------------------------------------------

def test_the_script_of_a_recorded_fault_is_the_golden_one():
    """libvirt 11 (nftables) with a host table's input drop, IPv4 forwarding off, autostart off."""
    text = _ip_forward_off(faulty("libvirt11-nftables", "autostart-off", base="host-input-drop"))
    script = shell_scripts(document_of(text), "reports/hv1.json")
    golden = GOLDEN / "host-input-drop.sh"
    if WRITE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(script)
    assert script == golden.read_text()


def test_the_playbook_of_a_recorded_fault_is_the_golden_one():
    """The same host as the script's golden, and a second audited host with nothing failing."""
    text = _ip_forward_off(faulty("libvirt11-nftables", "autostart-off", base="host-input-drop"))
    doc = document_of(text)
    doc["hosts"].append({**doc["hosts"][0], "host": "hv2", "checks": []})
    book = playbook(doc, "reports/hv1.json")
    golden = GOLDEN / "host-input-drop.yml"
    if WRITE:
        golden.write_text(book)
    assert book == golden.read_text()
    assert playbook(doc, "reports/hv1.json", "hv2") != book  # --host: that host's play alone


@pytest.mark.parametrize("char, written", [("\x1f", "\\x1f"), (" ", " "), ("~", "~"), ("\x7f", "\\x7f"), ("\xff", "\\xff"),
                                            ("\u0100", "\\u0100"), ("\uffff", "\\uffff"), ("\U00010000", "\\U00010000"),
                                            ('"', '\\"'), ("\\", "\\\\")])
def test_a_yaml_string_is_printable_ascii_with_every_other_character_escaped(char, written):
    assert quoted(f"a{char}b") == f'"a{written}b"'


CASES = [(g, name) for g in GENERATIONS for name in FAULTS] + [
    (g, p.stem) for g in GENERATIONS for p in sorted((DATA / g).glob("*.txt"))]


@pytest.mark.parametrize("generation, name", CASES, ids=[f"{g}-{n}" for g, n in CASES])
def test_every_script_parses_and_puts_causes_first(generation, name):
    text = faulty(generation, name) if name in FAULTS else (DATA / generation / f"{name}.txt").read_text()
    doc = document_of(text)
    [fix] = plan(doc)
    ranks = [min(RANK.get(a.name.split("[")[0], len(RANK)) for a in step.answers) for step in fix.steps]
    assert ranks == sorted(ranks)
    commands = [step.command for step in fix.steps]
    assert len(commands) == len(set(commands))
    parses(shell_scripts(doc, "r.json"))


def test_one_fix_answers_every_check_it_fixes():
    """An inactive network: NET-02's start is one step, for every check that gives it."""
    [fix] = plan(document_of(faulty("libvirt9", "network-inactive")))
    [start] = [s for s in fix.steps if s.command == "virsh net-start default"]
    assert {"NET-02", "NET-11", "NET-13", "PATH-01", "PATH-04"} <= {a.name for a in start.answers}


def test_run_twice_the_script_changes_nothing_the_second_time(tmp_path):
    """bash runs the script against a host of stand-ins (world.py) as the recording found it: the
    first run makes each fix once, the second makes none."""
    text = _ip_forward_off(faulty("libvirt11-nftables", "autostart-off", "stp-off", "tap-down", base="host-input-drop"))
    script = shell_scripts(document_of(text), "r.json")
    state = {"sysctl": {"net.ipv4.ip_forward": "0"}, "net": {"Active": True, "Persistent": True, "Autostart": False},
             "links": {"virbr0": {"up": True, "stp": 0}, "vnet0": {"up": False, "master": "virbr0"}}, "rules": {},
             "after": ["firewalld.service"]}  # Debian 13's HOST-11: its drop-in was written (the guard skips it)
    changes = world.make(tmp_path / "bin", state)
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}
    for _ in range(2):
        run = subprocess.run(["/bin/bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
    assert changes.read_text().splitlines() == [
        "sysctl -w net.ipv4.ip_forward=1",
        "virsh net-autostart default",
        "ip link set dev virbr0 type bridge stp_state 1",
        'nft insert rule inet filter input iifname virbr0 udp dport 67 accept',
        'nft insert rule inet filter input iifname virbr0 udp dport 53 accept',
        'nft insert rule inet filter input iifname virbr0 tcp dport 53 accept',
        "ip link set dev vnet0 up",
    ]
    assert "audit hv1 again: virtnat audit --hosts=ssh://hv1" in run.stdout


def test_a_failing_step_stops_the_script(tmp_path):
    doc = report_docs.document(report_docs.host("hv1", {"NET-02": {"outcome": "failed", "message": "inactive",
                                                                   "remediation": "virsh net-start default"},
                                                        "VM-03[vm1:vnet0]": {"outcome": "failed", "message": "down"}}))
    state = {"sysctl": {}, "net": {"Active": False, "Persistent": True, "Autostart": True}, "links": {}, "rules": {}}
    world.make(tmp_path / "bin", state)
    (tmp_path / "bin" / "virsh").write_text("#!/bin/sh\nexit 1\n")
    run = subprocess.run(["/bin/bash", "-c", shell_scripts(doc, "r.json")], env={"PATH": str(tmp_path / "bin")},
                         capture_output=True, text=True, timeout=30)
    assert (run.returncode, run.stderr) == (1, "virtnat fix: step 1 (NET-02) failed: the steps after it did not run\n")
    assert not (tmp_path / "changes").exists()


@pytest.mark.parametrize("entry, says", [
    (report_docs.unreachable("down1"), "down1 could not be checked (ssh: connect to host 10.0.0.9 port 22: Connection refused)"),
    (report_docs.host("ok1"), "no check failed on ok1"),
])
def test_nothing_to_fix_is_a_script_that_says_so_and_does_nothing(tmp_path, entry, says):
    script = shell_scripts(report_docs.document(entry), "r.json")
    parses(script)
    run = subprocess.run(["/bin/sh", "-c", script], env={"PATH": str(tmp_path)}, capture_output=True, text=True, timeout=10)
    assert run.returncode == 0 and run.stdout.startswith(f"virtnat fix: nothing to do: {says}")
    assert "fail()" not in script


def test_skipped_errors_and_waived_checks_are_left_alone():
    doc, _ = report_docs.one_host_with_failures()
    doc["hosts"][0]["checks"][0].update(outcome="error", message="could not read")
    [fix] = plan(doc)
    assert [a.name for s in fix.steps for a in s.answers] == ["NET-07", "PATH-03", f"VM-03[{report_docs.XSS}:vnet1]"]
    assert fix.left == ("HOST-01", "NET-09")


@pytest.mark.parametrize("name", HOSTILE + ["hv1\n# $(touch PWNED)\ntouch PWNED", "hv'1\"; touch PWNED"])
def test_a_hostile_host_name_or_message_stays_in_its_comment_and_string(tmp_path, name):
    entry = report_docs.host(name, {"NET-07": {"outcome": "failed", "message": f"{name} is DOWN\n touch PWNED",
                                               "remediation": "ip link set virbr0 up"}})
    doc = report_docs.document(entry, report_docs.unreachable(name + "-2", cause=name))
    script = shell_scripts(doc, f"{name}.json")
    parses(script)
    assert all(line.startswith("#") or "PWNED" not in line for line in script.splitlines() if "printf" not in line)
    state = {"sysctl": {}, "net": {"Active": True, "Persistent": True, "Autostart": True},
             "links": {"virbr0": {"up": False}}, "rules": {}}
    changes = world.make(tmp_path / "bin", state)
    work = tmp_path / "work"
    work.mkdir()
    run = subprocess.run(["/bin/bash", "-c", script], cwd=work, env={"PATH": str(tmp_path / "bin")},
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert list(work.iterdir()) == [] and changes.read_text() == "ip link set virbr0 up\n"


# -- the command ------------------------------------------------------------------------------

@pytest.fixture
def result(tmp_path):
    def write(doc, name="r.json"):
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        return str(path)
    return write


def test_host_picks_one_host_and_an_unknown_one_is_a_usage_error(result, capsys):
    path = result(report_docs.fleet(3)[0])
    assert cli.main(["fix", path, "--host", "hv001"]) == 0
    out = capsys.readouterr().out
    assert out.count("#!/bin/sh") == 1 and "for host hv001," in out
    assert cli.main(["fix", path, "--host", "hv9\n"]) == 4
    assert capsys.readouterr() == ("", f"virtnat fix: --host=hv9\\n: no such host in {path}\n")
    assert cli.main(["fix", path]) == 0
    assert capsys.readouterr().out.count("#!/bin/sh") == 3


@pytest.mark.parametrize("content, says", [
    (b"{", "not JSON"), (b'{"tool": "other"}', "not a virtnat audit report"),
    (json.dumps({"tool": "virtnat", "hosts": [{"host": "a", "checks": [{"id": 1}]}]}).encode(), "hosts[0].checks[0].id"),
])
def test_what_is_not_an_audit_is_one_line_exit_4(tmp_path, capsys, content, says):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    assert cli.main(["fix", str(bad)]) == 4
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"virtnat fix: cannot read {bad}: ") and says in err and err.count("\n") == 1
    assert cli.main(["fix", str(tmp_path)]) == 4  # a directory
    assert cli.main(["fix"]) == 4


def test_fix_help_describes_it(capsys):
    assert cli.main(["fix", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "RESULT.json" in shown and "--host HOST" in shown and "--ansible" in shown and "shell script" in shown


# -- the playbook ----------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def test_the_playbook_has_a_play_per_host_with_the_scripts_steps_in_order(result, capsys):
    text = _ip_forward_off(faulty("libvirt9", "autostart-off", "tap-down", base="host-input-drop"))
    doc = document_of(text)
    doc["hosts"].append(report_docs.unreachable("down1"))
    doc["hosts"].append(report_docs.host("evil$(touch PWNED)", {"NET-07": {"outcome": "failed", "message": "{{ lookup('pipe', 'id') }}"}}))
    assert cli.main(["fix", result(doc), "--ansible"]) == 0
    text_out = capsys.readouterr().out
    plays = yaml.load(text_out, Loader=_Loader)
    assert [p["hosts"] for p in plays] == ["hv1"]
    [fix] = plan(doc, "hv1")
    tasks = plays[0]["tasks"]
    assert [t["name"].split(": ", 1)[1] for t in tasks] == [", ".join(a.name for a in s.answers) for s in fix.steps if not s.by_hand]
    for task, step in zip(tasks, [s for s in fix.steps if not s.by_hand]):
        assert step.command in task["ansible.builtin.shell"]["cmd"] and step.guard in task["ansible.builtin.shell"]["cmd"]
    assert "down1: nothing to do" in text_out and "not a plain host name" in text_out


@pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(), reason="ansible-core (the test extra) is not installed")
def test_ansible_playbook_accepts_the_playbook(tmp_path):
    doc = document_of(_ip_forward_off(faulty("libvirt11-iptables", "stp-off", base="rule-ahead-nat")))
    doc["hosts"].append(report_docs.host("hv2", {"NET-07": {"outcome": "failed", "message": 'a "quoted" {{ x }} \u2028'}}))
    book = tmp_path / "fix.yml"
    book.write_text(playbook(doc, "r.json"))
    inventory = tmp_path / "hosts"
    inventory.write_text("hv1\nhv2\n")
    run = subprocess.run([str(ANSIBLE_PLAYBOOK), "--syntax-check", "-i", str(inventory),
                          str(book)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "ANSIBLE_LOCAL_TEMP": str(tmp_path), "ANSIBLE_HOME": str(tmp_path)})
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_playbook_of_hosts_with_nothing_to_do_is_an_empty_list():
    assert yaml.load(playbook(report_docs.document(report_docs.host("ok1")), "r.json"), Loader=_Loader) == []


NFT_SEEN = "2>/dev/null | tr -d '\" \\t{}' | grep -qF --"
V4_INSERT = "/^\\*filter[[:space:]]*$/,/^COMMIT[[:space:]]*$/{/^COMMIT/i -I FORWARD -j ACCEPT"


@pytest.mark.parametrize("command, guard", [
    ("sysctl -w net.ipv4.ip_forward=1", '[ "$(sysctl -n net.ipv4.ip_forward 2>/dev/null)" != 1 ]'),
    ("sysctl -w net.ipv4.conf.eth0/100.forwarding=1=2", '[ "$(sysctl -n net.ipv4.conf.eth0/100.forwarding 2>/dev/null)" != 1=2 ]'),
    ("sysctl -w a", None), ("sysctl -w a=1 b=1", None), ("sysctl -W a=1", None), ("sysctl a=1", None),
    ("iptables -I FORWARD -i virbr0 -j ACCEPT", "! iptables -C FORWARD -i virbr0 -j ACCEPT 2>/dev/null"),
    ("iptables -I FORWARD 1 -i virbr0 -j ACCEPT", "! iptables -C FORWARD -i virbr0 -j ACCEPT 2>/dev/null"),
    ("iptables -I FORWARD 1", "! iptables -C FORWARD 2>/dev/null"),  # a rule that matches all, at the top
    ("iptables-legacy -t nat -A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE",
     "! iptables-legacy -t nat -C POSTROUTING -s 10.0.0.0/8 -j MASQUERADE 2>/dev/null"),
    ("iptables -D FORWARD -i 'a b' -j DROP", "iptables -C FORWARD -i 'a b' -j DROP 2>/dev/null"),
    ("iptables -D FORWARD 3", None), ("iptables -I FORWARD", None), ("iptables -L", None),
    ("nft delete rule inet filter forward handle 7", "nft -a list chain inet filter forward 2>/dev/null | grep -q '# handle 7$'"),
    ("nft delete rule inet filter forward handle x", None), ("nft delete rule inet filter forward handle", None),
    ("nft delete rule inet filter forward handle 1_0", None),  # digits as nft reads them, not as Python's int()
    ("nft delete rule inet filter forward 7 7", None),
    ("nft insert rule inet filter input iifname \"virbr0\" udp dport { 67, 68 } accept",
     f"! nft list chain inet filter input {NFT_SEEN} iifnamevirbr0udpdport67,68accept"),
    ("nft add rule ip t c accept", f"! nft list chain ip t c {NFT_SEEN} accept"),
    ("nft add table ip t", None), ("nft insert rule ip t", None), ("nft list ruleset", None),
    ("virsh net-start default", "! virsh net-info default 2>/dev/null | grep -Eq '^Active:[[:space:]]+yes'"),
    ("virsh net-start", None), ("virsh net-start a b", None), ("systemctl start x", None), ("'unclosed", None),
    ("printf '\\n%s\\n' 'add x' >> /f", "! grep -qxF -- 'add x' /f 2>/dev/null"),
    ("printf '%s\\n' a 'b c' > /f", "[ \"$(printf '%s\\n' a 'b c')\" != \"$(cat /f 2>/dev/null)\" ]"),
    # a line appended is one line after a blank one; a file written whole is written, not appended to
    ("printf '\\n%s\\n' a b >> /f", None), ("printf '\\n%s\\n' a > /f", None), ("printf '%s\\n' a >> /f", None),
    ("printf", None), ("printf '%s\\n'", None), ("printf > /f", None), ("echo '\\n%s\\n' a >> /f", None),
    ("ufw allow 67/udp", "! ufw show added 2>/dev/null | grep -qxF -- 'ufw allow 67/udp'"),
    ("ufw allow", None), ("ufw insert 1 allow 67/udp", None), ("echo allow 1", None),  # ufw_rule's forms alone
    (f"sed -i -e '{V4_INSERT}' -e '}}' /etc/iptables/rules.v4",
     "! grep -qxF -- '-I FORWARD -j ACCEPT' /etc/iptables/rules.v4 2>/dev/null"),
    (f"sed -i -e '{V4_INSERT}' -e '}}' /etc/iptables/rules.v4 /etc/iptables/rules.v6", None),
])
def test_each_kind_of_fix_has_its_guard(command, guard):
    assert command_guard(command) == guard


def test_the_guards_words_come_from_the_audits_profile():
    site = {"network": "nat0", "bridge": "virbr7", "gateway": "10.7.0.1/16", "dhcp_start": "10.7.0.2",
            "dhcp_end": "10.7.255.254", "require_ipv6_forwarding": False, "waivers": [{"check": "NET-07"}], "later": 1}
    values = guard_values(site)
    assert {k: values[k] for k in ("network", "bridge", "gateway", "subnet", "gateway_ip", "dnsmasq_conf")} == {
        "network": "nat0", "bridge": "virbr7", "gateway": "10.7.0.1/16", "subnet": "10.7.0.0/16",
        "gateway_ip": r"10\.7\.0\.1", "dnsmasq_conf": "dnsmasq/nat0.conf"}
    assert "net.ipv6" not in values["forwarding_off"] and "net.ipv4.conf.all.forwarding" in values["forwarding_off"]
    stock = guard_values(None)
    assert stock["forwarding_off"].split(" || ")[:2] == ['[ "$(sysctl -n net.ipv4.conf.all.forwarding 2>/dev/null)" != 1 ]',
                                                         '[ "$(sysctl -n net.ipv6.conf.all.forwarding 2>/dev/null)" != 1 ]']
    assert (stock["network"], stock["subnet"]) == ("default", "192.168.122.0/24")
    assert "net.ipv6.conf.all.forwarding" in stock["forwarding_off"]  # the document's profile requires it
    assert guard_values({"gateway": "not an address"}) == stock  # a profile that does not parse: the defaults


@pytest.mark.parametrize("files, to_do", [
    ((), True), (("net.ipv4.conf.all.forwarding = 1",), False), (("  net/ipv4/conf/all/forwarding=1  ",), False),
    (("net.ipv4.conf.all.forwarding = 1", "net.ipv4.conf.all.forwarding=0"), True),
    (("net.ipv4.conf.all.forwarding = 10",), True), (("net.ipv4.conf.all.forwarding_x = 1",), True),
    (("net-ipv4-conf-all-forwarding = 1",), True),  # a dot of the key matches a dot or a slash only
])
def test_the_at_boot_guard_is_to_do_until_sysctl_d_sets_the_key_to_1_and_nothing_else(tmp_path, files, to_do):
    from virtnat.report import fix_order
    for n, line in enumerate(files):
        (tmp_path / f"{n}.conf").write_text(f"# a comment\n{line}\n")
    guard = fix_order._at_boot_off("net.ipv4.conf.all.forwarding").replace(fix_order._FILES, f"{tmp_path}/*.conf")
    assert (subprocess.run(["/bin/sh", "-c", guard], timeout=10).returncode == 0) == to_do


def test_a_guard_template_keeps_what_it_does_not_know_and_its_doubled_braces():
    from virtnat.report.fix_order import fill
    assert fill("ip link show {bridge} | grep {{x}} {later}", {"bridge": "virbr7"}) == "ip link show virbr7 | grep {x} {later}"


def test_a_step_by_hand_and_one_without_a_test_say_so_and_a_guest_checks_guard_names_it_quoted():
    checks = [
        {"id": "HOST-04", "title": "", "impact": "high", "subject": None, "outcome": "failed", "message": "missing: dnsmasq",
         "remediation": "apt-get install dnsmasq-base"},
        {"id": "NET-05", "title": "", "impact": "medium", "subject": None, "outcome": "failed", "message": "no DHCP range",
         "remediation": "virsh net-edit default"},
        {"id": "VM-03", "title": "", "impact": "high", "subject": "web 1:vnet 0", "outcome": "failed", "message": "vnet0 is DOWN",
         "remediation": "ip link set dev vnet0 up"},
        {"id": "PATH-03", "title": "", "impact": "high", "subject": None, "outcome": "failed", "message": "dropped",
         "remediation": "iptables -I FORWARD -i virbr0 -j ACCEPT"},
    ]
    doc = report_docs.document({"host": "hv1", "summary": {}, "checks": checks}, profile=Profile().as_dict())
    [fix] = plan(doc)
    by_id = {step.answers[0].name.split("[")[0]: step for step in fix.steps}
    assert by_id["HOST-04"].guard is None and not by_id["HOST-04"].by_hand and by_id["NET-05"].by_hand
    assert by_id["PATH-03"].guard == "! iptables -C FORWARD -i virbr0 -j ACCEPT 2>/dev/null"  # read from its own fix
    assert by_id["VM-03"].guard == "! ip link show dev 'vnet 0' 2>/dev/null | grep -q '[<,]UP[,>]'"  # its tap, quoted
    lines = {step.answers[0].name.split("[")[0]: describe(step, n) for n, step in enumerate(fix.steps, 1)}
    assert lines["HOST-04"][-1] == "# No test tells whether it is still needed: it runs each time the script runs."
    assert ", by hand, answers NET-05 (medium): no DHCP range" in lines["NET-05"][0]
    assert len(lines["NET-05"]) == 1 and ", by hand," not in lines["PATH-03"][0]


def _failed(check_id: str, remediation: str | None, subject: str | None = None) -> dict:
    return {"id": check_id, "title": "", "impact": "high", "subject": subject, "outcome": "failed", "message": "m",
            "remediation": remediation}


def _one_host(*checks: dict, profile: dict | None = None) -> dict:
    return report_docs.document({"host": "hv1", "summary": {}, "checks": list(checks)}, profile=profile)


def test_one_checks_steps_for_several_guests_come_in_the_order_of_their_subjects():
    [fix] = plan(_one_host(_failed("VM-03", "ip link set dev vnet1 up", "web2:vnet1"),
                           _failed("VM-03", "ip link set dev vnet0 up", "web1:vnet0")))
    assert [step.command for step in fix.steps] == ["ip link set dev vnet0 up", "ip link set dev vnet1 up"]


def test_the_guards_name_the_bridge_of_the_audits_profile():
    [fix] = plan(_one_host(_failed("NET-07", "ip link set virbr7 up"), profile={**Profile().as_dict(), "bridge": "virbr7"}))
    assert fix.steps[0].guard == "! ip link show dev virbr7 2>/dev/null | grep -q '[<,]UP[,>]'"


def test_a_failed_check_whose_report_holds_no_fix_is_a_step_by_hand():
    [fix] = plan(_one_host(_failed("NET-05", None)))
    assert [(step.command, step.by_hand) for step in fix.steps] == [("", True)]


def test_the_forwarding_guard_of_host_07_is_its_own_not_the_one_its_sysctl_w_gives():
    """sysctl -w alone would give the value now; HOST-07's guard asks the files read at boot too."""
    [fix] = plan(_one_host(_failed("HOST-07", "sysctl -w net.ipv4.conf.all.forwarding=1")))
    assert fix.steps[0].guard == guard_values(None)["forwarding_off"]


def test_a_packet_path_fix_that_names_its_rule_is_guarded_by_that_rule():
    command = "nft delete rule ip nat postrouting handle 7"
    [fix] = plan(_one_host(_failed("PATH-04", command)))
    assert fix.steps[0].guard == command_guard(command) == "nft -a list chain ip nat postrouting 2>/dev/null | grep -q '# handle 7$'"


def test_a_guest_checks_guard_names_the_guest_quoted():
    [fix] = plan(_one_host(_failed("VM-04", "virsh destroy --domain 'web 1'", "web 1:vnet0")))
    assert fix.steps[0].guard.startswith("mac=$(virsh domiflist --domain 'web 1' 2>/dev/null | awk -v tap=vnet0 ")


def test_every_step_left_by_hand_is_named_in_the_line_that_says_so():
    script = shell_scripts(_one_host(_failed("NET-05", "virsh net-edit default"), _failed("NET-04", "virsh net-edit default2")),
                           "r.json")
    assert "virtnat fix: step 1, 2 is left to do by hand (see its comment)" in script


def test_a_comment_has_no_trailing_space():
    assert (comment(""), comment("ends in spaces  ")) == ("#", "# ends in spaces")


def test_a_guarded_steps_blank_lines_stay_empty():
    step = Step("echo a\n\necho b", (Answer("NET-07", "high", "down"),), "true", False)
    assert body(step, 1) == "if true; then\n    { echo a\n\n    echo b\n    } || fail 1 NET-07\nfi"


def test_a_host_the_document_does_not_hold_is_a_key_error():
    with pytest.raises(KeyError) as raised:
        plan(report_docs.document(report_docs.host("hv1")), "hv2")
    assert raised.value.args == ("hv2",)


def _mixed_document() -> dict:
    """Three hosts: one with a step by hand, one without a test, a guest's, a rule's, one not
    carried out and one waived; one with nothing failing; one whose every step is by hand."""
    def check(check_id, outcome, message, remediation, subject=None, impact="high"):
        return {"id": check_id, "title": "", "impact": impact, "subject": subject, "outcome": outcome, "message": message,
                "remediation": remediation}
    first = [check("HOST-04", "failed", "missing: dnsmasq", "apt-get install dnsmasq-base"),
             check("NET-05", "failed", "no DHCP range", "virsh net-edit default", impact="medium"),
             check("VM-03", "failed", "vnet0 is DOWN", "ip link set dev vnet0 up", subject="web[1]:vnet0"),
             check("PATH-03", "failed", "dropped", "iptables -I FORWARD -i virbr0 -j ACCEPT && iptables -I FORWARD -o virbr0 -j ACCEPT"),
             check("NET-15", "error", "listening sockets could not be read", "virsh net-start default"),
             check("HOST-03", "waived", "firewalld.service is 'disabled'", "systemctl enable firewalld")]
    doc = report_docs.document({"host": "hv1", "summary": {}, "checks": first},
                               {"host": "hv2", "summary": {}, "checks": [check("NET-07", "passed", "", "true")]},
                               {"host": "hv3", "summary": {}, "checks": [check("NET-05", "failed", "no DHCP range", "")]},
                               profile=Profile().as_dict())
    del doc["started"]
    return doc


def test_the_scripts_and_playbook_of_mixed_hosts_are_the_golden_ones():
    doc = _mixed_document()
    for name, text in (("mixed.sh", shell_scripts(doc, "r.json")), ("mixed.yml", playbook(doc, "r.json"))):
        golden = GOLDEN / name
        if WRITE:
            golden.write_text(text)
        assert text == golden.read_text(), name
