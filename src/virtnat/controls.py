"""Every check of an audit, built-in or the site's own, declares its control: an id of its own,
a title, an impact and a remediation. A check that does not is a usage error, found before any runs."""
from __future__ import annotations

from pathlib import Path

from .report.results import IMPACTS

FIELDS = ("id", "title", "impact", "remediation")
MARKER = "@pytest.mark.control(id=..., title=..., impact=..., remediation=...)"


def control_problem(checks, builtin: Path) -> str | None:
    """The first check whose control is missing, incomplete or has another check's id; None if
    all are fine. checks: (file, function name, the control marker's kwargs or None), in
    collection order (a parametrized check comes once per parameter)."""
    owners: dict[str, tuple[Path, str]] = {}
    for path, function, control in checks:
        where = f"{_shown(path, builtin)}::{function}"
        if control is None:
            return f"{where} is not a check: it has no {MARKER}"
        missing = [f for f in FIELDS if not isinstance(control.get(f), str) or not control[f].strip()]
        if missing:
            return f"{where}: its control marker lacks {', '.join(missing)} (every check has {', '.join(FIELDS)})"
        if control["impact"] not in IMPACTS:
            return f"{where}: impact {control['impact']!r} is not one of {', '.join(IMPACTS)}"
        owner = owners.setdefault(control["id"], (path, function))
        if owner != (path, function):
            whose = "a built-in check's" if builtin in owner[0].parents else f"{owner[0]}::{owner[1]}'s"
            return f"{where}: id {control['id']} is already {whose}: give this check an id of its own"
    return None


def _shown(path: Path, builtin: Path) -> str:
    return f"virtnat's {path.relative_to(builtin)}" if builtin in path.parents else str(path)
