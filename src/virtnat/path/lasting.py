"""An accept that lasts (pure): the rule now, and where the host keeps it past a reload and the next
boot, in the language of whatever loads that table at boot. Docker's DOCKER-USER: a unit that puts
the rule back each time docker.service starts. A host nftables table that nftables.service's
configuration defines: the rule's line at the end of that file. A host's own iptables rules that
netfilter-persistent restores: the rule's line in rules.v4. Anywhere else virtnat cannot tell who
makes the table at boot: the fix is the rule now, and the note says so and gives the line to keep."""
from __future__ import annotations

import hashlib
import re
import shlex

from ..facts.fwfiles import NFT_CONFS, RULES_V4, FirewallFiles
from ..facts.ruleset import Table
from .owners import _PLAIN, _nft_words, accept_rule, delete_rule

UNIT_DIR = "/etc/systemd/system"
OLDER_PROBE = "the facts hold no firewall-files section (an older probe's output): collect them again to know"


def lasting_accept(tables: tuple[Table, ...], table: Table, chain: str, accept, who: str,
                   files: FirewallFiles | None) -> tuple[str, str | None]:
    """The accept for the packet (accept_rule's) and the steps that keep it, as one command; and
    the note that says how it lasts, or that nothing known keeps it and what would."""
    live = accept_rule(table, chain, accept)
    words = shlex.split(live)
    if table.source == "nftables":
        return _nft_lasting(live, table, chain, accept, who, files)
    at = words.index("-I")
    chain = words[at + 1]
    if chain == "DOCKER-USER":
        return _docker(live, words, accept, files)
    return _iptables(tables, live, words, table, accept, who, files)


def _plain(accept, *names: str) -> bool:
    """Only plain names go into a file read at boot: no name can make it say more than the rule."""
    values = [str(v) for k, v in accept if k in ("iif", "oif")] + list(names)
    return all(_PLAIN.fullmatch(v) for v in values)


def _hostile(live: str) -> str:
    return (f"the rule names an interface, table or chain a boot file would not read as it is, so virtnat writes it to "
            f"none: the fix adds it now, and no boot keeps it (`{live}`)")


def _docker(live: str, words: list[str], accept, files: FirewallFiles | None) -> tuple[str, str | None]:
    """Docker keeps DOCKER-USER's rules at its own restart (it makes the chain only where it is
    missing) but no file of Docker's holds them, so a boot loses them; `netfilter-persistent save`
    would save Docker's and libvirt's own rules with them, restored at boot before either starts,
    then doubled (and stale, for Docker's containers). A unit ordered after docker.service puts the
    rule back each time Docker starts, and nothing else."""
    rule = words[words.index("-I") + 2:]
    again = f"run `{live}` each time docker.service starts (a unit ordered after it: docs/fix.md)"
    if files is None:
        return live, f"Docker keeps no DOCKER-USER rule past a boot: {again}; {OLDER_PROBE}"
    if not files.systemd:
        return live, f"Docker keeps no DOCKER-USER rule past a boot, and systemd does not run here: {again}"
    if not _plain(accept):
        return live, _hostile(live)
    tool = words[0]
    unit = f"virtnat-docker-user-{hashlib.sha256(' '.join(words).encode()).hexdigest()[:10]}.service"
    spec = " ".join(["DOCKER-USER", *rule])
    lines = ["[Unit]", "Description=virtnat: libvirt guests in DOCKER-USER", "After=docker.service", "PartOf=docker.service",
             "[Service]", "Type=oneshot", "RemainAfterExit=yes", f"ExecStart=-{tool} -D {spec}", f"ExecStart={tool} -I {spec}",
             "[Install]", "WantedBy=docker.service"]
    path = f"{UNIT_DIR}/{unit}"
    write = f"printf '%s\\n' {' '.join(shlex.quote(line) for line in lines)} > {path}"
    return (f"{live} && {write} && systemctl enable {unit}",
            "Docker keeps DOCKER-USER's rules at its restart, not at a boot: a unit of virtnat's per rule "
            "(/etc/systemd/system/virtnat-docker-user-*.service) puts it back each time docker.service starts")


def _nft_line(table: Table, chain: str, accept) -> str:
    return f"insert rule {table.family} {table.name} {chain} {_nft_words(accept)}"


def _nft_lasting(live: str, table: Table, chain: str, accept, who: str, files: FirewallFiles | None) -> tuple[str, str | None]:
    """A host table that nftables.service's configuration defines gets the rule's line at the end of
    that file: nft reads the file as one transaction, the table first, then the insert. Elsewhere
    the owner is not known: the rule now, and the line to put where the table is made."""
    if not who.startswith("a host"):  # owner()'s "host ... rules" is iptables' alone
        return live, f"{who} makes that table: the fix adds the rule now, and it lasts until {who} makes the table again"
    if not _plain(accept, table.family, table.name, chain):
        return live, _hostile(live)
    line = _nft_line(table, chain, accept)
    keep = f"add `{line}` at the end of the file that makes the table at boot"
    unknown = f"who makes table {table.family} {table.name} at boot is not known"
    conf = files.nft_conf() if files else None
    if files is None:
        why = OLDER_PROBE
    elif conf and files.nft_defines(table.family, table.name, chain):
        if files.enabled("nftables.service"):
            append = f"printf '\\n%s\\n' {shlex.quote(line)} >> {conf}"
            return (f"{live} && {append}",
                    f"{conf}, which nftables.service loads at boot, makes table {table.family} {table.name}: "
                    f"the rule's line goes at its end, read after the table at the next boot")
        why = f"{conf} makes it, but nftables.service is not enabled: no boot loads that file"
    elif conf:
        why = f"{conf} (nftables.service's configuration{' and its includes' if len(files.nft_files) > 1 else ''}) " \
              f"does not make chain {chain} of it" + (f"; {'; '.join(files.problems)}" if files.problems else "")
    else:
        why = f"no nftables.service configuration was found ({' or '.join(NFT_CONFS)})"
    return live, f"{unknown}: {why}. The fix adds the rule now, and no boot keeps it; to keep it, {keep}"


def _iptables(tables: tuple[Table, ...], live: str, words: list[str], table: Table, accept, who: str,
              files: FirewallFiles | None) -> tuple[str, str | None]:
    """A host's own rule in a table netfilter-persistent restores at boot: the rule's line goes in
    rules.v4's part for that table, before its COMMIT (iptables-restore inserts it at the top, as
    the command does). Not `netfilter-persistent save`: it would save libvirt's and Docker's own
    rules too, restored at boot before either starts, then doubled."""
    at = words.index("-I")
    line = " ".join(words[at:])
    if not who.startswith(("a host", "host ")):
        return live, f"{who} makes that chain: the fix adds the rule now, and it lasts until {who} makes its rules again"
    if not _plain(accept, table.name, words[at + 1]):
        return live, _hostile(live)
    keep = (f"add `{line}` to the *{table.name} part of the rules the host restores at boot (netfilter-persistent's "
            f"{RULES_V4}, from the iptables-persistent package)")
    unknown = f"who makes the {table.source} {table.name} table's rules at boot is not known"
    # rules.v4 goes to `iptables-restore`, which is iptables-nft wherever iptables-save showed nft's tables
    speaks = "iptables-nft" if any(t.source == "iptables-nft" for t in tables) else "iptables-legacy"
    if files is None:
        why = OLDER_PROBE
    elif files.rules_v4 is None:
        why = f"there is no {RULES_V4}"
    elif not files.enabled("netfilter-persistent.service"):
        why = f"{RULES_V4} is there, but netfilter-persistent.service is not enabled: no boot loads it"
    elif table.source != speaks:
        why = f"{RULES_V4} is restored by iptables-restore, which is {speaks} here, not {table.source}"
    elif table.name not in files.rules_v4:
        why = f"{RULES_V4} holds no *{table.name} part"
    else:
        script = f"/^\\*{table.name}[[:space:]]*$/,/^COMMIT[[:space:]]*$/{{/^COMMIT/i {line}"
        insert = f"sed -i -e {shlex.quote(script)} -e '}}' {RULES_V4}"
        return (f"{live} && {insert}",
                f"netfilter-persistent restores {RULES_V4} at boot: the rule's line goes in its *{table.name} part")
    return live, f"{unknown}: {why}. The fix adds the rule now, and no boot keeps it; to keep it, {keep}"


def _bre(text: str) -> str:
    """text as a sed address between % signs that matches it alone (GNU sed's basic regex)."""
    return re.sub(r"([\\.\[\]*^$%])", r"\\\1", text)


def lasting_delete(tables: tuple[Table, ...], table: Table, chain: str, rule, who: str,
                   files: FirewallFiles | None) -> tuple[str, str | None]:
    """The rule's deletion now (delete_rule's) and, for a host's own iptables rule that
    netfilter-persistent restores, its line out of rules.v4's part for the table, or the next boot
    brings it back; elsewhere the note says where the rule may come from at boot."""
    live = delete_rule(table, chain, rule)
    if not who.startswith("a host"):  # owner(..., policy=False): a rule's, never "host ... rules"
        return live, f"{who} makes that rule: the fix deletes it now, and {who} makes it again when it next makes its rules"
    if table.source == "nftables":
        return live, (f"the fix deletes the rule now; if the file that makes table {table.family} {table.name} at boot "
                      f"({' or '.join(NFT_CONFS)}, for nftables.service) holds it, delete it there too, or the next boot "
                      f"brings it back")
    keep = (f"if the rules the host restores at boot (netfilter-persistent's {RULES_V4}) hold `{rule.text}`, delete it "
            f"there too, or the next boot brings it back")
    speaks = "iptables-nft" if any(t.source == "iptables-nft" for t in tables) else "iptables-legacy"
    if (files is None or files.rules_v4 is None or not files.enabled("netfilter-persistent.service")
            or table.source != speaks or table.name not in files.rules_v4 or "\n" in rule.text):
        return live, f"the fix deletes the rule now; {keep}"
    script = f"/^\\*{table.name}[[:space:]]*$/,/^COMMIT[[:space:]]*$/{{\\%^{_bre(rule.text)}$%d"
    return (f"{live} && sed -i -e {shlex.quote(script)} -e '}}' {RULES_V4}",
            f"netfilter-persistent restores {RULES_V4} at boot: the rule goes out of its *{table.name} part too, "
            f"where it is")
