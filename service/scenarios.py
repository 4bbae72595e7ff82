"""Scenario files: a day of orders per channel, the stock, and the outcome an oracle expects.

The doors read them — `run --scenario`, `versions replay --scenario`, `simulator`, `demo` —
through `load_scenario`, which names the file (and line:column) on bad input; `read_scenario`
adds what a run needs (the orders' refs and the time they span). The simulator serves the
same files (it reads them itself: connectors import nothing of the service layer), and the
generator in `connectors.simulator.generator` writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from engine.errors import InputError


@dataclass(frozen=True)
class ScenarioInfo:
    """What a run needs to know of a scenario file: its orders and the time they span."""

    path: Path
    refs: frozenset[str]
    since: datetime
    until: datetime  # just past the last update of any of its orders


def load_scenario(path: str | Path) -> dict[str, Any]:
    """The scenario at `path` as a dict; `InputError` when it is missing, not JSON or not a
    scenario (no ``channels`` or ``window``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such scenario file", field="scenario") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc})", field="scenario") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}", field="scenario"
        ) from None
    missing = [
        key for key in ("channels", "window") if not isinstance(data, dict) or key not in data
    ]
    if missing:
        raise InputError(
            f"{path}: not a scenario file (no {', '.join(map(repr, missing))})", field="scenario"
        )
    return data


def read_scenario(path: str | Path) -> ScenarioInfo:
    """The refs of a scenario's orders and the window a pull of all of them needs."""
    data = load_scenario(path)
    refs, last = set(), None
    for channel, orders in data["channels"].items():
        for order in orders:
            refs.add(f"{channel}:{order['order_id']}")
            updated = datetime.fromisoformat(order["updated_at"])
            last = updated if last is None or updated > last else last
    since = datetime.fromisoformat(data["window"]["start"])
    until = (last or datetime.fromisoformat(data["window"]["end"])) + timedelta(seconds=1)
    return ScenarioInfo(Path(path), frozenset(refs), since, until)
