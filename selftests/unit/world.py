"""A host in a JSON file, for running `virtnat fix`'s scripts in bash: `make(bin, state)` puts one
stand-in per command on a PATH of its own (virsh, ip, sysctl, nft, iptables... and the real grep,
sed, tr, awk); each reads and changes the state as the real command would for the forms the
scripts use, and logs every call that changes something. Nothing else of the machine is touched."""
import json
import shutil
import sys
from pathlib import Path

COMMANDS = ("virsh", "ip", "sysctl", "systemctl", "nft", "iptables", "iptables-save", "iptables-legacy",
            "iptables-legacy-save", "pgrep", "firewall-cmd", "ss", "kill")
REAL = ("grep", "sed", "tr", "awk", "cat")


def make(bin_dir: Path, state: dict) -> Path:
    """The stand-ins in bin_dir and the state beside it; returns the log of changing calls."""
    bin_dir.mkdir()
    (bin_dir.parent / "state.json").write_text(json.dumps(state))
    for name in COMMANDS:
        (bin_dir / name).write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
                                    f"import world\nsys.exit(world.main({str(bin_dir.parent)!r}, sys.argv))\n")
        (bin_dir / name).chmod(0o755)
    for name in REAL:
        (bin_dir / name).symlink_to(shutil.which(name))
    return bin_dir.parent / "changes"


def main(home: str, argv: list[str]) -> int:
    path = Path(home) / "state.json"
    state = json.loads(path.read_text())
    command, args = Path(argv[0]).name, argv[1:]
    out, changed = _run(state, command, args)
    if changed:
        path.write_text(json.dumps(state))
        with open(Path(home) / "changes", "a") as log:
            log.write(" ".join([command, *args]) + "\n")
    if out is None:
        return 1
    sys.stdout.write(out)
    return 0


def _run(state: dict, command: str, args: list[str]) -> tuple[str | None, bool]:
    """(what it prints, None for a failure; whether it changed the state)."""
    net, links = state["net"], state["links"]
    if command == "sysctl":
        if args[0] == "-n":
            return state["sysctl"].get(args[1], "0") + "\n", False
        if args[0] == "-w":
            key, _, value = args[1].partition("=")
            state["sysctl"][key] = value
            return "", True
    if command == "virsh":
        if args[0] == "net-info":
            return "".join(f"{k}:{' ' * 10}{'yes' if net[k] else 'no'}\n" for k in ("Active", "Persistent", "Autostart")), False
        if args[0] in ("net-start", "net-destroy"):
            up = args[0] == "net-start"
            if net["Active"] == up:
                return None, False
            net["Active"] = up
            links["virbr0"]["up"] = up
            return "", True
        if args[0] == "net-autostart":
            net["Autostart"] = True
            return "", True
        return "", False
    if command == "ip":
        words = [a for a in args if a not in ("-d", "-o", "-4", "-br")]
        if words[:2] == ["link", "show"]:
            link = links.get(words[-1])
            if link is None:
                return None, False
            flags = "<BROADCAST,UP>" if link["up"] else "<BROADCAST>"
            master = f" master {link['master']}" if link.get("master") else ""
            return f"1: {words[-1]}: {flags} mtu 1500{master} state UP\n    bridge stp_state {link.get('stp', 0)}\n", False
        if words[:2] == ["link", "set"]:
            name = words[3] if words[2] == "dev" else words[2]
            rest = words[4:] if words[2] == "dev" else words[3:]
            if rest == ["up"]:
                links[name]["up"] = True
            elif rest[-1:] == ["1"] and "stp_state" in rest:
                links[name]["stp"] = 1
            return "", True
        return "", False
    if command in ("nft", "iptables", "iptables-legacy"):
        rules = state["rules"].setdefault(command, [])
        if command == "nft" and args[:2] == ["list", "chain"]:
            return "".join(f"\t\t{r}\n" for r in rules if r.startswith(" ".join(args[2:5]) + " ")), False
        if command == "nft" and args[:2] == ["insert", "rule"]:
            rules.append(" ".join(args[2:]))
            return "", True
        if "-C" in args:
            return ("" if " ".join(args).replace("-C", "-I") in rules else None), False
        if "-I" in args:
            rules.append(" ".join(args))
            return "", True
    if command == "systemctl" and args[:1] == ["show"]:  # the daemons' After=
        return " ".join(state.get("after", [])) + "\n", False
    if command == "systemctl" and args[:1] == ["enable"]:  # a unit of lasting.py's: enabled once
        units = state.setdefault("units", [])
        if args[-1] in units:
            return "", False
        units.append(args[-1])
        return "", True
    if command == "systemctl" and "--quiet" in args:
        return ("" if args[-1] in state.get("units", []) else None), False
    return "", False
