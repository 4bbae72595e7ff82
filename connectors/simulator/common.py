"""Small helpers the simulated platforms share: fast JSON answers and injected faults."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from fastapi import Response

from connectors.simulator.faults import Played


def answer(body: Any, status: int = 200) -> Response:
    """A JSON response, UTF-8 kept, without pydantic in the way."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(content=text.encode(), status_code=status, media_type="application/json")


def fault_answer(played: Played, rate_limited: Callable[[], Response] | None = None) -> Response:
    """The answer for an injected fault: 500, 503, HTTP 429 with Retry-After, or (for
    ``rate_limit``) the platform's own rate-limit answer — `rate_limited()`, or HTTP 429
    with Retry-After for a platform without one (`rate_limited` None)."""
    if played.mode == "rate_limit" and rate_limited is not None:
        return rate_limited()
    if played.mode in ("rate_limit", "http_429"):
        return too_many(played.retry_after_s)
    if played.mode == "down":
        return Response(content=b"service unavailable", status_code=503)
    return answer({"error": "injected failure"}, status=500)


def too_many(retry_after_s: float) -> Response:
    """HTTP 429 with ``Retry-After`` in whole seconds (rounded up), as RFC 9110 writes it."""
    response = answer({"error": "too many requests"}, status=429)
    response.headers["Retry-After"] = str(math.ceil(retry_after_s))
    return response


async def json_of(request: Any) -> Any:
    """The request's JSON body, or None when it is missing or not JSON."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
