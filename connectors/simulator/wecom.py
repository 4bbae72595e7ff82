"""Simulated WeCom group bot: records messages, enforces size and per-minute limits."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

from connectors.simulator.common import answer, fault_answer, json_of
from connectors.simulator.state import SimState
from connectors.wecom import MARKDOWN_LIMIT, SEND_PATH, TEXT_LIMIT

SYSTEM = "wecom"


def register(app: FastAPI, state: SimState) -> None:
    """Mount the bot webhook path on `app`."""

    @app.post(SEND_PATH)
    async def send(request: Request) -> Response:
        played = state.take_fault(SYSTEM, request, "send")
        if played:
            return fault_answer(played, lambda: reply(45009, "api freq out of limit"))
        key = request.query_params.get("key", "")
        if key != state.credentials[SYSTEM]["key"]:
            return reply(93000, "invalid webhook url")
        body = await json_of(request) or {}
        kind = body.get("msgtype")
        if kind not in ("text", "markdown"):
            return reply(40008, "invalid message type")
        part = body.get(kind) or {}
        content = str(part.get("content") or "")
        if not content:
            return reply(44004, "empty content")
        if len(content.encode()) > (TEXT_LIMIT if kind == "text" else MARKDOWN_LIMIT):
            return reply(40058, "content exceed max length")
        if not state.allow_bot(key):
            return reply(45009, "api freq out of limit")
        state.messages.append(
            {"msgtype": kind, "content": content,
             "mentioned_mobile_list": list(part.get("mentioned_mobile_list") or []),
             "at": state.clock()}
        )  # fmt: skip
        return reply(0, "ok")


def reply(code: int, msg: str) -> Response:
    return answer({"errcode": code, "errmsg": msg})
