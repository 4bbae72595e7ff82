"""A bounded property test of the whole API with schemathesis (issue 9, Done-when): requests
generated from the served OpenAPI document for every operation, sent to a running uvicorn
with an admin's token, never get a 500.

(schemathesis' own pytest plugin does not load under pytest 9, so each operation's strategy
is driven by hypothesis here directly.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from engine.errors import OrderhubError
from engine.store import Store
from service import roles, tokens
from tests.e2e.api_server import ADMIN, fresh_database, serving
from tests.e2e.conftest import WORKFLOW
from versions import store as vstore

EXAMPLES = 10  # per operation: a smoke test, bounded so the suite stays quick


@dataclass
class Target:
    store: Store
    url: str
    token: str = ""

    def fresh_token(self) -> str:
        """The admin's token, made again if a generated request revoked it (they may)."""
        try:
            tokens.authenticate(self.store, self.token)
        except OrderhubError:
            roles.grant(self.store, ADMIN, ADMIN.user, ADMIN.role, "the property test's admin")
            self.token = tokens.create_token(self.store, ADMIN, ADMIN.user, ADMIN.role).secret
        return self.token


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    with fresh_database(request.param) as store:
        vstore.save(store, WORKFLOW, actor=ADMIN, base=None, message="first")
        with serving(store) as url:
            yield Target(store, url)


def test_no_generated_request_gets_a_500(target: Target) -> None:
    schema = schemathesis.openapi.from_url(f"{target.url}/openapi.json")
    failures: dict[str, str] = {}
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def no_500(case: schemathesis.Case) -> None:
            headers = {"Authorization": f"Bearer {target.fresh_token()}"}
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            no_500()
        except Exception as exc:  # a failure names the request that got the 500
            failures[operation.label] = str(exc)[:2000]
        checked += 1
    assert checked >= 30
    assert failures == {}
