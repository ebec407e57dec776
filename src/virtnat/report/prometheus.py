"""An audit document as a node-exporter textfile (Prometheus text exposition format).

node_exporter's textfile collector reads `*.prom` files from one directory at every scrape, so
a nightly audit can feed alerts: `virtnat_audit_success == 0`, or a timestamp that stops moving.
"""
from __future__ import annotations

import datetime as dt

from .files import write_atomic
from .results import OUTCOMES

_BAD = ("failed", "error")
# When one (host, check, subject) appears twice, the worse outcome is kept: Prometheus rejects
# a textfile with a duplicate series, which would hide the whole audit.
_SEVERITY = {"passed": 0, "skipped": 1, "waived": 2, "error": 3, "failed": 4}


def _label(value) -> str:
    """A label value, escaped as the text format requires (backslash, quote, newline)."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: dict, value) -> str:
    inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}} {_number(value)}" if inner else f"{name} {_number(value)}"


def _number(value) -> str:
    if isinstance(value, int):  # bool included
        return str(int(value))
    return repr(float(value))


def _seconds(stamp) -> float | None:
    """Unix seconds of an ISO 8601 time; a time without a zone is UTC (the plugin writes UTC)."""
    try:
        when = dt.datetime.fromisoformat(str(stamp))
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()


def _checks(host: dict) -> list[dict]:
    """The host's checks, one per (id, subject), keeping the worse outcome of duplicates."""
    kept: dict[tuple, dict] = {}
    for check in host.get("checks") or []:
        key = (check.get("id"), _label(check.get("subject")))  # as its series is labelled
        old = kept.get(key)
        if old is None or _SEVERITY.get(check.get("outcome"), 3) > _SEVERITY.get(old.get("outcome"), 3):
            kept[key] = check
    return list(kept.values())


def _summary(host: dict, checks: list[dict]) -> dict:
    summary = host.get("summary")
    if isinstance(summary, dict):
        return {o: int(summary.get(o, 0)) for o in OUTCOMES}
    return {o: sum(1 for c in checks if c.get("outcome") == o) for o in OUTCOMES}


# The checks a textfile names by default: those that did not pass (a fleet of 10,000 hosts
# would otherwise be 800,000 series of checks that passed).
NOT_PASSING = ("failed", "error", "waived")


def prometheus_text(document: dict, detail: bool = False) -> str:
    """Render an audit document (the JSON report's shape) as Prometheus text exposition.

    Per check that did not pass (with detail, per check): `virtnat_check_passed` (1 passed,
    0 failed or error; skipped and waived checks left out) and `virtnat_check_outcome` (1,
    labelled with the outcome). Per host: `virtnat_host_checks` by outcome. Per audit: finish
    time, duration, and `virtnat_audit_success` (1 when no host has a failed or error check
    and the document has no "error").
    """
    hosts = [(h.get("host", "?"), h, _checks(h)) for h in document.get("hosts") or []]
    families: list[tuple[str, str, list[str]]] = []

    passed, outcome = [], []
    for name, _host, checks in hosts:
        for c in checks if detail else (c for c in checks if c.get("outcome") in NOT_PASSING):
            labels = {"host": name, "check": c.get("id"), "subject": c.get("subject")}
            if c.get("outcome") not in ("skipped", "waived"):  # not applying, or accepted: neither pass nor fail
                passed.append(_sample("virtnat_check_passed", labels, int(c.get("outcome") == "passed")))
            outcome.append(_sample("virtnat_check_outcome", {**labels, "outcome": c.get("outcome")}, 1))
    families.append(("virtnat_check_passed", "1 if the check passed, 0 if it failed or could not be carried out (skipped and waived checks are absent).", passed))
    families.append(("virtnat_check_outcome", "Outcome of each check: passed, failed, skipped, error or waived (always 1).", outcome))

    counts = []
    for name, host, checks in hosts:
        for key, n in _summary(host, checks).items():
            counts.append(_sample("virtnat_host_checks", {"host": name, "outcome": key}, n))
    families.append(("virtnat_host_checks", "Number of checks per host by outcome.", counts))

    started, finished = _seconds(document.get("started")), _seconds(document.get("finished"))
    if finished is not None:
        families.append(("virtnat_audit_timestamp_seconds", "When the audit finished, in unix seconds.",
                         [_sample("virtnat_audit_timestamp_seconds", {}, finished)]))
        if started is not None:
            families.append(("virtnat_audit_duration_seconds", "How long the audit took, in seconds.",
                             [_sample("virtnat_audit_duration_seconds", {}, max(0.0, finished - started))]))
    bad = any(_summary(h, cs)[o] for _n, h, cs in hosts for o in _BAD) or any(
        c.get("outcome") in _BAD for _n, _h, cs in hosts for c in cs)
    ok = "error" not in document and not bad
    families.append(("virtnat_audit_success", "1 if no host has a failed or error check and the audit ran, else 0.",
                     [_sample("virtnat_audit_success", {}, int(ok))]))

    lines = []
    for name, help_text, samples in families:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples]
    return "\n".join(lines) + "\n"


def write_prometheus(path, document: dict, detail: bool = False) -> None:
    """Write the textfile atomically: node_exporter may read the directory at any moment. The
    temporary name does not end in .prom, so the collector never reads it half written; the
    file is world-readable (node_exporter runs as another user) and holds outcomes only."""
    write_atomic(path, prometheus_text(document, detail), mode=0o644)
