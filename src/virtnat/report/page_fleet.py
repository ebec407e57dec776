"""A fleet's page in files: the page (STEM.html) holds the problems by cause and the hosts, and
each host's detail (its checks, evidence, raw facts, picture) is a page of its own in the folder
STEM/ beside it, linked from it. Every link is relative, so the page's copy beside it
(latest.html) links to the same files; retention.py prunes the folder with its page. With a
previous run's JSON beside it, the page says what changed since (since.py)."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import quote

from .files import allowed, write_atomic
from .markup import text
from .page import html_parts
from .since import since_previous

FOLDER_MODE = 0o750  # as the reports: the auditor's group may read them
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def host_files(hosts: list[dict]) -> list[str]:
    """A file name per host: its name, made safe (letters, digits, '.', '_', '-'; at most 100
    characters; never hidden), and, when that is another host's already (whatever the case),
    with ~ and the host's index."""
    names, taken = [], set()
    for h, host in enumerate(hosts):
        name = UNSAFE.sub("_", text(host.get("host")))[:100].lstrip(".") or "host"
        if name.lower() in taken:
            name = f"{name}~{h}"  # ~ is in no safe name: unique
        taken.add(name.lower())
        names.append(f"{name}.html")
    return names


def folder_of(page: Path) -> Path:
    """The folder of the hosts' pages beside page: its name without .html."""
    return page.with_suffix("")


def write_folder(folder: Path, files: Iterable[tuple[str, Iterable[str]]]) -> None:
    """Write each (name, parts) into a fresh folder beside folder, then put it in folder's place
    (an earlier one goes): whole or not at all, and a link at folder is replaced, not followed."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        for name, parts in files:
            write_atomic(tmp / name, parts)
        os.chmod(tmp, allowed(FOLDER_MODE))
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        elif folder.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
            os.replace(folder, old / folder.name)
            shutil.rmtree(old)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def page_with_hosts(document: dict, evidence: dict, page: Path) -> Iterator[str]:
    """The page for path page, part by part; with more than one host, the hosts' pages are
    written first, into folder_of(page) (html_parts' files)."""
    hosts = [] if (document or {}).get("error") else [h for h in (document or {}).get("hosts") or [] if isinstance(h, dict)]
    if len(hosts) < 2:
        yield from html_parts(document, evidence)
        return
    folder, names = folder_of(page), host_files(hosts)
    evidence = evidence if isinstance(evidence, dict) else {}
    by_host = evidence.get("hosts") if isinstance(evidence.get("hosts"), dict) else {}
    back = f"../{quote(page.name)}"

    def host_page(host: dict) -> Iterator[str]:
        name = text(host.get("host"))
        mine = {name: by_host[name]} if name in by_host else {}
        return html_parts({**document, "hosts": [host]}, {**evidence, "hosts": mine}, back=back)

    write_folder(folder, ((file, host_page(host)) for file, host in zip(names, hosts)))
    yield from html_parts(document, evidence, files=(folder.name, names), since=since_previous(page.parent, page.stem, document))
