"""Product code never imports the simulator; only the `simulator`, `demo` and
`run --scenario` doors start one, importing it when they do (issue 9, item 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [
    "service.cli",
    "service.running",
    "service.versioning",
    "service.scenarios",
    "service.intake",
    "versions.replay",
    "engine.store.leases",
    "nodes",
]


def test_importing_the_product_loads_no_simulator_module() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in PRODUCT)
        + "print(sorted(m for m in sys.modules if m.startswith('connectors.simulator')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_no_asyncio_run_below_the_doors() -> None:
    """Use cases that do I/O are async; the CLI (and only it) runs them."""
    below = [ROOT / "engine", ROOT / "nodes", ROOT / "versions", ROOT / "connectors"]
    below_files = [p for d in below for p in d.rglob("*.py") if "simulator" not in p.parts]
    service = [p for p in (ROOT / "service").rglob("*.py") if "cli" not in p.name]
    found = [
        str(p.relative_to(ROOT))
        for p in below_files + service
        if "asyncio.run(" in p.read_text(encoding="utf-8")
    ]
    assert found == []
