"""Shared fixtures for the client-side suites: the live server that scripts/test-clients started."""
import os
import uuid

import httpx
import pytest


@pytest.fixture(scope="session")
def base_url() -> str:
    return os.environ["AGENT_SANDBOX_URL"]


@pytest.fixture(scope="session")
def api_key() -> str:
    return os.environ["AGENT_SANDBOX_API_KEY"]


@pytest.fixture()
def http(base_url, api_key):
    with httpx.Client(base_url=base_url, headers={"x-api-key": api_key}, timeout=60) as client:
        yield client


@pytest.fixture()
def agent_id() -> str:
    return str(uuid.uuid4())
