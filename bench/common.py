"""What every benchmark here shares: paths, memory and CPU readings, SQL counting."""

from __future__ import annotations

import os
import resource
from collections import Counter
from pathlib import Path
from typing import Any

from connectors.simulator.oracle import OUTCOMES as ORACLE_OUTCOMES

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
PEAK_DAY = ROOT / "tests" / "fixtures" / "intake-4000-s11.json"
BIG_SEED = 2026
OUTCOMES = ORACLE_OUTCOMES  # the six outcomes of the scenario rules


# --------------------------------------------------------------------------- memory


def rss_self_mb() -> float:
    """Peak RSS of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_children_mb() -> float:
    """Largest peak RSS of any child this process has waited for."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def proc_hwm_mb(pid: int | str = "self") -> float | None:
    """VmHWM (peak RSS) of a live process from /proc, None where unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def reset_hwm() -> bool:
    """Reset this process's VmHWM (Linux `clear_refs` 5) so a phase's own peak shows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------- SQL counting


class SqlCounter:
    """Counts statements (by verb) and commits on one engine while active."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self._event = event
        self.engine = engine
        self.statements: Counter[str] = Counter()
        self.rows_batched = 0  # parameter sets sent through executemany
        self.commits = 0
        event.listen(engine, "before_cursor_execute", self._on_execute)
        event.listen(engine, "commit", self._on_commit)

    def _on_execute(self, _conn, _cursor, statement, parameters, _context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.statements[statement.lstrip().split(None, 1)[0].upper()] += 1
        if executemany:
            self.rows_batched += len(parameters)

    def _on_commit(self, _conn) -> None:  # type: ignore[no-untyped-def]
        self.commits += 1

    def stop(self) -> None:
        self._event.remove(self.engine, "before_cursor_execute", self._on_execute)
        self._event.remove(self.engine, "commit", self._on_commit)

    @property
    def total(self) -> int:
        return sum(self.statements.values())
