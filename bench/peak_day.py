"""The 4,000-order peak day as a user runs it: `python -m bench.peak_day`.

`orderhub run workflows/order_intake.yaml --scenario tests/fixtures/intake-4000-s11.json` as a
subprocess; prints how long it took and exits 1 when the report differs from the scenario's
oracle. It was a test of the suite (tests/service/test_cli.py) until the suite had to fit in
a CI slot; the suite keeps the same command on a generated 500-order day
(`test_run_as_a_subprocess_reproduces_the_oracle`), and bench.intake times this day in parts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import PEAK_DAY, ROOT, WORKFLOW, load_average


def main() -> int:
    from service.report import compare_with_expected

    with tempfile.TemporaryDirectory(prefix="orderhub-peak-") as tmp:
        report = Path(tmp) / "r.json"
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "service.cli", "run", str(WORKFLOW), "--scenario",
             str(PEAK_DAY), "--db", str(Path(tmp) / "r.db"), "--report", str(report)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - t0
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return 1
        expected = json.loads(PEAK_DAY.read_text(encoding="utf-8"))["expected"]
        got = json.loads(report.read_text(encoding="utf-8"))
    diffs = compare_with_expected(got, expected)
    if len(got["waybills"]) != expected["outcome_totals"]["shipped"]:
        diffs.append(f"{len(got['waybills'])} waybills for {expected['outcome_totals']['shipped']}")
    print(f"4,000-order peak day via `orderhub run --scenario`: {seconds:.1f} s wall")
    print(f"load average {load_average()}")
    if diffs:
        print("the report differs from the oracle:\n" + "\n".join(diffs[:20]), file=sys.stderr)
        return 1
    print("the report reproduces the scenario's oracle")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
