"""Reading a TOML file the user gave (a profile, waivers): what is wrong with it, in one line."""
from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import ProfileError


def read_toml(path, label: str, missing: str = "file not found") -> dict:
    """The file's tables; ProfileError "LABEL PATH: problem" when it cannot be read or parsed."""
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ProfileError(f"{label} {path}: {missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{label} {path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{label} {path}: not valid TOML: {exc}") from None
