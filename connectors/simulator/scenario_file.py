"""Reading a scenario file, with an error that names the file (and line:column) on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.errors import InputError


def load_scenario(path: str | Path) -> dict[str, Any]:
    """The scenario at `path` as a dict; `InputError` when it is missing, not JSON or not a
    scenario (no ``channels`` or ``window``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    missing = [
        key for key in ("channels", "window") if not isinstance(data, dict) or key not in data
    ]
    if missing:
        raise InputError(f"{path}: not a scenario file (no {', '.join(map(repr, missing))})")
    return data
