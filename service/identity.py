"""Who is acting at the command line: the one function that decides it, `acting_user`.

A token, when one is given: ``$ORDERHUB_TOKEN``, else ``token = "…"`` under ``[cli]`` in the
settings file. It names the user and the role (`service.tokens.authenticate`), and it wins
over any ``USER:ROLE`` given too.

Once any API token has been made on the store (revoked ones count), a token is the only way
in: a bare ``USER:ROLE`` is no longer believed, so naming ``boss:admin`` no longer makes
anyone the boss, and four-eyes approval means two token holders. Before that, in this order:

1. the ``USER:ROLE`` the command was given (the CLI's ``--as``),
2. else ``$ORDERHUB_AS``,
3. else ``as = "USER:ROLE"`` under ``[cli]`` in the settings file,

each checked against the grants once anyone holds a role (`service.roles.acting`). With none
of them, on a store where nobody holds a role yet, the person at this machine acts as
``<login>:admin``: a fresh store trusts whoever holds its file, as it trusts any ``USER:ROLE``
it is given, so `orderhub run` on a new database just works and its audit record names the
login. Once roles are granted, someone must be named.

None of this protects against someone who holds the database file (or its credentials)
itself: they can add a token row or a grant directly. The audit log's hash chain shows such
edits afterwards (`audit verify`), it does not prevent them.

The API and the scheduler do not come through here: the API gets its actor from the
request's token, the scheduler acts as `access.SCHEDULER`.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping

from sqlalchemy import func, select

from engine.errors import InvalidInput, Unauthenticated
from engine.store import Store
from service.access import Actor
from service.roles import UserRoleRow, acting
from service.tokens import authenticate, has_credentials

ENV = "ORDERHUB_AS"
TOKEN_ENV = "ORDERHUB_TOKEN"


def acting_user(
    store: Store,
    given: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    configured: str | None = None,
    configured_token: str | None = None,
) -> Actor:
    """The actor a command runs as: the token in ``$ORDERHUB_TOKEN`` or `configured_token`
    (the settings file's ``[cli] token``); else, on a store where no token was ever made,
    `given`, else ``$ORDERHUB_AS``, else `configured` (``[cli] as``), else — while nobody
    holds a role — the login as admin."""
    env = os.environ if env is None else env
    token = env.get(TOKEN_ENV) or configured_token
    if token and token.strip():
        return authenticate(store, token)
    if has_credentials(store):
        raise Unauthenticated(
            "this store has API tokens, so a bare USER:ROLE is no longer believed: act with "
            f'your token, set {TOKEN_ENV}=oht_… or `token = "oht_…"` under [cli] in the '
            "settings file (an admin makes one)"
        )
    for text in (given, env.get(ENV), configured):
        if text and text.strip():
            return acting(store, text)
    if not _any_grant(store):
        return Actor(_login(), "admin")
    raise InvalidInput(
        "say who is acting: roles are granted on this store, so orderhub cannot assume an "
        f'admin; set {ENV}=USER:ROLE, or `as = "USER:ROLE"` under [cli] in the settings file',
        field="as",
    )


def _any_grant(store: Store) -> bool:
    with store.session() as session:
        return bool(session.scalar(select(func.count()).select_from(UserRoleRow)))


def _login() -> str:
    try:
        return getpass.getuser() or "local"
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "local"
