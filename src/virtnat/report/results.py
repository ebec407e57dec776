"""Turn pytest's per-phase reports into one outcome per check and host."""
from __future__ import annotations

from dataclasses import asdict, dataclass

OUTCOMES = ("passed", "failed", "skipped", "error", "waived")
IMPACTS = ("low", "medium", "high", "critical")  # a check's impact, least first


@dataclass
class CheckResult:
    host: str
    id: str
    title: str
    impact: str
    subject: str | None
    outcome: str
    message: str
    remediation: str
    waiver: dict | None = None  # a waived check's waiver: reason, expires

    @property
    def name(self) -> str:
        """The check as the reports name it: `NET-07`, `VM-02[guest:vnet0]`."""
        return self.id + (f"[{self.subject}]" if self.subject else "")

    def public(self) -> dict:
        """The JSON shape of a check (host is the enclosing entry; waiver only when waived)."""
        data = asdict(self)
        del data["host"]
        if data["waiver"] is None:
            del data["waiver"]
        return data


AREAS = ("HOST", "NET", "PATH", "VM")


def id_order(check_id: str, subject: str | None = None) -> tuple:
    """Check-id order, as the reports list checks: HOST, NET, PATH, VM (other areas after them),
    numerically within an area, then by subject. A number int() cannot read (superscript digits,
    thousands of digits) counts as none."""
    area, _, number = check_id.partition("-")
    rank = AREAS.index(area) if area in AREAS else len(AREAS)
    return (rank, area, int(number) if number.isdecimal() and len(number) < 100 else 0, check_id, subject or "")


def one_line(excinfo) -> str:
    """What an exception says, on one line, without pytest's assertion explanation."""
    if excinfo is None:
        return ""
    value = excinfo.value
    text = str(value)  # pytest's skip and fail exceptions give their msg
    if not isinstance(value, AssertionError) and not hasattr(value, "msg"):
        text = f"{type(value).__name__}: {text}"
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else type(value).__name__


def phase_outcome(when: str, report) -> str | None:
    """The check's outcome decided by this phase, or None if a later phase decides it."""
    if report.skipped:
        return "skipped"
    if when == "call":
        return "failed" if report.failed else "passed"
    return "error" if report.failed else None  # setup or teardown


class Results:
    """Results in run order, grouped by host at the end."""

    def __init__(self):
        self.checks: dict[str, CheckResult] = {}
        self.hosts: list[str] = []

    def record(self, nodeid: str, result: CheckResult) -> None:
        if result.host not in self.hosts:
            self.hosts.append(result.host)
        if nodeid not in self.checks or self.checks[nodeid].outcome == "passed":
            self.checks[nodeid] = result  # a teardown error overrides a pass, nothing else

    def by_host(self) -> dict[str, list[CheckResult]]:
        """Each host's results, in check-id order (HOST, NET, VM; numerically)."""
        grouped: dict[str, list[CheckResult]] = {h: [] for h in self.hosts}
        for result in self.checks.values():
            grouped[result.host].append(result)
        for checks in grouped.values():
            checks.sort(key=lambda c: id_order(c.id, c.subject))
        return grouped

    @staticmethod
    def summary(checks: list[CheckResult]) -> dict[str, int]:
        return {outcome: sum(1 for c in checks if c.outcome == outcome) for outcome in OUTCOMES}
