"""``python -m connectors.simulator --scenario FILE [--port 8900] [--host 127.0.0.1]``.

The settings that point at it are `connectors.simulator.server.settings_for(base_url)`
(render them with `engine.settings.render_toml`).
``--options '{"sf_duplicate": "first_waybill"}'`` sets `SimOptions` fields;
``--faults FILE`` (JSON or YAML) arms faults after the scenario's own (see `faults`);
``--options '{"live_minutes": 5, "push_url": "http://127.0.0.1:8000/hooks"}'`` serves the
day live (see `live`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from connectors.simulator.state import SimOptions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.simulator")
    parser.add_argument("--scenario", required=True, help="scenario JSON file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--options", default="{}", help="SimOptions fields as JSON")
    parser.add_argument("--faults", default=None, help="faults file (JSON or YAML)")
    args = parser.parse_args(argv)

    import uvicorn

    from connectors.simulator.app import create_app
    from connectors.simulator.faults import load_plan
    from connectors.simulator.server import fast_server_options
    from engine.errors import InputError

    scenario = json.loads(Path(args.scenario).read_text(encoding="utf-8"))
    options = SimOptions(**json.loads(args.options))
    try:
        plan = load_plan(args.faults) if args.faults else None
        app = create_app(scenario, options=options, faults=plan)
    except InputError as exc:
        parser.exit(2, f"error: {exc}\n")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on" if options.live_minutes is not None else "off",  # live: the pusher
        timeout_keep_alive=75,  # like the platforms' gateways (nginx's default), not 5 s
        **fast_server_options(),  # httptools + uvloop: several times uvicorn's h11/asyncio
    )


if __name__ == "__main__":
    main()
