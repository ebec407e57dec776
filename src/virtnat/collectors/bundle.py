"""Facts from a file: the output of the probe saved on a host (`sh probe.sh > hv1.facts`, with
VIRTNAT_IP=1 and VIRTNAT_VIRSH=URI for links and libvirt), audited with no connection at all."""
from __future__ import annotations

from pathlib import Path

from ..errors import FactError
from ..facts import probe


def bundle_files(spec: str) -> list[Path]:
    """The files of `--facts`: comma-separated files or directories (every non-hidden file in a
    directory, sorted). Raises FactError naming the first path that does not exist."""
    files: list[Path] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        path = Path(part)
        if path.is_dir():
            files.extend(sorted(f for f in path.iterdir() if f.is_file() and not f.name.startswith(".")))
        elif path.exists():
            files.append(path)
        else:
            raise FactError(f"{part}: no such file or directory")
    if not files:
        raise FactError(f"{spec!r} holds no fact file")
    return files


class BundleRun:
    """The probe's sections, read from a saved output instead of run on the host."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = path, name

    def sections(self) -> dict[str, tuple[int, str]]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise FactError(f"cannot read the facts of {self.name}: {exc.strerror or exc}: {self.path}") from None
        try:
            return probe.split_sections(text)
        except FactError as exc:
            raise FactError(f"{self.path}: {exc}") from None
