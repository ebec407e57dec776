"""What one audit will do, decided once from its options before any host is contacted (the Plan,
made by plan_audit), and the run that carries it out (Audit): the plan, the record of what the
checks found (report/record.py) and the background collection of facts."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from .collectors.bundle import bundle_files
from .errors import FactError, ProfileError
from .profile import Profile, load_profile
from .report.files import unwritable
from .report.finish import Outputs
from .report.passthrough import Staged, pointed, stage
from .report.record import Record
from .targets import BundleTarget, Collection, Target, claimed_twice, live_targets
from .waivers import Waiver, load_waivers

# The built-in checks: the package's catalog (in a checkout, a link to tests/). Found from this
# file, not from pytest's rootdir, which an option value like `--profile /etc/x.toml` can
# mislead (pytest picks the rootdir before plugins declare their options).
CATALOG = Path(__file__).resolve().parent / "catalog"
CHECKS_DIR = CATALOG.resolve()  # in a checkout, CATALOG is a link to tests/


def default_report_dir(env=os.environ) -> Path:
    """Where reports go without --report-dir: a systemd unit's StateDirectory= (its first), else
    the user's XDG state directory ($XDG_STATE_HOME, or ~/.local/state), in virtnat/reports."""
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0]) / "reports"
    if env.get("XDG_STATE_HOME", "").startswith("/"):
        return Path(env["XDG_STATE_HOME"]) / "virtnat" / "reports"
    home = env.get("HOME", "").startswith("/") and env["HOME"] or os.path.expanduser("~")  # else the user's passwd entry
    return Path(home) / ".local" / "state" / "virtnat" / "reports"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def report_stem(label: str, started: dt.datetime) -> str:
    """The reports' common name: the host (or N-hosts) and the start time, safe as a file name
    whatever the host is called. An IPv6 address's colons and an inventory name's slash become
    `_`; a name with any other character beyond letters, digits and `._+@-`, one that starts
    with a dot, or one longer than 64 characters is cut to 48 safe characters and a hash of
    the whole name (no two names share a file, no name is too long for one)."""
    plain = label.replace("/", "_").replace(":", "_")
    safe = _UNSAFE.sub("_", plain)
    if safe != plain or len(safe) > 64 or safe.startswith(".") or not safe:
        safe = f"{safe.lstrip('.')[:48]}~{hashlib.sha256(label.encode(errors='surrogatepass')).hexdigest()[:10]}"
    return f"{safe}-{started.strftime('%Y%m%dT%H%M%SZ')}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._+@-]")


# -- the plan ----------------------------------------------------------------------------------

NOWHERE = Outputs()  # an xdist worker's: its controller writes the reports


@dataclass(frozen=True)
class Plan:
    """What one audit will do, decided before any host is contacted; nothing changes it afterwards."""

    started: dt.datetime
    profile: Profile
    waivers: tuple[Waiver, ...] = ()
    targets: tuple[Target, ...] = ()
    not_audited: tuple[str, ...] = ()  # a line per entry of a --facts directory that is not audited
    outputs: Outputs = NOWHERE  # where virtnat's reports go; one whose place cannot be written is None
    passthrough: tuple[Staged, ...] = ()  # pytest's own --html and --junitxml reports, staged (report/passthrough.py)
    pytest_options: tuple[tuple[str, object], ...] = ()  # pytest's own options as the audit sets them: (dest, value)
    short_failures: bool = False  # a failure is its message alone (failures.py)
    collect: bool = False  # every host's facts collected in the background from the start
    fail_on: str | None = None  # the least impact whose failure fails the run (--fail-on)
    stats_json: Path | None = None
    error: str | None = None  # a usage error: no check runs, exit 4


def plan_audit(config, worker: bool = False) -> Plan:
    """The plan of the audit that config's options ask for. Every problem found in them is a
    usage error, and the first one found is the plan's; the reports that can still be written
    are. An xdist worker's plan has the hosts: its controller writes the reports and collects."""
    option = lambda name: config.getoption(name, None)
    started = utc_now()
    profile, waivers, problem = _inputs(option)
    targets, not_audited, hosts_problem = ((), (), None) if problem else _targets(option, profile)
    problems = [problem, hosts_problem]
    outputs, staged, pointed_at = NOWHERE, [], ()
    if not worker:
        outputs, paths_problem = _outputs(option, targets, started)
        staged, staging_problem = stage(config, os.getcwd())
        pointed_at = pointed(config, staged)
        problems += [paths_problem, staging_problem]
    collect = not worker and not any(problems) and not config.option.collectonly  # checks will run
    return Plan(started, profile, waivers, targets, not_audited, outputs, tuple(staged),
                pytest_options=_style(config, worker) + pointed_at, short_failures=_short_failures(config),
                collect=collect, fail_on=option("fail_on"),
                stats_json=Path(option("stats_json")) if option("stats_json") else None,
                error=next((p for p in problems if p), None))


def _inputs(option) -> tuple[Profile, tuple[Waiver, ...], str | None]:
    """The profile and the waivers (the profile's, then --waivers'); the defaults and none when
    either cannot be read, with the one line of why."""
    try:
        profile = load_profile(option("profile"))
        return profile, profile.waivers + (load_waivers(option("waivers")) if option("waivers") else ()), None
    except ProfileError as exc:
        return Profile(), (), str(exc)


def _targets(option, profile: Profile) -> tuple[tuple[Target, ...], tuple[str, ...], str | None]:
    """The hosts to audit, the entries of a --facts directory left out, and the one line of why
    there is no host to audit (then none is)."""
    if not option("facts"):
        targets, problem = live_targets(option, profile.libvirt_uri)
        return tuple(targets), (), problem
    if option("hosts"):
        return (), (), "--facts audits saved probe output, --hosts live hosts: give one of them"
    try:
        files, not_audited = bundle_files(option("facts"))
    except FactError as exc:
        return (), (), f"--facts: {exc}"
    targets = [BundleTarget(path, profile.libvirt_uri) for path in files]
    problem = claimed_twice(targets)
    return () if problem else tuple(targets), tuple(not_audited), problem


def _outputs(option, targets, started: dt.datetime) -> tuple[Outputs, str | None]:
    """Where the reports go, named for the host (or N-hosts) and the start, each whose place cannot
    be written left out, and the one line of the first such place. A part (--part) is the JSON
    alone, with the evidence, for `virtnat merge` to write the reports from."""
    if option("part"):
        return _part(option)
    report_dir = Path(option("report_dir") or default_report_dir())
    stem = report_stem(targets[0].name if len(targets) == 1 else f"{len(targets)}-hosts", started)
    json_given = Path(option("audit_json")) if option("audit_json") else None
    json = json_given or report_dir / f"{stem}.json"
    prometheus = Path(option("prometheus")) if option("prometheus") else None
    problems = []
    reports_dir_problem = unwritable(report_dir)
    if reports_dir_problem:
        where = f"--report-dir={report_dir}" if option("report_dir") else \
            f"the default report directory {report_dir} (--report-dir=DIR for another)"
        problems.append(f"{where}: {reports_dir_problem}")
    json_problem = unwritable(json.parent) if json_given else reports_dir_problem
    if json_given and json_problem:
        problems.append(f"--audit-json={json}: {json_problem}")
    prometheus_problem = unwritable(prometheus.parent) if prometheus is not None else None
    if prometheus_problem:
        problems.append(f"--prometheus={prometheus}: {prometheus_problem}")
    here = None if reports_dir_problem else report_dir  # the page, JUnit and the latest copies
    outputs = Outputs(json=None if json_problem else json,
                      html=here / f"{stem}.html" if here else None, junit=here / f"{stem}.xml" if here else None,
                      latest_json=here / "latest.json" if here and not json_given else None,
                      latest_html=here / "latest.html" if here else None,
                      prometheus=None if prometheus_problem else prometheus, prometheus_detail=bool(option("prometheus_detail")),
                      keep=option("keep"), prune_dir=here)
    return outputs, problems[0] if problems else None


ALONE = ("report_dir", "audit_json", "prometheus", "keep")  # reports --part leaves to `virtnat merge`


def _part(option) -> tuple[Outputs, str | None]:
    part = Path(option("part"))
    given = next((name for name in ALONE if option(name)), None)
    if given:
        flag = "--" + given.replace("_", "-")
        return NOWHERE, f"--part={part}: writes no other report, `virtnat merge` does: drop {flag}"
    problem = unwritable(part.parent)
    return (NOWHERE, f"--part={part}: {problem}") if problem else (Outputs(json=part, evidence=True), None)


def _style(config, worker: bool) -> tuple[tuple[str, object], ...]:
    """pytest's options an audit changes where the user left pytest's defaults: virtnat prints each
    check's message and fix itself, its own summary replaces pytest's short one, and with xdist
    one worker runs a host's checks (its facts stay in one place)."""
    option = config.option
    changed: list[tuple[str, object]] = [("tbstyle", "no")] if option.tbstyle == "auto" else []
    if worker:
        return tuple(changed)
    if option.reportchars == "fE":
        changed.append(("reportchars", "N"))
    if getattr(option, "numprocesses", None) and option.dist in ("no", "load"):  # -n: xdist declares --dist
        changed.append(("dist", "loadgroup"))
    return tuple(changed)


def _short_failures(config) -> bool:
    """No traceback is asked for: --tb=no (virtnat's default) and no --pdb."""
    return config.option.tbstyle in ("auto", "no") and not config.getoption("usepdb", False)


# -- the run -----------------------------------------------------------------------------------

class Audit:
    """One audit run: its plan, fixed before it starts; its record, of what it found; and what runs
    meanwhile (the background collection of facts, the count of processes started)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.record = Record()
        self.collection: Collection | None = None
        self.spawned = 0  # processes this run started (--stats-json)
        self._titles: dict[str, str] = {}  # a check's title template -> the title filled from the profile

    @property
    def error(self) -> str | None:
        """Why no check runs (exit 4): the plan's usage error, else a check collection refused."""
        return self.plan.error or self.record.check_problem

    def start_collection(self) -> None:
        """Start collecting every host's facts, if the plan says so; pytest configures and collects
        the checks meanwhile."""
        if self.plan.collect:
            self.collection = Collection(self.plan.targets)

    def wait_for_facts(self) -> None:
        if self.collection is not None:
            self.collection.wait()

    def title(self, template: str) -> str:
        """A check's title filled from the profile, once per check: a fleet asks for each title on
        every host (0.28 s of 36,000 substitutions at 1000 hosts)."""
        found = self._titles.get(template)
        if found is None:
            found = self._titles[template] = self.plan.profile.substitute(template)
        return found

    def count_spawn(self, event: str, _args) -> None:
        if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.system"):
            self.spawned += 1

    def stats(self) -> dict:
        return {
            "spawned_processes": self.spawned,
            "collection_wall_seconds": self.collection.seconds if self.collection else None,
            "check_processes": 1,
            "hosts": {t.name: asdict(t.stats) for t in self.plan.targets},
        }

    def evidence_dict(self) -> dict:
        return self.record.evidence_dict(self.plan.targets, self.plan.profile)


def state_of(config) -> Audit | None:
    """The audit, kept in the pytest config's stash; None for a run that is no audit."""
    return config.stash.get(STATE, None)


STATE = pytest.StashKey[Audit]()
