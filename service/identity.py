"""Who is acting at the command line: the one function that decides it, `acting_user`.

In this order:

1. the ``USER:ROLE`` the command was given (the CLI's ``--as``),
2. else ``$ORDERHUB_AS``,
3. else ``as = "USER:ROLE"`` under ``[cli]`` in the settings file,

each checked against the grants once anyone holds a role (`service.roles.acting`). With none
of them, on a store where nobody holds a role yet, the person at this machine acts as
``<login>:admin``: a fresh store trusts whoever holds its file, as it trusts any ``USER:ROLE``
it is given, so `orderhub run` on a new database just works and its audit record names the
login. Once roles are granted, someone must be named.

API tokens come later and slot in here, first: a token (``ORDERHUB_TOKEN`` or the settings
file) will name the user and its role, and a bare ``USER:ROLE`` will be believed only on a
store with no credentials yet. The API and the scheduler do not come through here: the API
gets its actor from the request's token, the scheduler acts as `access.SCHEDULER`.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping

from sqlalchemy import func, select

from engine.errors import InvalidInput
from engine.store import Store
from service.access import Actor
from service.roles import UserRoleRow, acting

ENV = "ORDERHUB_AS"


def acting_user(
    store: Store,
    given: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    configured: str | None = None,
) -> Actor:
    """The actor a command runs as: `given`, else ``$ORDERHUB_AS``, else `configured` (the
    settings file's ``[cli] as``), else — while nobody holds a role — the login as admin."""
    env = os.environ if env is None else env
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
