"""pytest's --junitxml and pytest-html's --html reports of an audit, written like virtnat's own:
each plugin writes into a private directory made beside the path asked for, and the finished
file is then renamed onto that path. A symlink planted there (or at pytest-html's assets/, or
at a file in it) is replaced, never written through, and a reader never sees half a report."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from .files import PRIVATE, allowed

OPTIONS = (("htmlpath", "--html"), ("xmlpath", "--junitxml"))
ASSETS = "assets"  # pytest-html's, beside its page unless --self-contained-html


def asked_path(dest: str, value: str, cwd: str) -> Path:
    """The file the plugin behind option dest would write for value (both expand $VARS and ~;
    junitxml normalises the path)."""
    path = os.path.join(cwd, os.path.expanduser(os.path.expandvars(value)))
    return Path(os.path.normpath(path) if dest == "xmlpath" else path)


@dataclass(frozen=True)
class Staged:
    """One report: asked by flag=value for target, written by its plugin into staging."""
    dest: str
    flag: str
    value: str
    target: Path
    staging: Path

    @property
    def written(self) -> Path:
        return self.staging / self.target.name


def stage(config, cwd: str) -> tuple[list[Staged], str | None]:
    """A fresh private directory beside the target of each pass-through report asked for: the
    reports staged, and the one line of why one cannot be written (that report is not staged).
    config.option is left as it is: pointed() says how the audit sets it."""
    staged, problem = [], None
    for dest, flag in OPTIONS:
        value = getattr(config.option, dest, None)
        if not value:
            continue
        target = asked_path(dest, value, cwd)
        try:
            if target.name == ".." or target.is_dir():  # Path names "/" "" (a directory), never "."
                raise IsADirectoryError("Is a directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name[:64]}.", suffix=".tmp", dir=target.parent))
        except OSError as exc:
            problem = problem or f"{flag}={value}: cannot write a report there: {exc.strerror or exc}"
            continue
        staged.append(Staged(dest, flag, value, target, staging))
    return staged, problem


def pointed(config, staged: list[Staged]) -> tuple[tuple[str, str | None], ...]:
    """The pass-through options as the audit sets them (dest, value), before the plugins read them
    when they configure: each staged report's plugin writes into its staging, and a report that
    cannot be written is not asked of its plugin."""
    where = {report.dest: str(report.written) for report in staged}
    return tuple((dest, where.get(dest)) for dest, _ in OPTIONS if getattr(config.option, dest, None))


def _merge_assets(source: Path, directory: Path) -> None:
    """Move each file of source into directory/assets, made a real directory first: a symlink
    (or file) planted at assets is removed, and a file is renamed over whatever has its name."""
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            if not stat.S_ISDIR(os.lstat(ASSETS, dir_fd=dir_fd).st_mode):
                os.unlink(ASSETS, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        try:
            os.mkdir(ASSETS, dir_fd=dir_fd)
        except FileExistsError:
            pass
        assets_fd = os.open(ASSETS, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        try:
            for entry in sorted(source.iterdir()):
                os.chmod(entry, allowed(PRIVATE))
                os.replace(entry, entry.name, dst_dir_fd=assets_fd)
        finally:
            os.close(assets_fd)
    finally:
        os.close(dir_fd)


def place(report: Staged) -> None:
    """Move what the plugin wrote onto the path asked for, its assets first; OSError if it cannot."""
    if not report.written.is_file():
        raise FileNotFoundError(f"{report.flag} wrote nothing")
    if (report.staging / ASSETS).is_dir():
        _merge_assets(report.staging / ASSETS, report.target.parent)
    os.chmod(report.written, allowed(PRIVATE))
    os.replace(report.written, report.target)


class PassThrough:
    """The plugin that moves the staged reports into place once their plugins wrote them."""

    def __init__(self, config, staged: tuple[Staged, ...], record):
        self.config, self.staged, self.record = config, staged, record
        self.pid = os.getpid()  # a process forked from this one has nothing to move
        for report in staged:
            config.add_cleanup(lambda staging=report.staging: shutil.rmtree(staging, ignore_errors=True))

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session):
        result = yield  # junitxml and pytest-html write theirs (virtnat's own are written)
        if os.getpid() != self.pid:
            return result
        for report in self.staged:
            try:
                place(report)
            except OSError as exc:
                self.record.cannot_write(f"cannot write {report.target}: {exc.strerror or exc}")
            self._point_at(report)
        if self.record.written.problems and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a report asked for is missing: never a clean exit
        return result

    def _point_at(self, report: Staged) -> None:
        """The option and the plugins' summary lines name the path asked for again."""
        from _pytest.junitxml import xml_key

        setattr(self.config.option, report.dest, report.value)
        logxml = self.config.stash.get(xml_key, None)
        if logxml is not None and Path(logxml.logfile) == report.written:
            logxml.logfile = str(report.target)
        for plugin in self.config.pluginmanager.get_plugins():
            if getattr(plugin, "_report_path", None) == report.written:  # pytest-html's report
                plugin._report_path = report.target
