"""Request-level failures surface as the documented exceptions, with error_code, HTTP status and the server's
sentence, for both Client and AsyncClient; tool-level failures raise ToolCallError or, if configured, return."""
import asyncio
import threading
import time
import uuid

import pytest

import agentsandbox
from agentsandbox import (AgentDeletedError, AgentSuspendedError, AsyncClient, AuthenticationError, Client,
                          ConflictError, NotFoundError, PayloadTooLargeError, RateLimitError, ToolCallError)


def assert_error(error, cls, status, code):
    assert type(error) is cls
    assert error.status_code == status and error.error_code == code
    assert error.message and error.message == error.body["error"]
    assert code in str(error)


def test_a_wrong_key_is_an_authentication_error(server_url):
    with Client(api_key="not-the-key") as client, pytest.raises(AuthenticationError) as caught:
        client.agents.list()
    assert_error(caught.value, AuthenticationError, 401, "UNAUTHORIZED")


def test_unknown_agent_and_session_are_not_found(client, agent):
    with pytest.raises(NotFoundError) as caught:
        client.agents.get(str(uuid.uuid4()))
    assert_error(caught.value, NotFoundError, 404, "AGENT_NOT_FOUND")
    with pytest.raises(NotFoundError) as caught:
        agent.exec.attach("sess_doesnotexist")
    assert_error(caught.value, NotFoundError, 404, "SESSION_NOT_FOUND")


def test_a_suspended_agent_is_a_conflict_until_resumed(agent):
    assert agent.suspend().state == "suspended"
    with pytest.raises(AgentSuspendedError) as caught:
        agent.bash("true")
    assert_error(caught.value, AgentSuspendedError, 409, "AGENT_SUSPENDED")
    assert isinstance(caught.value, ConflictError)
    assert agent.resume().state == "active"
    assert agent.bash("echo back").stdout == "back\n"


def test_a_deleted_agent_is_gone(client):
    agent = client.agent()
    agent.delete()
    with pytest.raises(AgentDeletedError) as caught:
        agent.exec.run("true")
    assert_error(caught.value, AgentDeletedError, 410, "AGENT_DELETED")
    assert client.agent(agent.id).id == agent.id  # created again


def test_a_body_over_the_limit_is_payload_too_large(agent):
    with pytest.raises(PayloadTooLargeError) as caught:
        agent.files.write("big.txt", "a" * (11 << 20))
    assert_error(caught.value, PayloadTooLargeError, 413, "PAYLOAD_TOO_LARGE")


def test_calls_past_the_agents_concurrency_limit_are_rate_limited(client):
    agent = client.agent(limits={"max_concurrent_calls": 1})
    busy = threading.Thread(target=agent.bash, args=("sleep 3",))
    busy.start()
    try:
        time.sleep(0.8)
        with pytest.raises(RateLimitError) as caught:
            agent.bash("true")
        assert_error(caught.value, RateLimitError, 429, "TOO_MANY_REQUESTS")
    finally:
        busy.join()
        agent.delete()


def test_file_tool_failures_raise_or_return_as_configured(agent, server_url):
    with pytest.raises(ToolCallError) as caught:
        agent.files.read("missing.txt")
    assert_error(caught.value, ToolCallError, 200, "FILE_NOT_FOUND")
    with Client(raise_on_tool_error=False) as lenient:
        result = lenient.agent(agent.id).files.read("missing.txt")
    assert not result.ok and result.error_code == "FILE_NOT_FOUND" and "missing.txt" in result.error


@pytest.mark.asyncio
async def test_async_client_raises_the_same_exceptions(server_url):
    async with AsyncClient(api_key="not-the-key") as bad:
        with pytest.raises(AuthenticationError):
            await bad.agents.list()
    async with AsyncClient() as client:
        with pytest.raises(NotFoundError) as caught:
            await client.agents.get(str(uuid.uuid4()))
        assert_error(caught.value, NotFoundError, 404, "AGENT_NOT_FOUND")

        agent = await client.agent(limits={"max_concurrent_calls": 1})
        await agent.suspend()
        with pytest.raises(AgentSuspendedError):
            await agent.exec.run("true")
        await agent.resume()
        with pytest.raises(PayloadTooLargeError):
            await agent.files.write("big.txt", "a" * (11 << 20))
        busy = asyncio.create_task(agent.bash("sleep 3"))
        await asyncio.sleep(0.8)
        with pytest.raises(RateLimitError) as caught:
            await agent.bash("true")
        assert_error(caught.value, RateLimitError, 429, "TOO_MANY_REQUESTS")
        await busy
        with pytest.raises(ToolCallError):
            await agent.files.read("missing.txt")
        await agent.delete()
        with pytest.raises(AgentDeletedError) as caught:
            await agent.bash("true")
        assert_error(caught.value, AgentDeletedError, 410, "AGENT_DELETED")


def test_every_exception_is_a_sandbox_error():
    for name in ("AuthenticationError", "NotFoundError", "AgentSuspendedError", "AgentDeletedError",
                 "PayloadTooLargeError", "RateLimitError", "ToolCallError", "APIConnectionError"):
        assert issubclass(getattr(agentsandbox, name), agentsandbox.SandboxError)
