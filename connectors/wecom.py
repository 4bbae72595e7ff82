"""WeCom (企业微信) group bot: ``POST /cgi-bin/webhook/send?key=KEY``.

Text up to 2048 bytes, markdown up to 4096; 20 messages per minute per bot (errcode
45009). Answers ``{errcode, errmsg}``; errcode 0 is success.
"""

from __future__ import annotations

from typing import Any

from connectors.http import Response, client_from_config, json_body, require
from engine.errors import RateLimited, Rejected, Unavailable

SYSTEM = "wecom"
SEND_PATH = "/cgi-bin/webhook/send"
TEXT_LIMIT = 2048
MARKDOWN_LIMIT = 4096
RATE_LIMITED = 45009


class WecomConnector:
    """Sends text or markdown messages to one group bot."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._key = require(SYSTEM, config, "key")
        self._http = client_from_config(SYSTEM, config)

    async def send(
        self, content: str, *, mentioned_mobiles: list[str] | None = None, markdown: bool = False
    ) -> None:
        """Send one message; not retried (a repeat would post it twice)."""
        limit = MARKDOWN_LIMIT if markdown else TEXT_LIMIT
        if len(content.encode()) > limit:
            raise Rejected(SYSTEM, f"message longer than {limit} bytes; shorten or split it")
        if markdown:
            body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": content}}
        else:
            text: dict[str, Any] = {"content": content}
            if mentioned_mobiles:
                text["mentioned_mobile_list"] = list(mentioned_mobiles)
            body = {"msgtype": "text", "text": text}
        await self._http.call("POST", SEND_PATH, params={"key": self._key}, json=body, parse=_parse)

    async def aclose(self) -> None:
        await self._http.aclose()


def _parse(response: Response) -> dict:
    body = json_body(SYSTEM, response)
    code = int(body.get("errcode", -1))
    if code == 0:
        return body
    msg = str(body.get("errmsg", ""))
    if code == RATE_LIMITED:
        raise RateLimited(SYSTEM, "more than 20 messages a minute; wait and resend", code="45009")
    if code == -1:
        raise Unavailable(SYSTEM, f"system busy: {msg}", code=str(code))
    raise Rejected(SYSTEM, f"refused: {msg}", code=str(code))
