"""The one exception tree of orderhub.

    OrderhubError
    ├── WorkflowError            a workflow document cannot be loaded or run
    │   └── ValidationError      one or more problems, each with file:line:column
    ├── ConnectorError           an external system did not do what was asked
    │   ├── Timeout              no answer in time (the request may or may not have landed)
    │   ├── RateLimited          the system asked us to slow down
    │   ├── Unavailable          the system is down or answered 5xx
    │   │   └── BreakerOpen      its breaker is open: the call was not made
    │   └── Rejected             the system refused the request (bad signature, bad data)
    ├── NotFound                 the thing named does not exist                    (404)
    ├── InvalidInput             a value given is wrong; `field` names which one   (422)
    │   └── InputError           a file given to orderhub cannot be read (missing, not JSON)
    ├── ConflictError (Conflict) someone else changed the thing first              (409)
    │   └── LeaseHeld            another process holds the lease (e.g. runs this workflow)
    ├── Unauthenticated          no credential, or one that is unknown, expired, revoked (401)
    ├── PermissionDenied         the acting user's role may not do this            (403)
    ├── Tampered                 stored content no longer matches its recorded hash (500)
    ├── SettingsError            the settings file or environment is wrong
    └── StoreError               the database cannot be reached or opened

The numbers are the HTTP statuses the API gives them; every door (CLI, API, editor) maps
these classes in one place. Messages say what to do next and name no CLI flag: a door adds
its own hint (the CLI turns `InvalidInput.field == "reason"` into `--reason`).
Connectors import nothing of the project but this module.
"""

from __future__ import annotations

from dataclasses import dataclass


class OrderhubError(Exception):
    """Base of every error orderhub raises on purpose."""


class WorkflowError(OrderhubError):
    """A workflow document cannot be loaded, validated or run."""


@dataclass(frozen=True)
class Problem:
    """One problem in a document, located by its 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ValidationError(WorkflowError):
    """A document has one or more problems; `problems` lists each with its location."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.message))
        first = self.problems[0] if self.problems else None
        self.file = first.file if first else ""
        self.line = first.line if first else 0
        self.column = first.column if first else 0
        super().__init__("\n".join(str(p) for p in self.problems))


class ConnectorError(OrderhubError):
    """An external system did not do what was asked; `system` names it."""

    def __init__(self, system: str, message: str, *, code: str | None = None) -> None:
        self.system = system
        self.code = code
        super().__init__(f"{system}: {message}" + (f" (code {code})" if code else ""))


class Timeout(ConnectorError):
    """No answer in time; the request may have landed, so query before retrying."""


class RateLimited(ConnectorError):
    """The system asked us to slow down; retry later (`retry_after_s`: when, if it said)."""

    def __init__(
        self,
        system: str,
        message: str,
        *,
        code: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(system, message, code=code)
        self.retry_after_s = retry_after_s


class Unavailable(ConnectorError):
    """The system is down or failing (5xx, connection refused, breaker open)."""


class BreakerOpen(Unavailable):
    """The system's circuit breaker is open: this call was not made.

    `untouched`: no earlier try of the same call (a retry after a timeout) went out either,
    so nothing of it can have landed."""

    untouched: bool = True


class Rejected(ConnectorError):
    """The system refused the request; retrying the same request will not help."""


class NotFound(OrderhubError):
    """The thing named (a workflow, version, run, order, queue item) does not exist."""


class InvalidInput(OrderhubError):
    """A value given is wrong; the message says what a right one looks like.

    `field` names the input (``reason``, ``base``, ``confirm``, ``db``…) so that a door can
    point at its own spelling of it.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class InputError(InvalidInput):
    """A file given to orderhub cannot be read; the message names it (and line:column)."""


class ConflictError(OrderhubError):
    """Someone else changed the thing first; reload and try again."""


Conflict = ConflictError


class LeaseHeld(ConflictError):
    """Another process holds a lease (it runs this workflow, or schedules this database).

    `holder` says who, `since` since when (naive UTC).
    """

    def __init__(self, message: str, *, holder: str = "", since: object = None) -> None:
        self.holder = holder
        self.since = since
        super().__init__(message)


class Unauthenticated(OrderhubError):
    """No credential was given, or it is unknown, expired or revoked: say who you are."""


class PermissionDenied(OrderhubError):
    """The acting user's role may not do this; ask someone with the right role."""


class Tampered(OrderhubError):
    """Stored content (a saved workflow version) no longer matches the hash recorded when it
    was written: it was edited in the database. Nothing uses it until someone restores it."""


class SettingsError(OrderhubError):
    """The settings file or an environment override is wrong; the message names which."""


class StoreError(OrderhubError):
    """The database cannot be reached or opened; the message names it (never its password)."""
