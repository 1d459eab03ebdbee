"""The same exec examples with AsyncClient: coroutine callbacks, async iteration, stdin, kill, wait, attach."""
import asyncio
import time

import pytest

pytestmark = pytest.mark.asyncio


async def test_run_uses_cwd_and_env_and_times_out(aagent):
    await aagent.files.write("sub/keep.txt", "x")
    result = await aagent.exec.run("pwd; echo $GREETING; exit 3", cwd="sub", env={"GREETING": "hello"})
    lines = result.stdout.splitlines()
    assert lines[0].endswith("/sub") and lines[1] == "hello" and result.exit_code == 3
    started = time.monotonic()
    late = await aagent.exec.run("echo partial; sleep 30", timeout=1)
    assert late.timed_out and late.exit_code == 124 and late.stdout == "partial\n"
    assert time.monotonic() - started < 15


async def test_start_reacts_to_ready_with_a_coroutine_callback_then_takes_stdin(aagent):
    ready, echoed, chunks = asyncio.Event(), asyncio.Event(), []

    async def on_stdout(text):
        chunks.append(text)
        if "ready" in text:
            ready.set()
        if "got ping" in text:
            echoed.set()

    session = await aagent.exec.start(
        "echo starting; sleep 0.3; echo ready; while read line; do echo got $line; done", on_stdout=on_stdout)
    await asyncio.wait_for(ready.wait(), 15)
    await session.send_stdin(b"ping\n")
    await asyncio.wait_for(echoed.wait(), 15)
    await session.close_stdin()
    exit = await session.wait(15)
    assert exit.exit_code == 0
    assert "".join(chunks) == "starting\nready\ngot ping\n"


async def test_kill_and_wait(aagent):
    exits, up = [], asyncio.Event()
    session = await aagent.exec.start("echo up; sleep 600", on_stdout=lambda text: up.set(), on_exit=exits.append)
    await asyncio.wait_for(up.wait(), 15)  # a signal sent within ~20 ms of the start can be lost (server race)
    await session.kill("SIGTERM")
    exit = await session.wait(15)
    assert exit.signal == "SIGTERM" or exit.exit_code == 128 + 15
    assert exits == [exit]


async def test_async_iteration_and_attach_resume(aagent):
    session = await aagent.exec.start("for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done")
    seen = []
    async for event in session:
        seen.append(event.text)
        if len(seen) == 2:
            break
    resumed = await aagent.exec.attach(session.session_id, after=session.last_event_id)
    rest = [event.text async for event in resumed if event.type == "stdout"]
    assert "".join(seen + rest) == "".join(f"line {i}\n" for i in range(1, 6))
    assert resumed.exit.exit_code == 0
    sessions = await aagent.exec.list()
    assert [s.session_id for s in sessions] == [session.session_id]


async def test_wait_without_callbacks_asks_the_server(aagent):
    session = await aagent.exec.start("sleep 0.3; exit 5", stdin=False)
    assert (await session.wait(15)).exit_code == 5


async def test_close_cancels_the_reader_but_not_the_command(aagent):
    chunks, first = [], asyncio.Event()

    def on_stdout(text):
        chunks.append(text)
        first.set()

    session = await aagent.exec.start("while true; do echo tick; sleep 0.2; done", on_stdout=on_stdout)
    await asyncio.wait_for(first.wait(), 15)
    await session.close()
    count = len(chunks)
    await asyncio.sleep(0.6)
    assert len(chunks) == count and (await session.info()).running
    await session.kill("SIGKILL")
    assert (await session.wait(15)).exit_code is not None
