"""The record of one audit: what its checks found (each result and its evidence), what collection
found wrong with the checks themselves, and what the finish wrote. Nothing else writes any of
it; the finish and the terminal summary read it."""
from __future__ import annotations

from ..evidence import host_evidence
from ..profile import Profile
from .finish import Written
from .results import CheckResult, Results


class Record:
    """Registered as a pytest plugin where the reports are written (the controller with xdist,
    else the run's own process), it records each check's result and evidence as pytest reports it."""

    def __init__(self):
        self.results = Results()
        self.evidence: dict[str, dict] = {}  # host -> check (id[subject]) -> what it judged
        self.check_problem: str | None = None  # a check without a complete control or with another's id: exit 4
        self.written = Written()  # the finish's reports and problems, and the pass-through reports' problems

    def pytest_runtest_logreport(self, report) -> None:
        data = getattr(report, "virtnat", None)
        if data is not None:
            result = CheckResult(**data)
            self.results.record(report.nodeid, result)
            self.evidence.setdefault(result.host, {})[result.name] = report.virtnat_evidence

    def checks_collected(self, problem: str | None) -> None:
        """What collection found wrong with the checks (controls.control_problem), None if nothing."""
        self.check_problem = problem

    def finished(self, written: Written) -> None:
        self.written = written

    def cannot_write(self, problem: str) -> None:
        """A report asked for that could not be written after the finish (a pass-through one)."""
        self.written.problems.append(problem)

    def evidence_dict(self, targets, profile: Profile) -> dict:
        """The evidence behind the verdicts, as the reports take it: the default profile, and per
        host the pieces of its packet path, its raw facts and what each check judged."""
        hosts = {}
        for target in targets:
            checks = self.evidence.get(target.name, {})
            collected = target.facts.collected() if target.facts_started else {}
            hosts[target.name] = host_evidence(collected, profile, checks)
        return {"profile_defaults": Profile().as_dict(), "hosts": hosts}
