"""The profile on the page: the expected values as a table, the ones a site changed marked."""
from __future__ import annotations

from .markup import esc, text


def flatten(value, prefix: str = "") -> dict[str, object]:
    """A nested dict as {dotted key: leaf value}; a leaf is anything but a non-empty dict."""
    if not isinstance(value, dict) or (not value and prefix):
        return {prefix: value}
    flat: dict[str, object] = {}
    for key, inner in value.items():
        flat.update(flatten(inner, f"{prefix}.{text(key)}" if prefix else text(key)))
    return flat


def differs(key: str, value, defaults: dict[str, object]) -> bool:
    """Whether the profile's value for key is not the default (or has none)."""
    return key not in defaults or defaults[key] != value


def _row(key: str, value, defaults: dict[str, object] | None) -> str:
    if defaults is None:
        return f'<tr data-key="{esc(key)}"><td>{esc(key)}</td><td>{esc(value)}</td></tr>'
    mark = differs(key, value, defaults)
    default = esc(defaults[key]) if key in defaults else "(none)"
    return (f'<tr class="{"differs" if mark else "same"}" data-key="{esc(key)}" data-differs="{"yes" if mark else "no"}">'
            f'<td>{esc(key)}</td><td>{esc(value)}</td><td>{default}</td>'
            f'<td class="mark">{"differs from the default" if mark else ""}</td></tr>')


def profile_html(profile, defaults) -> str:
    """The expected values as a table, folded under a line naming the keys that differ: the
    profile's, each beside its default (a row that differs is marked, in words as well as colour)
    when the defaults are known; else the defaults alone."""
    defaults = flatten(defaults) if isinstance(defaults, dict) and defaults else None
    if isinstance(profile, dict):
        values, compare = flatten(profile), defaults
        changed = [k for k, v in values.items() if differs(k, v, defaults)] if defaults else []
        note = (f"{len(changed)} of {len(values)} values differ from the defaults" + (": " if changed else "")
                + ", ".join(changed[:6]) + (", …" if len(changed) > 6 else "") if defaults
                else "the defaults are not known here: nothing is marked")
    elif defaults:
        values, compare, note = defaults, None, "none given: these built-in defaults apply"
    else:
        return '<section class="profile"><p><b>Profile</b>: none given; the built-in defaults apply.</p></section>'
    head = "<th>key</th><th>expected</th>" + ("<th>default</th><th></th>" if compare else "")
    rows = "".join(_row(key, value, compare) for key, value in values.items())
    return (f'<details class="profile"><summary><b>Profile</b>: {esc(note)}</summary>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></details>")
