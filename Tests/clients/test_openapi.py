"""The served OpenAPI document against the live server (scripts/test-clients starts it).

1. ``GET /openapi.json`` is a valid OpenAPI 3.1 document (openapi-spec-validator).
2. schemathesis generates requests for every operation from that document (positive and negative data,
   a fixed seed, a bounded number of examples per operation) and checks each response: never a 5xx, a
   documented status code, a documented content type, a body that matches the documented schema.

Run-time choices, none of which hides a failure:
- Each operation works on its own agent (a UUID derived from the operation, created before its first
  case), so one operation's DELETE or suspend does not turn every other operation's calls into 410s and
  409s, and the session, share and archive routes reach past "no such agent"; a generated agent id that
  is not a UUID (negative data) is sent as generated. No operation is excluded.
- Commands (``sandbox/bash``, ``workspace/bash``, ``exec``) get a ``timeout`` of at most 10 s, so that a
  generated command that happens to run forever (``yes``) cannot stall the run; the schema allows up to a week.
- The watch stream (``GET …/watch``, SSE) lasts until the client leaves; it gets a ``timeout`` of at most
  2 s (its own query parameter: the server ends the stream cleanly then), so each case reads a whole response.
- The agents the run created are deleted at the end.
- The preview proxy operations (``…/ports/{port}``, ``…/ports/{port}/{path}``, ``/p/{token}…``) forward to
  whatever the agent runs on that port; in this run nothing does, and the contract for that is a 502 envelope
  with ``error_code: UPSTREAM_UNAVAILABLE``. Those cases get every other check, and any 5xx must be exactly
  that 502.
"""
import os
import uuid

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, seed, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

BASE_URL = os.environ.get("AGENT_SANDBOX_URL")
API_KEY = os.environ.get("AGENT_SANDBOX_API_KEY", "")
if not BASE_URL:
    pytest.skip("needs a live server (scripts/test-clients)", allow_module_level=True)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = int(os.environ.get("OPENAPI_MAX_EXAMPLES", "25"))
COMMAND_TIMEOUT = 10
WATCH_TIMEOUT = 2
# Fresh agent ids every run (a deleted agent's id stays deleted); the data generation itself is seeded.
RUN_NAMESPACE = uuid.uuid4()
_prepared: set[str] = set()

# Archive uploads are bytes whatever their declared media type.
schemathesis.serializer.alias(["application/gzip", "application/x-tar", "application/zip", "application/zstd"], "application/octet-stream")
schema = schemathesis.openapi.from_url(f"{BASE_URL}/openapi.json")


def test_served_document_is_valid_openapi():
    from openapi_spec_validator import validate

    document = httpx.get(f"{BASE_URL}/openapi.json", timeout=30).json()
    validate(document)
    assert document["openapi"].startswith("3.1")


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def _bound_watch_timeout(case) -> None:
    if not case.operation.path.endswith("/watch"):
        return
    query = case.query if isinstance(case.query, dict) else {}
    timeout = query.get("timeout")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout > WATCH_TIMEOUT:
        query["timeout"] = WATCH_TIMEOUT
    case.query = query


def _bound_command_timeout(case) -> None:
    path = case.operation.path
    if not (path.endswith("/bash") or path.endswith("/exec")) or not isinstance(case.body, dict):
        return
    timeout = case.body.get("timeout")
    if timeout is None or (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > COMMAND_TIMEOUT):
        case.body["timeout"] = COMMAND_TIMEOUT


@pytest.fixture(scope="module", autouse=True)
def _remove_created_agents():
    headers = {"x-api-key": API_KEY}
    before = {a["agent_id"] for a in httpx.get(f"{BASE_URL}/v1/agents", headers=headers, timeout=60).json()["agents"]}
    yield
    after = httpx.get(f"{BASE_URL}/v1/agents", headers=headers, timeout=60).json()["agents"]
    for agent in after:
        if agent["agent_id"] not in before:
            httpx.delete(f"{BASE_URL}/v1/agents/{agent['agent_id']}", headers=headers, timeout=60)


@schema.parametrize()
@seed(20261206)
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case):
    if _is_uuid(case.path_parameters.get("agent_id") if case.path_parameters else None):
        agent = str(uuid.uuid5(RUN_NAMESPACE, case.operation.label))
        if agent not in _prepared:
            httpx.post(f"{BASE_URL}/v1/agents", json={"agent_id": agent}, headers={"x-api-key": API_KEY}, timeout=60).raise_for_status()
            _prepared.add(agent)
        case.path_parameters["agent_id"] = agent
    _bound_command_timeout(case)
    _bound_watch_timeout(case)
    if _is_preview_proxy(case):
        response = case.call(headers={"x-api-key": API_KEY}, timeout=60)
        case.validate_response(response, checks=[check for check in CHECKS if check is not not_a_server_error])
        if response.status_code >= 500:
            assert response.status_code == 502, response.text
            assert case.method.upper() == "HEAD" or response.json().get("error_code") == "UPSTREAM_UNAVAILABLE", response.text
        return
    case.call_and_validate(headers={"x-api-key": API_KEY}, checks=CHECKS, timeout=60)


def _is_preview_proxy(case) -> bool:
    path = case.operation.path
    return path.startswith("/p/") or (path.startswith("/v1/agents/{agent_id}/ports/{port}") and "/link" not in path)
