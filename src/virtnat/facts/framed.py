"""Files the probe framed (pure): `@@file PATH`, then each line of the file behind a `|`, or
`@@unreadable PATH` for a file it could not read (probe.sh's `framed`). Read by the units
section and by libvirt's state files alike."""
from __future__ import annotations


def basename(path: str) -> str:
    return path.rpartition("/")[2]


class Framed:
    """The files of one run of framed lines, in the order read, fed line by line."""

    def __init__(self) -> None:
        self.files: dict[str, list[str]] = {}
        self.unreadable: list[str] = []
        self._lines: list[str] | None = None  # the lines of the file being read

    def take(self, line: str) -> bool:
        """Keep a line of the framing; False (and nothing kept) for any other line."""
        if line.startswith("@@file "):
            self._lines = self.files.setdefault(line.removeprefix("@@file ").strip(), [])
        elif line.startswith("@@unreadable "):
            self.unreadable.append(line.removeprefix("@@unreadable ").strip())
            self._lines = None
        elif line.startswith("|") and self._lines is not None:
            self._lines.append(line[1:])
        else:
            return False
        return True

    def texts(self) -> dict[str, str]:
        return {path: "\n".join(lines) for path, lines in self.files.items()}
