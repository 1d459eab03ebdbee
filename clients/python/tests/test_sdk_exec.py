"""The seed SDK's exec examples, translated, with the blocking Client: run with cwd/env/timeout, a dev-server-like
loop whose "ready" line is seen in on_stdout, stdin, kill, wait, list, and re-attach resuming after the last event."""
import threading
import time


def test_run_uses_cwd_and_env_and_reports_a_nonzero_exit_as_a_result(agent):
    agent.files.write("sub/keep.txt", "x")
    result = agent.exec.run("pwd; echo $GREETING; echo oops >&2; exit 3", cwd="sub", env={"GREETING": "hello"})
    lines = result.stdout.splitlines()
    assert lines[0].endswith("/sub") and lines[1] == "hello"
    assert result.stderr == "oops\n"
    assert result.exit_code == 3 and result.ok and not result.success


def test_run_past_its_timeout_is_killed_and_keeps_partial_output(agent):
    started = time.monotonic()
    result = agent.exec.run("echo partial; sleep 30", timeout=1)
    assert time.monotonic() - started < 15
    assert result.timed_out and not result.ok
    assert result.exit_code == 124 and result.stdout == "partial\n"


def test_start_reacts_to_ready_in_on_stdout_then_takes_stdin(agent):
    ready, echoed, chunks, exits = threading.Event(), threading.Event(), [], []

    def on_stdout(text):
        chunks.append(text)
        if "ready" in text:
            ready.set()
        if "got ping" in text:
            echoed.set()

    session = agent.exec.start(
        "echo starting; sleep 0.3; echo ready; while read line; do echo got $line; done; echo stopped",
        on_stdout=on_stdout, on_exit=exits.append)
    assert session.session_id.startswith("sess_")
    assert ready.wait(15), chunks
    session.send_stdin("ping\n")
    assert echoed.wait(15), chunks
    session.close_stdin()
    exit = session.wait(15)
    assert exit.exit_code == 0 and exit.ok
    assert "".join(chunks) == "starting\nready\ngot ping\nstopped\n"
    assert exits == [exit]


def test_kill_ends_a_running_session_and_wait_reports_the_signal(agent):
    stderr, up = [], threading.Event()

    def on_stderr(text):
        stderr.append(text)
        up.set()

    # Kill once the command is up: a signal sent within ~20 ms of the start can be lost (server race).
    session = agent.exec.start("echo up >&2; sleep 600", on_stderr=on_stderr)
    assert up.wait(15) and session.info().running
    session.kill("SIGTERM")
    exit = session.wait(15)
    assert exit.signal == "SIGTERM" or exit.exit_code == 128 + 15
    assert not exit.ok and stderr == ["up\n"]
    assert not session.info().running


def test_wait_without_callbacks_asks_the_server(agent):
    session = agent.exec.start("sleep 0.3; exit 5", stdin=False)
    assert session.wait(15).exit_code == 5


def test_iterating_a_session_yields_exact_bytes_in_order(agent):
    session = agent.exec.start("printf 'a\\r\\nb'; printf '\\377' >&2; echo c")
    events = list(session)
    assert events[-1].type == "exit" and events[-1].exit.exit_code == 0
    stdout = b"".join(e.data for e in events if e.type == "stdout")
    assert stdout == b"a\r\nbc\n"
    assert b"".join(e.data for e in events if e.type == "stderr") == b"\xff"
    ids = [e.id for e in events]
    assert ids == sorted(ids)


def test_attach_resumes_after_the_last_event_seen(agent):
    session = agent.exec.start("for i in 1 2 3 4 5 6; do echo line $i; sleep 0.1; done")
    seen = []
    for event in session:
        seen.append(event.text)
        if len(seen) == 2:
            break
    resumed = agent.exec.attach(session.session_id, after=session.last_event_id)
    rest = [event.text for event in resumed if event.type == "stdout"]
    assert "".join(seen + rest) == "".join(f"line {i}\n" for i in range(1, 7))
    replay = agent.exec.attach(session.session_id)
    assert "".join(e.text for e in replay if e.type == "stdout").count("line") == 6


def test_list_shows_running_and_finished_sessions(agent):
    running = agent.exec.start("sleep 600")
    done = agent.exec.start("true")
    done.wait(15)
    states = {s.session_id: s for s in agent.exec.list()}
    assert states[running.session_id].running
    assert states[done.session_id].state == "exited" and states[done.session_id].exit_code == 0
    running.kill("SIGKILL")
    running.wait(15)


def test_close_stops_the_reader_but_not_the_command(agent):
    chunks, first = [], threading.Event()

    def on_stdout(text):
        chunks.append(text)
        first.set()

    session = agent.exec.start("while true; do echo tick; sleep 0.2; done", on_stdout=on_stdout)
    assert first.wait(15)
    session.close()
    session._thread.join(10)  # the reader ends at its next chunk
    assert not session._thread.is_alive()
    count = len(chunks)
    time.sleep(0.6)
    assert len(chunks) == count and session.info().running
    session.kill("SIGKILL")
    assert session.wait(15).exit_code is not None
