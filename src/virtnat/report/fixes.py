"""`virtnat fix`: from an audit document, each host's failing checks as the steps that fix them,
in fix_order's order, each fix once, each guarded; printed as a POSIX shell script per host, or
as an Ansible playbook (fix_ansible.py). Pure: nothing here runs a command or reads a file."""
from __future__ import annotations

import shlex
from dataclasses import dataclass

from .fix_order import GUARDS, NEED_TAP, by_hand, command_guard, fill, guard_values, guest_and_tap, rank, stepwise
from .inert import inert
from .markup import one_line
from .results import id_order
from .verdict import check_name, host_verdict

CHANGED = "VIRTNAT-FIX-CHANGED"  # what a step that ran prints (the playbook's changed_when)


@dataclass(frozen=True)
class Answer:
    """A failing check a step answers."""
    name: str  # NET-07, VM-02[vm1:vnet0]
    impact: str
    message: str


@dataclass(frozen=True)
class Step:
    command: str  # the remediation, as the report holds it
    answers: tuple[Answer, ...]
    guard: str | None  # succeeds while one of its checks still fails; None: run every time
    by_hand: bool  # opens an editor or only lists: the operator's, not the script's


@dataclass(frozen=True)
class HostFix:
    host: str
    steps: tuple[Step, ...] = ()
    nothing: str | None = None  # why nothing is to be done, when nothing is (no step then, nothing left)
    left: tuple[str, ...] = ()  # the checks not fixed here: not carried out, waived


def host_fix(entry: dict, profile: dict | None) -> HostFix:
    """The steps that fix one host entry's failing checks (outcome failed), in order."""
    host, checks = entry["host"], entry["checks"]
    verdict = host_verdict(entry)
    if verdict.state in ("unreachable", "unchecked"):
        return HostFix(host, nothing=f"{host} could not be checked ({one_line(verdict.reason)}): audit it again once it answers")
    failing = sorted((c for c in checks if c.get("outcome") == "failed"),
                     key=lambda c: (rank(c["id"]), id_order(c["id"], c.get("subject"))))
    if not failing:
        return HostFix(host, nothing=f"no check failed on {host}")
    left = tuple(check_name(c) for c in checks if c.get("outcome") in ("error", "waived"))
    values = guard_values(profile)
    by_command: dict[str, list[tuple[Answer, str | None]]] = {}
    for check in failing:
        command = check["remediation"].strip() if isinstance(check.get("remediation"), str) else ""
        answer = Answer(check_name(check), one_line(check.get("impact")), one_line(check.get("message")))
        by_command.setdefault(command, []).append((answer, _guard(check, command, values)))
    steps = []
    for command, answered in by_command.items():
        guards = list(dict.fromkeys(g for _, g in answered if g))
        guard = guards[0] if len(guards) == 1 else " || ".join(f"{{ {g}; }}" for g in guards) or None
        steps.append(Step(stepwise(command), tuple(a for a, _ in answered), guard, not command or by_hand(command)))
    return HostFix(host, tuple(steps), left=left)


def _guard(check: dict, command: str, values: dict[str, str]) -> str | None:
    template = GUARDS.get(check["id"])
    derived = command_guard(command)
    if template is None or (derived and check["id"].startswith("PATH-")):  # the packet path's fix names its rule
        return derived
    guest, tap = guest_and_tap(check.get("subject"))
    if check["id"] in NEED_TAP:
        if not tap:
            return None
        values = {**values, "guest": shlex.quote(guest), "tap": shlex.quote(tap)}
    return fill(template, values)


def plan(document: dict, host: str | None = None) -> list[HostFix]:
    """Every host's fix (or host's alone) of a document check_document accepts; KeyError for a
    host it does not hold."""
    entries = [e for e in document["hosts"] if host is None or e["host"] == host]
    if host is not None and not entries:
        raise KeyError(host)
    return [host_fix(e, document.get("profile")) for e in entries]


def comment(text: str) -> str:
    """text as one comment line: nothing in it can end the comment (a newline is shown as \\n)."""
    return f"# {inert(text)}".rstrip()


def say(text: str) -> str:
    """A shell command that prints text (inert) as one line, whatever it holds."""
    return f"printf '%s\\n' {shlex.quote(inert(text))}"


def describe(step: Step, number: int) -> list[str]:
    """The comment lines above a step: which check and message each of its answers is."""
    head = f"Step {number}" + (", by hand," if step.by_hand else "") + " answers "
    lines = []
    for i, a in enumerate(step.answers):
        lines.append(comment((head if i == 0 else " " * len(head)) + f"{a.name} ({a.impact}): {a.message}"))
    if step.guard is None and not step.by_hand:
        lines.append(comment("No test tells whether it is still needed: it runs each time the script runs."))
    return lines


def body(step: Step, number: int) -> str:
    """The guarded step: its command only while its check still fails; a failure stops the script."""
    ids = " ".join(dict.fromkeys(a.name.split("[")[0] for a in step.answers))
    run = f"{{ {step.command}\n}} || fail {number} {shlex.quote(inert(ids))}"
    if step.guard is None:
        return run
    return f"if {step.guard}; then\n{_indent(run)}\nfi"


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.split("\n"))


def reaudit(host: str, result: str) -> str:
    return (f"virtnat audit --hosts=ssh://{shlex.quote(host)} --audit-json=after.json && "
            f"virtnat diff {shlex.quote(result)} after.json")


def shell_script(fix: HostFix, result: str, audited: str | None = None) -> str:
    """One host's POSIX shell script."""
    lines = ["#!/bin/sh", comment(f"virtnat fix for host {fix.host}, from {result}" + (f" (audited {audited})" if audited else "")),
             comment("virtnat changes nothing: review this, then run it as root on that host. Each step runs only while"),
             comment("its check still fails, so running it again changes nothing."), "set -eu", ""]
    if fix.nothing:
        lines += [comment(f"Nothing to do: {fix.nothing}."), say(f"virtnat fix: nothing to do: {fix.nothing}"), "exit 0"]
        return "\n".join(lines) + "\n"
    lines += ["fail() {", "    printf 'virtnat fix: step %s (%s) failed: the steps after it did not run\\n' \"$1\" \"$2\" >&2",
              "    exit 1", "}", ""]
    manual = []
    for number, step in enumerate(fix.steps, 1):
        lines += describe(step, number)
        if step.by_hand:
            lines.append(comment(f"    {step.command or 'no fix given'}"))
            manual.append(str(number))
        else:
            lines.append(body(step, number))
        lines.append("")
    if fix.left:
        lines.append(comment(f"Not fixed here (not carried out, or waived): {', '.join(fix.left)}."))
    if manual:
        lines.append(say(f"virtnat fix: step {', '.join(manual)} is left to do by hand (see its comment)"))
    again = reaudit(fix.host, result)
    lines += [comment("Then audit the host again and compare (--hosts as the audit reached it):"), comment(f"    {again}"),
              say(f"virtnat fix: done; audit {fix.host} again: {again}"), "exit 0"]
    return "\n".join(lines) + "\n"


def shell_scripts(document: dict, result: str, host: str | None = None) -> str:
    """The script of each host (or host's alone), one after another; each ends with exit 0, so
    the whole text fed to one shell runs the first host's script only."""
    return "\n".join(shell_script(fix, result, document.get("started")) for fix in plan(document, host))
