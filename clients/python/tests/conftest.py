"""Fixtures for the SDK suites: clients for the live server that scripts/test-clients started
(AGENT_SANDBOX_URL, AGENT_SANDBOX_API_KEY), and a fresh agent per test, deleted afterwards."""
import os

import pytest
import pytest_asyncio

from agentsandbox import AsyncClient, Client, SandboxError


@pytest.fixture(scope="session")
def server_url() -> str:
    return os.environ["AGENT_SANDBOX_URL"]


@pytest.fixture()
def client(server_url):
    with Client() as client:
        yield client


@pytest.fixture()
def agent(client):
    agent = client.agent()
    yield agent
    try:
        agent.delete()
    except SandboxError:
        pass


@pytest_asyncio.fixture()
async def aclient(server_url):
    async with AsyncClient() as client:
        yield client


@pytest_asyncio.fixture()
async def aagent(aclient):
    agent = await aclient.agent()
    yield agent
    try:
        await agent.delete()
    except SandboxError:
        pass
