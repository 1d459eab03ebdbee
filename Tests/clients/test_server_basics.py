"""The live server answers health checks without a key and refuses /v1 without one."""
import httpx


def test_healthz_answers_without_a_key(base_url):
    assert httpx.get(f"{base_url}/healthz").status_code == 200


def test_v1_without_a_key_is_401_with_the_envelope(base_url, agent_id):
    reply = httpx.post(f"{base_url}/v1/agents/{agent_id}/sandbox/bash", json={"command": "true"})
    assert reply.status_code == 401
    body = reply.json()
    assert body["status"] == "error" and body["error_code"] == "UNAUTHORIZED"


def test_bash_runs_as_the_agent(http, agent_id):
    reply = http.post(f"/v1/agents/{agent_id}/sandbox/bash", json={"command": "echo hi; id -u"})
    assert reply.status_code == 200
    body = reply.json()
    lines = body["stdout"].split()
    assert lines[0] == "hi" and int(lines[1]) >= 380000
