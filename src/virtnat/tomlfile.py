"""Reading a TOML file the user gave (a profile, waivers): what is wrong with it, in one line.
Only a regular file of at most inputs.TOML_LIMIT bytes is read, and tables and arrays nested
more than inputs.TOML_DEPTH levels are refused (tomllib recurses on them: any depth it cannot
parse is one line too, never a traceback)."""
from __future__ import annotations

import tomllib

from . import inputs
from .errors import ProfileError
from .inputs import Refused, read_regular


def read_toml(path, label: str, missing: str = "file not found") -> dict:
    """The file's tables; ProfileError "LABEL PATH: problem" when it cannot be read or parsed."""
    try:
        data = tomllib.loads(read_regular(path, inputs.TOML_LIMIT, f"a {label} file").decode())
    except FileNotFoundError:
        raise ProfileError(f"{label} {path}: {missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{label} {path}: cannot read: {exc}") from None
    except Refused as exc:
        raise ProfileError(f"{label} {path}: {exc}: give the {label} file itself") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{label} {path}: not valid TOML: {exc}") from None
    except RecursionError:
        data = None
    except Exception as exc:  # whatever else the parser raises on a hostile file: one line
        raise ProfileError(f"{label} {path}: not valid TOML: {type(exc).__name__}: {_first_line(exc)}") from None
    if data is None or deeper_than(data, inputs.TOML_DEPTH):
        raise ProfileError(f"{label} {path}: nested too deeply (more than {inputs.TOML_DEPTH} levels of tables and arrays)")
    return data


def deeper_than(value, limit: int) -> bool:
    """Whether tables and arrays nest in value more than limit levels (an empty one is a level
    too); level by level, no recursion: any depth is answered."""
    level = [value] if isinstance(value, (dict, list)) else []
    for _ in range(limit):
        level = [item for each in level for item in (each.values() if isinstance(each, dict) else each)
                 if isinstance(item, (dict, list))]
        if not level:
            return False
    return bool(level)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [""])[0][:200]
