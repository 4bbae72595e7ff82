"""Small helpers the simulated platforms share: fast JSON answers and injected faults."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import Response


def answer(body: Any, status: int = 200) -> Response:
    """A JSON response, UTF-8 kept, without pydantic in the way."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(content=text.encode(), status_code=status, media_type="application/json")


def fault_answer(mode: str, rate_limited: Callable[[], Response]) -> Response:
    """The answer for an injected fault: 500, 503, or the platform's rate-limit shape."""
    if mode == "rate_limit":
        return rate_limited()
    if mode == "down":
        return Response(content=b"service unavailable", status_code=503)
    return answer({"error": "injected failure"}, status=500)


async def json_of(request: Any) -> Any:
    """The request's JSON body, or None when it is missing or not JSON."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
