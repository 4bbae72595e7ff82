"""The editor's door to the service layer: the store, who is signed in, the language.

The editor is a door like the CLI: it reads the settings here (the database URL, how long a
session may stay idle), opens the store once per process, runs async use cases with
`asyncio.run`, and shows every orderhub error as one line. A session that has been idle
longer than `idle_seconds()` is signed out on its next request.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import streamlit as st

from engine.errors import OrderhubError, ValidationError
from engine.settings import load_settings
from engine.store import Store, open_store
from engine.store.db import DEFAULT_URL, check_url
from service.access import Actor
from service.intake import check_systems
from service.passwords import SignedIn
from ui.labels import DEFAULT_LANG, LANGS, t

T = TypeVar("T")
IDLE_ENV = "ORDERHUB_UI_IDLE_S"
DEFAULT_IDLE_S = 30 * 60


def idle_seconds() -> float:
    """How long a session may stay idle (``ORDERHUB_UI_IDLE_S``, default 30 minutes)."""
    try:
        return float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_S))
    except ValueError:
        return DEFAULT_IDLE_S


@st.cache_resource
def _open(url: str) -> Store:
    return open_store(url)


def systems() -> dict[str, dict[str, Any]] | None:
    """The settings' external systems when they are complete: a decision then continues the
    order's run at once, as `orderhub queue decide` does. None when they are not (no
    orderhub.toml with the systems' credentials): the next `orderhub run` continues it."""
    try:
        found = load_settings().systems
        check_systems(found)
    except OrderhubError:
        return None
    return found


def store() -> Store:
    """The store of the database the settings name (``ORDERHUB_DB``, ``[db] url``)."""
    url = check_url(load_settings().db or DEFAULT_URL).render_as_string(hide_password=False)
    return _open(url)


def lang() -> str:
    value = st.session_state.get("lang", DEFAULT_LANG)
    return value if value in LANGS else DEFAULT_LANG


def tr(key: str, **values: object) -> str:
    """The label `key` in the session's language."""
    return t(key, lang(), **values)


def sign_in(signed: SignedIn) -> None:
    st.session_state["signed"] = signed
    st.session_state["role"] = signed.roles[0]
    st.session_state["seen"] = time.monotonic()


def sign_out() -> None:
    for key in list(st.session_state):
        if key != "lang":
            del st.session_state[key]


def actor() -> Actor | None:
    """Who is signed in and the role they act in; None when no one (or idle too long)."""
    signed: SignedIn | None = st.session_state.get("signed")
    if signed is None:
        return None
    now = time.monotonic()
    if now - st.session_state.get("seen", now) > idle_seconds():
        sign_out()
        st.session_state["expired"] = True
        return None
    st.session_state["seen"] = now
    role = st.session_state.get("role", signed.roles[0])
    return signed.as_role(role if role in signed.roles else signed.roles[0])


def call(use_case: Callable[..., T | Awaitable[T]], *args: Any, **kwargs: Any) -> T | None:
    """Run a use case; an orderhub error is shown as one line and gives None."""
    try:
        result = use_case(*args, **kwargs)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return result  # type: ignore[return-value]
    except ValidationError as exc:
        st.error("\n\n".join(str(p) for p in exc.problems))
    except OrderhubError as exc:
        st.error(str(exc))
    return None
