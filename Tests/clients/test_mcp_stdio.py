"""MCP over stdio: `agent-sandbox mcp --agent ID`, spawned by the official Python client."""
import contextlib
import os

import pytest
from mcp import Client, StdioServerParameters

from mcp_cases import McpCases

@pytest.mark.asyncio
class TestMcpOverStdio(McpCases):
    @pytest.fixture(autouse=True)
    def _server(self, base_url, api_key):
        self.env = {"AGENT_SANDBOX_URL": base_url, "AGENT_SANDBOX_API_KEY": api_key}

    def connect(self, agent_id):
        @contextlib.asynccontextmanager
        async def connected():
            binary = os.path.join(os.environ["AGENT_SANDBOX_BIN"], "agent-sandbox")
            params = StdioServerParameters(command=binary, args=["mcp", "--agent", agent_id], env=self.env)
            async with Client(params) as client:
                yield client
        return connected()
