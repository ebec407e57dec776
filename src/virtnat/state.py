"""One audit run's shared state: profile, targets, report paths, results."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import asdict
from pathlib import Path

import pytest

from .collectors.bundle import bundle_files
from .errors import FactError, ProfileError
from .evidence import host_evidence
from .profile import Profile, load_profile
from .report.finish import Outputs, Written
from .report.results import Results
from .targets import BundleTarget, Target, claimed_twice, live_targets
from .waivers import load_waivers

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


def state_of(config) -> "AuditState | None":
    """The audit's state, kept in the pytest config's stash; None for a run that is no audit."""
    return config.stash.get(STATE, None)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _opt(config, name):
    return config.getoption(name, None)


def report_stem(label: str, started: dt.datetime) -> str:
    """The reports' common name: the host (or N-hosts) and the start time, safe as a file name
    whatever the host is called. An IPv6 address's colons and an inventory name's slash become
    `_`; a name with any other character beyond letters, digits and `._+@-`, one that starts
    with a dot, or one longer than 64 characters is cut to 48 safe characters and a hash of
    the whole name (no two names share a file, no name is too long for one)."""
    plain = label.replace("/", "_").replace(":", "_")
    safe = _UNSAFE.sub("_", plain)
    if safe != plain or len(safe) > 64 or safe.startswith(".") or not safe:
        safe = f"{safe.lstrip('.')[:48]}~{hashlib.sha256(label.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"
    return f"{safe}-{started.strftime('%Y%m%dT%H%M%SZ')}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._+@-]")


class AuditState:
    """Everything one audit run shares."""

    def __init__(self, config):
        self.config = config
        self.started = utc_now()
        self.error: str | None = None  # a usage error: no check runs, exit 4
        self.results = Results()
        self.spawned = 0  # processes this run started (--stats-json)
        self.collection = None  # the background fact collection, once started
        self.shards = 1  # processes that run the checks (shards.py)
        self.evidence_elsewhere: dict[str, dict] = {}  # host -> the evidence its own process made (a split audit)
        self.not_audited: list[str] = []  # a line per entry of a --facts directory that is not audited
        self._titles: dict[str, str] = {}  # a check's title template -> the title filled from the profile
        try:
            self.profile = load_profile(_opt(config, "profile"))
            self.waivers = self.profile.waivers + (load_waivers(_opt(config, "waivers")) if _opt(config, "waivers") else ())
        except ProfileError as exc:
            self.error = str(exc)
            self.profile = Profile()
            self.waivers = ()
        self.targets = [] if self.error else self._targets(config)
        self.report_dir_given = bool(_opt(config, "report_dir"))
        self.report_dir = Path(_opt(config, "report_dir") or default_report_dir())
        stem = report_stem(self.targets[0].name if len(self.targets) == 1 else f"{len(self.targets)}-hosts", self.started)
        self.json_path = Path(_opt(config, "audit_json") or self.report_dir / f"{stem}.json")
        self.json_is_default = not _opt(config, "audit_json")
        self.reports_written = True  # False when the report directory cannot be written
        self.json_written = True  # False when neither can the JSON
        self.html_path = self.report_dir / f"{stem}.html"
        self.xml_path = self.report_dir / f"{stem}.xml"
        self.prometheus_path = Path(_opt(config, "prometheus")) if _opt(config, "prometheus") else None
        self.keep = _opt(config, "keep")
        self.evidence: dict[str, dict] = {}  # host -> check (id[subject]) -> what it judged
        self.written = Written()  # the finish's reports and problems

    def _targets(self, config) -> list[Target]:
        if _opt(config, "facts"):
            return self._bundle_targets(_opt(config, "facts"), _opt(config, "hosts"))
        targets, self.error = live_targets(lambda name: _opt(config, name), self.profile.libvirt_uri)
        return targets

    def _bundle_targets(self, spec: str, hosts: str | None) -> list[Target]:
        if hosts:
            self.error = "--facts audits saved probe output, --hosts live hosts: give one of them"
            return []
        try:
            files, self.not_audited = bundle_files(spec)
        except FactError as exc:
            self.error = f"--facts: {exc}"
            return []
        targets = [BundleTarget(path, self.profile.libvirt_uri) for path in files]
        self.error = claimed_twice(targets)
        return [] if self.error else targets

    def title(self, template: str) -> str:
        """A check's title filled from the profile, once per check: a fleet asks for each title on
        every host (0.28 s of 36,000 substitutions at 1000 hosts)."""
        found = self._titles.get(template)
        if found is None:
            found = self._titles[template] = self.profile.substitute(template)
        return found

    def wait_for_facts(self) -> None:
        if self.collection is not None:
            self.collection.wait()

    def count_spawn(self, event: str, _args) -> None:
        if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.system"):
            self.spawned += 1

    def stats(self) -> dict:
        return {
            "spawned_processes": self.spawned,
            "collection_wall_seconds": self.collection.seconds if self.collection else None,
            "check_processes": self.shards,
            "hosts": {t.name: asdict(t.stats) for t in self.targets},
        }

    def outputs(self) -> Outputs:
        """Where this run's reports go: the ones whose place can be written."""
        reports = self.reports_written
        return Outputs(json=self.json_path if self.json_written else None,
                       html=self.html_path if reports else None,
                       junit=self.xml_path if reports else None,
                       latest_json=self.report_dir / "latest.json" if self.json_written and self.json_is_default else None,
                       latest_html=self.report_dir / "latest.html" if reports else None,
                       prometheus=self.prometheus_path,
                       keep=self.keep, prune_dir=self.report_dir if reports else None)

    def evidence_dict(self) -> dict:
        """The evidence behind the verdicts, as the reports take it: the default profile, and per
        host the pieces of its packet path, its raw facts and what each check judged."""
        hosts = {}
        for target in self.targets:
            checks = self.evidence.get(target.name, {})
            if target.name in self.evidence_elsewhere:
                hosts[target.name] = {**self.evidence_elsewhere[target.name], "checks": checks}
                continue
            collected = target.facts.collected() if target.facts_started else {}
            hosts[target.name] = host_evidence(collected, self.profile, checks)
        return {"profile_defaults": Profile().as_dict(), "hosts": hosts}

    @property
    def profile_dict(self) -> dict:
        return self.profile.as_dict()


STATE = pytest.StashKey[AuditState]()
