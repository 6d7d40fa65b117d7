"""Schemathesis against the generated OpenAPI schema, with a bounded number of examples.

Each operation gets `MAX_EXAMPLES` generated requests, sent through the ASGI app
as an admin with an API token. Checks: no server errors, and status codes, content
types, headers and bodies that conform to the schema.

The operations are driven through Hypothesis directly instead of schemathesis's
pytest integration, because `schemathesis.pytest.from_fixture` (schemathesis
4.32.5) fails under pytest 9 with "'Function' object has no attribute '_nodeid'".
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(web):
    client = web.client("admin")
    token = client.post(
        "/api/v1/me/tokens", json={"name": "schemathesis", "scopes": ["read", "write", "admin"]}, headers=web.headers(client)
    ).json()["token"]
    agent = web.client("agent")
    agent.post("/api/v1/issues", json={"title": "种子问题", "reporter": "reporter"}, headers=web.headers(agent))
    return schemathesis.openapi.from_asgi("/api/schema/openapi.json", web.asgi), token


def test_api_conforms_to_its_schema(api_schema):
    schema, token = api_schema
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    failures = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as error:  # noqa: BLE001 - collect every operation's failure, then report all
            failures.append(f"{operation.label}: {error}")

    assert len(operations) >= 20
    assert not failures, "\n\n".join(failures)
