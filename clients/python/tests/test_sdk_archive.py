"""Workspace archives: a round trip with progress callbacks (file objects and paths, Client and AsyncClient),
and export/import streamed in chunks: the client's memory stays far below the archive's size."""
import io
import tracemalloc

import pytest


def test_round_trip_through_file_objects_reports_progress(client, agent):
    agent.files.write("src/app.py", "print('hi')\n")
    agent.bash("head -c 700000 /dev/urandom > data.bin")
    digest = agent.bash("sha256sum data.bin").stdout.split()[0]
    exported, seen = io.BytesIO(), []
    written = agent.export(exported, format="tar.gz", progress=lambda done, total: seen.append(done))
    assert written == len(exported.getvalue()) > 700000
    assert seen == sorted(seen) and seen[-1] == written

    other = client.agent()
    try:
        exported.seek(0)
        sent = []
        report = other.import_(exported, progress=lambda done, total: sent.append((done, total)))
        assert report.files == 2 and report.mode == "merge"
        assert sent[-1] == (written, written)
        assert other.files.read("src/app.py").content == "print('hi')\n"
        assert other.bash("sha256sum data.bin").stdout.split()[0] == digest
    finally:
        other.delete()


def test_export_and_import_stream_without_holding_the_archive(agent, tmp_path):
    agent.bash("head -c 24M /dev/urandom > big.bin && echo keep > small.txt")
    path = tmp_path / "ws.tar"
    tracemalloc.start()
    try:
        written = agent.export(path, format="tar")
        _, export_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        agent.bash("rm big.bin small.txt")
        report = agent.import_(path, mode="replace")
        _, import_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == path.stat().st_size > 24 << 20
    assert export_peak < 6 << 20 and import_peak < 6 << 20, (export_peak, import_peak)
    assert report.mode == "replace" and report.files == 2
    assert agent.files.read("small.txt").content == "keep\n"
    assert agent.bash("stat -c %s big.bin").stdout.strip() == str(24 << 20)


def test_an_unknown_format_is_refused_before_any_request(agent):
    with pytest.raises(ValueError):
        agent.export(io.BytesIO(), format="rar")


@pytest.mark.asyncio
async def test_async_round_trip_reports_progress(aclient, aagent, tmp_path):
    await aagent.files.write("notes/a.md", "# A\n")
    path = tmp_path / "ws.zip"
    seen = []
    written = await aagent.export(path, format="zip", progress=lambda done, total: seen.append(done))
    assert written == path.stat().st_size and seen[-1] == written
    other = await aclient.agent()
    try:
        sent = []
        report = await other.import_(path, progress=lambda done, total: sent.append(done))
        assert report.files == 1 and sent[-1] == written
        assert (await other.files.read("notes/a.md")).content == "# A\n"
    finally:
        await other.delete()
