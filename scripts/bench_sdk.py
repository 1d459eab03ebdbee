#!/usr/bin/env python3
"""Python half of scripts/bench-sdk: the SDK against its same-run baselines on a running server.

1. exec.run("true"): median round trip through the SDK (Client, AsyncClient) vs a raw httpx request of the same
   route (POST /v1/agents/{id}/exec) on its own pooled client, interleaved call by call so drift hits both.
2. Streaming: `yes | head -c 200M` as a background session, read from the start over SSE
   (?encoding=base64) by the SDK (iteration, on_stdout callbacks, async iteration) vs `curl -N` on the same route
   (saved to a file, parsed after the clock stops). The server keeps 1 MiB per stream and never blocks the
   command, so a reader that falls behind gets `dropped` events: delivered and dropped bytes are both shown.

usage: bench_sdk.py URL KEY [N]
"""
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from agentsandbox import AsyncClient, Client

URL, KEY = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 300
STREAM_CMD = "yes | head -c 200M"
RUNS = int(os.environ.get("BENCH_STREAM_RUNS", "3"))
MB = 1e6


def median_ms(samples):
    return statistics.median(samples) * 1000


def bench_run(client, agent):
    raw = httpx.Client(base_url=URL, headers={"x-api-key": KEY}, timeout=60)
    path = f"/v1/agents/{agent.id}/exec"
    sdk_t, raw_t = [], []
    for _ in range(20):  # warm both connections and the agent's sandbox
        agent.exec.run("true")
        raw.post(path, json={"command": "true"}).json()
    for i in range(N):  # alternate which goes first, so neither always follows the other
        for which in ((sdk_t, raw_t) if i % 2 else (raw_t, sdk_t)):
            t0 = time.perf_counter()
            if which is sdk_t:
                assert agent.exec.run("true").exit_code == 0
            else:
                assert raw.post(path, json={"command": "true"}).json()["exit_code"] == 0
            which.append(time.perf_counter() - t0)
    raw.close()
    return median_ms(sdk_t), median_ms(raw_t)


async def bench_run_async(agent_id):
    sdk_t, raw_t = [], []
    async with AsyncClient(URL, KEY) as client, httpx.AsyncClient(base_url=URL, headers={"x-api-key": KEY}) as raw:
        agent = await client.agent(agent_id)
        path = f"/v1/agents/{agent_id}/exec"
        for _ in range(20):
            await agent.exec.run("true")
            (await raw.post(path, json={"command": "true"})).json()
        for i in range(N):
            for which in ((sdk_t, raw_t) if i % 2 else (raw_t, sdk_t)):
                t0 = time.perf_counter()
                if which is sdk_t:
                    await agent.exec.run("true")
                else:
                    (await raw.post(path, json={"command": "true"})).json()
                which.append(time.perf_counter() - t0)
    return median_ms(sdk_t), median_ms(raw_t)


def client_cost_us():
    """The SDK's own cost per exec.run, without a network: both clients on httpx's MockTransport."""
    reply = httpx.Response(200, json={"status": "ok", "stdout": "", "stderr": "", "exit_code": 0, "success": True})

    def handler(request):
        return reply if request.url.path.endswith("/exec") else httpx.Response(201, json={"agent_id": "a"})

    sdk_agent = Client("http://mock", KEY, http_client=httpx.Client(
        base_url="http://mock", transport=httpx.MockTransport(handler))).agent("a")
    raw = httpx.Client(base_url="http://mock", headers={"x-api-key": KEY}, transport=httpx.MockTransport(handler))
    sdk_t, raw_t = [], []
    for i in range(2000):
        t0 = time.perf_counter()
        sdk_agent.exec.run("true")
        t1 = time.perf_counter()
        raw.post("/v1/agents/a/exec", json={"command": "true"}).json()
        t2 = time.perf_counter()
        sdk_t.append(t1 - t0)
        raw_t.append(t2 - t1)
    return statistics.median(sdk_t) * 1e6, statistics.median(raw_t) * 1e6


async def client_cost_us_async():
    """The same for AsyncClient against httpx.AsyncClient."""
    reply = httpx.Response(200, json={"status": "ok", "stdout": "", "stderr": "", "exit_code": 0, "success": True})

    def handler(request):
        return reply if request.url.path.endswith("/exec") else httpx.Response(201, json={"agent_id": "a"})

    client = AsyncClient("http://mock", KEY, http_client=httpx.AsyncClient(
        base_url="http://mock", transport=httpx.MockTransport(handler)))
    sdk_agent = await client.agent("a")
    raw = httpx.AsyncClient(base_url="http://mock", headers={"x-api-key": KEY}, transport=httpx.MockTransport(handler))
    sdk_t, raw_t = [], []
    for i in range(2000):
        t0 = time.perf_counter()
        await sdk_agent.exec.run("true")
        t1 = time.perf_counter()
        (await raw.post("/v1/agents/a/exec", json={"command": "true"})).json()
        t2 = time.perf_counter()
        sdk_t.append(t1 - t0)
        raw_t.append(t2 - t1)
    return statistics.median(sdk_t) * 1e6, statistics.median(raw_t) * 1e6


def parser_ceiling():
    """MB/s of decoded output the SDK's SSE parser handles on its own (a synthetic 200 MB base64 stream)."""
    from agentsandbox._sse import SSEParser
    event = b"id: 1\nevent: stdout\ndata: " + base64.b64encode(b"y\n" * (128 << 10)) + b"\n\n"
    stream = event * (200 * (1 << 20) // (256 << 10))
    parser, got = SSEParser(), 0
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(stream), 64 << 10):
        for ev in parser.feed(stream[start:start + (64 << 10)]):
            got += len(ev.data)
    return got / MB / (time.perf_counter() - wall), got / MB / (time.process_time() - cpu)


def stream_sdk_iter(agent):
    session = agent.exec.start(STREAM_CMD, stdin=False)
    got = dropped = 0
    t0 = time.perf_counter()
    for event in session:
        if event.type == "stdout":
            got += len(event.data)
        elif event.type == "dropped":
            dropped += event.dropped_bytes
    return time.perf_counter() - t0, got, dropped


def stream_sdk_callbacks(agent):
    got = [0]
    t0 = time.perf_counter()
    session = agent.exec.start(STREAM_CMD, stdin=False, on_stdout=lambda text: got.__setitem__(0, got[0] + len(text)))
    session.wait()
    info = session.info()
    return time.perf_counter() - t0, got[0], info.stdout_bytes - got[0]


async def stream_sdk_async(agent_id):
    async with AsyncClient(URL, KEY) as client:
        agent = await client.agent(agent_id)
        session = await agent.exec.start(STREAM_CMD, stdin=False)
        got = dropped = 0
        t0 = time.perf_counter()
        async for event in session:
            if event.type == "stdout":
                got += len(event.data)
            elif event.type == "dropped":
                dropped += event.dropped_bytes
        return time.perf_counter() - t0, got, dropped


def stream_curl(client, agent, encoding):
    session = agent.exec.start(STREAM_CMD, stdin=False)
    url = f"{URL}/v1/agents/{agent.id}/exec/{session.session_id}/stream?encoding={encoding}"
    with tempfile.NamedTemporaryFile(dir=os.environ.get("BENCH_TMP")) as out:
        t0 = time.perf_counter()
        subprocess.run(["curl", "-sN", "-H", f"x-api-key: {KEY}", "-o", out.name, url], check=True)
        elapsed = time.perf_counter() - t0
        got = dropped = 0
        event = None
        with open(out.name, "rb") as f:
            for line in f:
                if line.startswith(b"event: "):
                    event = line[7:].strip()
                elif line.startswith(b"data: ") and event == b"stdout":
                    payload = line[6:].rstrip(b"\n")
                    got += len(base64.b64decode(payload)) if encoding == "base64" else len(payload) + 1
                elif line.startswith(b"data: ") and event == b"dropped":
                    dropped += int(line.split(b"dropped_bytes\":")[1].split(b"}")[0])
    return elapsed, got, dropped


def show_stream(label, elapsed, got, dropped):
    print(f"  {label:<34} {elapsed:6.2f} s  delivered {got / MB:6.1f} MB  {got / MB / elapsed:7.1f} MB/s"
          f"  dropped {dropped / MB:6.1f} MB")


def main():
    with Client(URL, KEY) as client:
        agent = client.agent()
        print(f"Python SDK, exec.run(\"true\"): median of {N}, interleaved with the baseline")
        live_sync = bench_run(client, agent)
        print("  Client       {:7.3f} ms   raw httpx.Client       {:7.3f} ms   overhead {:+5.1f} %".format(
            *live_sync, 100 * (live_sync[0] / live_sync[1] - 1)))
        live_async = asyncio.run(bench_run_async(agent.id))
        print("  AsyncClient  {:7.3f} ms   raw httpx.AsyncClient  {:7.3f} ms   overhead {:+5.1f} %".format(
            *live_async, 100 * (live_async[0] / live_async[1] - 1)))
        print("  client-side cost per call, no server (httpx MockTransport, median of 2000); the SDK's own share")
        for label, (sdk, raw), live in (("Client", client_cost_us(), live_sync),
                                        ("AsyncClient", asyncio.run(client_cost_us_async()), live_async)):
            print(f"  {label:<12} SDK {sdk:5.0f} us   raw {raw:5.0f} us   "
                  f"difference {sdk - raw:+4.0f} us = {100 * (sdk - raw) / 1000 / live[1]:+.2f} % of the live call")
        print(f"Python SDK, streaming `{STREAM_CMD}` over SSE, each the median of {RUNS} runs by delivered MB/s")
        runs = [
            ("curl -N (?encoding=base64)", lambda: stream_curl(client, agent, "base64")),
            ("SDK Client, iterate events", lambda: stream_sdk_iter(agent)),
            ("SDK Client, on_stdout(text)", lambda: stream_sdk_callbacks(agent)),
            ("SDK AsyncClient, async for", lambda: asyncio.run(stream_sdk_async(agent.id))),
        ]
        results = {label: [] for label, _ in runs}
        for _ in range(RUNS):  # interleaved rounds
            for label, run in runs:
                results[label].append(run())
        for label, samples in results.items():
            show_stream(label, *sorted(samples, key=lambda r: r[1] / r[0])[len(samples) // 2])
        wall, cpu = parser_ceiling()
        print(f"  SDK SSE parser alone (synthetic 200 MB, no I/O): {wall:.0f} MB/s wall, {cpu:.0f} MB/s per CPU second")
        agent.delete()


if __name__ == "__main__":
    main()
