"""Issue 3, done-when 1 and 3: the lab audited over SSH (sshd in its namespace, reached over
a veth) gives the same outcome for every check as a local audit, healthy and with a fault;
through a Vagrant-style ssh-config and an Ansible inventory it audits green."""
import pytest

from .labhost import ADDRS, KEY, KNOWN_HOSTS, LAB_USER, RESULT_COUNT

HOST = ADDRS[0]


@pytest.fixture(scope="module")
def cfg(lab, tmp_path_factory):
    return lab.ssh_config(tmp_path_factory.mktemp("ssh") / "config")


def remote(lab, cfg, *args, spec=f"ssh://{HOST}"):
    return lab.audit(f"--hosts={spec}", f"--ssh-config={cfg}", *args, inside=False)


@pytest.mark.parametrize("connection", ["ssh", "paramiko"])
def test_remote_audit_matches_local_on_healthy_host(lab, cfg, connection):
    local = lab.audit()
    over_ssh = remote(lab, cfg, spec=f"{connection}://{HOST}")
    assert over_ssh.rc == 0, over_ssh.stdout
    assert over_ssh.outcomes() == local.outcomes()
    assert over_ssh.doc["hosts"][0]["host"] == HOST


def test_remote_audit_matches_local_with_a_fault(lab, cfg):
    down = "ip -o link show virbr0 | grep -vq '[<,]UP[,>]' && echo in-place"
    lab.sh("ip link set virbr0 down")
    try:
        before = lab.sh(down, check=False)
        local, over_ssh = lab.audit(), remote(lab, cfg)
        after = lab.sh(down, check=False)
    finally:
        lab.sh("ip link set virbr0 up")
    assert "in-place" in before and "in-place" in after, "virbr0 was not down all through both audits"
    assert over_ssh.outcomes() == local.outcomes()
    assert over_ssh.check("NET-07")["outcome"] == "failed"
    assert "virbr0 is administratively DOWN" in over_ssh.check("NET-07")["message"]
    assert over_ssh.check("NET-07")["message"] == local.check("NET-07")["message"]
    assert lab.wait_healthy().rc == 0


def test_remote_libvirt_through_libvirt_python(lab, cfg):
    """--libvirt-uri with {host}: libvirt-python reads the remote daemon (host key verified)."""
    uri = f"qemu+libssh2://root@{{host}}/system?keyfile={KEY}&known_hosts={KNOWN_HOSTS}&sshauth=privkey"
    run = remote(lab, cfg, f"--libvirt-uri={uri}")
    assert run.rc == 0, run.stdout
    assert "qemu+libssh2://root@" + HOST in run.check("HOST-01")["message"]


def test_vagrant_style_ssh_config(lab, tmp_path):
    config = tmp_path / "ssh-config"
    config.write_text(
        f"Host default\n  HostName {HOST}\n  User root\n  Port 22\n  UserKnownHostsFile /dev/null\n"
        f"  StrictHostKeyChecking no\n  PasswordAuthentication no\n  IdentityFile {KEY}\n  IdentitiesOnly yes\n  LogLevel FATAL\n"
    )
    for connection in ("ssh", "paramiko"):
        run = lab.audit(f"--hosts={connection}://default", f"--ssh-config={config}", inside=False)
        assert run.rc == 0, run.stdout
        assert run.doc["hosts"][0]["summary"]["passed"] == RESULT_COUNT


def test_ansible_inventory(lab, tmp_path):
    inventory = tmp_path / "inventory.ini"
    opts = f"ansible_user=root ansible_ssh_private_key_file={KEY} ansible_ssh_common_args='-o UserKnownHostsFile={KNOWN_HOSTS}'"
    inventory.write_text(f"[hypervisors]\nhv1 ansible_host={ADDRS[0]} {opts}\nhv2 ansible_host={ADDRS[1]} {opts}\n")
    run = lab.audit("--hosts=ansible://hypervisors", f"--ansible-inventory={inventory}", inside=False)
    assert run.rc == 0, run.stdout
    assert [h["host"] for h in run.doc["hosts"]] == ["hv1", "hv2"]


@pytest.mark.parametrize("connection", ["ssh", "paramiko"])
def test_unknown_host_key_is_refused(lab, tmp_path, connection):
    """Without a known_hosts entry, neither backend connects (testinfra's paramiko would)."""
    config = tmp_path / "config"
    config.write_text(f"Host {HOST}\n  User root\n  IdentityFile {KEY}\n  UserKnownHostsFile {tmp_path / 'empty'}\n")
    (tmp_path / "empty").write_text("")
    run = lab.audit(f"--hosts={connection}://{HOST}", f"--ssh-config={config}", inside=False)
    assert run.rc == 1
    checks = run.doc["hosts"][0]["checks"]
    assert {c["outcome"] for c in checks} == {"error"}, run.outcomes()
    assert all("known_hosts" in c["message"] for c in checks), checks[0]


def test_firewall_facts_need_root_and_sudo_gives_it(lab, tmp_path):
    cfg = lab.ssh_config(tmp_path / "config", user=LAB_USER)
    plain = remote(lab, cfg)
    for check in ("NET-11", "NET-12", "NET-14"):
        result = plain.check(check)
        assert result["outcome"] == "error" and "needs root: run with --sudo" in result["message"], result
    assert plain.check("NET-07")["outcome"] == "passed"
    assert plain.check("HOST-02")["outcome"] == "passed", "a non-root user still sees root's daemons"
    with_sudo = remote(lab, cfg, "--sudo")
    assert with_sudo.rc == 0, with_sudo.stdout


def test_password_in_host_spec_is_never_written(lab, cfg):
    secret = "s3cret-Pw"
    run = remote(lab, cfg, spec=f"paramiko://root:{secret}@{HOST}")
    assert run.rc == 0, run.stdout
    assert secret not in run.stdout
    for path in run.report_dir.iterdir():
        assert secret not in path.read_text(errors="replace"), path
