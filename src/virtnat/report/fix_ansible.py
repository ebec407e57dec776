"""`virtnat fix --ansible`: the same steps as the shell scripts, as an Ansible playbook: a play per
host of the document (hosts: its name as audited), a task per step in the same order, each an
ansible.builtin.shell with the step's guard in the shell, changed only when the step ran.
Every string from the document is written !unsafe (Ansible does not template it) and in YAML's
double quotes with every character outside printable ASCII escaped."""
from __future__ import annotations

import re

from .fixes import CHANGED, HostFix, comment, describe, plan, reaudit

# A host name Ansible reads as that host alone: no pattern characters (, : ! & * ~ [ ]).
PLAIN_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def quoted(text: str) -> str:
    """text as a YAML double-quoted scalar, ASCII only."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def unsafe(text: str) -> str:
    return "!unsafe " + quoted(text)


def _task(number: int, step, indent: str) -> list[str]:
    ids = ", ".join(dict.fromkeys(a.name for a in step.answers))
    run = f"{{ {step.command}\n}} || exit 1\necho {CHANGED}"
    shell = f"set -eu\n{run}\n" if step.guard is None else f"set -eu\nif {step.guard}; then\n{run}\nfi\n"
    return [f"{indent}- name: {unsafe(f'Step {number}: {ids}')}",
            f"{indent}  ansible.builtin.shell:",
            f"{indent}    cmd: {unsafe(shell)}",
            f"{indent}  register: virtnat_step",
            f"{indent}  changed_when: {quoted(f'{CHANGED!r} in virtnat_step.stdout')}"]


def _play(fix: HostFix, result: str) -> list[str]:
    if fix.nothing:
        return [comment(f"{fix.host}: nothing to do: {fix.nothing}.")]
    if not PLAIN_HOST.fullmatch(fix.host):
        return [comment(f"{fix.host}: not a plain host name (Ansible would read it as a pattern): use `virtnat fix` "
                        "without --ansible for it.")]
    lines = [f"- name: {unsafe(f'virtnat fix: {fix.host}')}", f"  hosts: {unsafe(fix.host)}", "  become: true",
             "  gather_facts: false", "  tasks:"]
    for number, step in enumerate(fix.steps, 1):
        lines += ["    " + line for line in describe(step, number)]
        if step.by_hand:
            lines.append("    " + comment(f"    {step.command or 'no fix given'}"))
            continue
        lines += _task(number, step, "    ")
    if all(step.by_hand for step in fix.steps):
        lines += [f"    - name: {quoted('every step is by hand: see the comments')}",
                  "      ansible.builtin.debug:", f"        msg: {quoted('nothing to run')}"]
    if fix.left:
        lines.append("    " + comment(f"Not fixed here (not carried out, or waived): {', '.join(fix.left)}."))
    lines.append("    " + comment(f"Then: {reaudit(fix.host, result)}"))
    return lines


def playbook(document: dict, result: str, host: str | None = None) -> str:
    """The playbook of a document's hosts (or host's alone)."""
    lines = ["---", comment(f"virtnat fix, from {result}: a play per host, as audited. virtnat changes nothing: review"),
             comment("this, then run it with ansible-playbook and the inventory that names the hosts.")]
    plays = [_play(fix, result) for fix in plan(document, host)]
    for play in plays:
        lines += play
    if not any(play[0].startswith("- ") for play in plays):  # only comments: no play
        lines.append("[]")
    return "\n".join(lines) + "\n"
