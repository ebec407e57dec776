"""Issue 9's report on real audits, opened in headless Chromium as an operator would: the healthy
lab, the lab with three faults, an unreachable host beside a healthy one, a host whose libvirt is
gone, and 100 hosts audited from recorded probe output. Each page's verdicts and picture are read
from the DOM after its script ran; no Python internals in its text, no script error in its console.
Screenshots go to reports/screenshots/ (the README's comes from the three-fault one). And waivers
on the lab: a waived fault is `waived` with exit 0, an expired waiver fails it again."""
import json
import re
import shutil
import subprocess
import sys
from urllib.parse import unquote

import pytest

from selftests.browser import CHROMIUM, SHOTS, open_page
from selftests.unit.checkrun import DATA
from selftests.unit.html_tree import parse, visible_text
from virtnat.report.verdict import IMPACTS

from .labhost import ADDRS, NOLISTEN, ROOT

browser = pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by `make lab-deps`")
INTERNALS = re.compile(r"Traceback|AssertionError|During handling|0x[0-9a-f]{6,}|<built-in|\{'")


def page(run, name: str):
    """The run's own HTML report in Chromium: (parsed DOM, host sections by name)."""
    html = next(p for p in run.report_dir.glob("*.html") if p.name != "latest.html")
    dom, console = open_page(html, screenshot=SHOTS / f"{name}.png")
    assert console == [], console
    tree = parse(dom)
    text = visible_text(tree)
    assert not INTERNALS.search(text), INTERNALS.search(text)
    sections = {s["data-host"]: s for s in tree.iter("section", class_="host")}
    folder = html.with_suffix("")  # a fleet's: each host's section on a page of its own there
    for n, host_page in enumerate(sorted(folder.glob("*.html")) if folder.is_dir() else []):
        dom, console = open_page(host_page, screenshot=SHOTS / f"{name}-{n}.png")
        assert console == [], console
        sections.update({s["data-host"]: s for s in parse(dom).iter("section", class_="host")})
    return tree, sections


def shown(tree, tag: str, **attrs):
    """The elements the filters leave shown (none of them or of their ancestors hidden)."""
    return [e for e in tree.iter(tag, **attrs) if "hidden" not in e.attrs and not any("hidden" in a.attrs for a in e.ancestors())]


def pieces(section) -> dict[str, str]:
    return {g["data-piece"]: g["data-state"] for g in section.iter("g", data_piece=True)}


@browser
def test_the_healthy_lab_reads_ok_with_every_piece_green(lab):
    run = lab.audit()
    assert run.rc == 0, run.stdout
    _, sections = page(run, "lab-healthy")
    [section] = sections.values()
    assert section["data-verdict"] == "ok"
    assert pieces(section) == {p: "passed" for p in ("guests", "bridge", "forwarding", "firewall", "uplink", "dnsmasq", "libvirt")} | {
        "outside": "none"}


THREE_FAULTS = [  # (inject, undo, read back while in place)
    ("virsh net-autostart --disable default", "virsh net-autostart default", "virsh -r net-info default | grep -Eq '^Autostart:[[:space:]]+no'"),
    ("sysctl -qw net.ipv4.ip_forward=0", "sysctl -qw net.ipv4.ip_forward=1", "test \"$(cat /proc/sys/net/ipv4/ip_forward)\" = 0"),
    ("ip link set {tap} nomaster", "ip link set {tap} master virbr0", "! ip -o link show {tap} | grep -q 'master virbr0'"),
]


@browser
def test_three_faults_read_as_failing_pieces_with_their_fixes(lab):
    tap = lab.tap()
    proof = " && ".join(f"({p.format(tap=tap)})" for _, _, p in THREE_FAULTS) + " && echo in-place"
    for inject, _, _ in THREE_FAULTS:
        lab.sh(inject.format(tap=tap))
    try:
        assert "in-place" in lab.sh(proof, check=False)
        run = lab.audit()
    finally:
        for _, undo, _ in THREE_FAULTS:
            lab.sh(undo.format(tap=tap), check=False)
    assert lab.wait_healthy().rc == 0
    assert run.rc == 1
    failed = {c["id"] for c in run.doc["hosts"][0]["checks"] if c["outcome"] == "failed"}
    assert {"NET-03", "HOST-05", "VM-02"} <= failed, failed
    _, sections = page(run, "lab-three-faults")
    [section] = sections.values()
    assert section["data-verdict"] == "failing"
    assert section.one("span", class_="verdict v-failing").text() == f"{len(failed)} failing"
    assert pieces(section) == {"libvirt": "failed", "forwarding": "failed", "guests": "failed", "firewall": "failed",
                               "bridge": "passed", "dnsmasq": "passed", "uplink": "passed", "outside": "none"}
    # each failure first, with its message and its fix to copy
    net03 = section.one("article", data_id="NET-03", data_outcome="failed")
    assert "autostart is off" in net03.text() and "virsh net-autostart default" in net03.text()
    assert "sysctl" in section.one("article", data_id="HOST-05", data_outcome="failed").text()


@browser
def test_an_unreachable_host_beside_a_healthy_one(lab, tmp_path):
    cfg = lab.ssh_config(tmp_path / "config")
    run = lab.audit(f"--hosts=ssh://{ADDRS[0]},ssh://{NOLISTEN}", f"--ssh-config={cfg}", inside=False)
    assert run.rc == 1, run.stdout
    tree, sections = page(run, "lab-unreachable")
    assert {name: s["data-verdict"] for name, s in sections.items()} == {ADDRS[0]: "ok", NOLISTEN: "unreachable"}
    assert "Connection refused" in sections[NOLISTEN].one("p", class_="reason").text()
    assert set(pieces(sections[NOLISTEN]).values()) == {"error", "none"}
    rows = tree.one("table", class_="hosts").all("tr", data_h=True)
    assert [r["data-host"] for r in rows] == [NOLISTEN, ADDRS[0]]  # the worst first


@browser
def test_a_host_whose_libvirt_is_gone(lab):
    run = lab.audit("--libvirt-uri=qemu:///system?socket=/run/virtnat-nonexistent/libvirt-sock")
    assert run.rc == 1
    _, sections = page(run, "lab-no-libvirt")
    [section] = sections.values()
    assert section["data-verdict"] == "failing"
    assert section.one("p", class_="reason").text().startswith("HOST-01")
    states = pieces(section)
    assert (states["libvirt"], states["guests"], states["forwarding"], states["uplink"]) == ("failed", "error", "passed", "passed")


@browser
def test_a_hundred_hosts_from_recorded_probe_output(tmp_path):
    folder = tmp_path / "bundles"
    folder.mkdir()
    recordings = sorted(DATA.glob("*/*.txt"))  # both generations, healthy and faulty
    for n in range(100):
        shutil.copy(recordings[n % len(recordings)], folder / f"hv{n:03}.txt")
    out = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(ROOT / "tests"), f"--facts={folder}",
                           f"--report-dir={out}"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout[-2000:]
    html = next(p for p in out.glob("100-hosts-*.html"))
    dom, console = open_page(html, screenshot=SHOTS / "hundred-hosts.png")
    assert console == []
    tree = parse(dom)
    assert not tree.all("section", class_="host") and len(tree.one("table", class_="hosts").all("tr", data_h=True)) == 100
    document = json.loads(next(out.glob("100-hosts-*.json")).read_text())
    # the page opens with the causes: the most hosts' one among the most severe first, each with its hosts
    rows = tree.one("table", class_="causes").all("tr", class_=True)
    assert rows and tree.one("section", class_="causes").one("h2").text() == f"Problems by cause ({len(rows)})"
    for row in rows:
        ids = set(row["data-ids"].split())
        listed = [a.text() for a in row.one("details", class_="on").iter("a")]
        assert len(listed) == int(row["data-hosts"]) == len(set(listed))
        for host in (h for h in document["hosts"] if h["host"] in listed):
            assert ids <= {c["id"] for c in host["checks"] if c["outcome"] == row["data-outcome"]}, (host["host"], ids)
    order = [(IMPACTS.index(r.all("td")[0].text()), -int(r["data-hosts"])) for r in rows]
    assert order == sorted(order)  # the most severe first, then the most hosts
    # a host's detail is one click away: its own page, with its verdict, picture and checks
    link = rows[0].one("details", class_="on").all("a")[0]["href"]
    dom, console = open_page(html.parent / unquote(link), "?outcome=failed", SHOTS / "hundred-hosts-one.png")
    assert console == []
    section = parse(dom).one("section", class_="host")
    assert section["data-host"] == rows[0].one("details", class_="on").all("a")[0].text() and section["data-verdict"] != "ok"
    assert section.one("svg") and all(a["data-outcome"] == "failed" for a in shown(section, "article", class_=True))
    sections = [parse(p.read_text()).one("section", class_="host") for p in html.with_suffix("").glob("*.html")]
    ok = {h["host"] for h in document["hosts"] if not {c["outcome"] for c in h["checks"]} & {"failed", "error"}}
    assert len(sections) == 100 and {s["data-host"] for s in sections if s["data-verdict"] == "ok"} == ok
    healthy = {f"hv{n:03}": recordings[n % len(recordings)].parent.name for n in range(100)
               if recordings[n % len(recordings)].name == "healthy.txt"}
    assert {host for host, generation in healthy.items() if generation == "libvirt9"} <= ok
    failing = {h["host"]: {c["id"] for c in h["checks"] if c["outcome"] in ("failed", "error")} for h in document["hosts"]}
    # Debian 13's libvirtd.service has no After=firewalld.service: its healthy hosts fail HOST-11 alone
    assert all(failing[host] == {"HOST-11"} for host, generation in healthy.items() if generation != "libvirt9")
    assert len(ok) < 100  # the faulty recordings fail


WAIVED = 'check = "NET-03"\nhosts = "*"\nreason = "autostart off while the lab is rebuilt"\n'


@pytest.mark.parametrize("expires, rc, outcome", [("2999-12-31", 0, "waived"), ("2020-01-31", 1, "failed")])
def test_a_waived_fault_on_the_lab(lab, tmp_path, expires, rc, outcome):
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(f"[[waiver]]\n{WAIVED}expires = {expires}\n")
    waivers.chmod(0o644)
    lab.sh("virsh net-autostart --disable default")
    try:
        assert "no" in lab.sh("virsh -r net-info default | grep -E '^Autostart'")
        run = lab.audit(f"--waivers={waivers}")
    finally:
        lab.sh("virsh net-autostart default")
    assert run.rc == rc, run.stdout
    net03 = run.check("NET-03")
    assert net03["outcome"] == outcome and "autostart is off" in net03["message"]
    others = {k: v for k, v in run.outcomes().items() if k != "NET-03"}
    assert set(others.values()) == {"passed"}, others
    if outcome == "waived":
        assert net03["waiver"] == {"reason": "autostart off while the lab is rebuilt", "expires": expires}
        assert "WAIVED" in run.stdout
    else:
        assert net03["message"].endswith(f"(its waiver expired after {expires}: autostart off while the lab is rebuilt)")
