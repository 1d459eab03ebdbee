"""The web terminal in a real browser: headless Chromium (Debian's `chromium`, installed by scripts/setup)
loads /terminal#token=…&agent=…, driven over the DevTools protocol by Tests/clients/terminal_browser.mjs
(node's built-in WebSocket; no npm packages). Types `echo hi` and reads `hi` from the xterm buffer, checks
a red cell after `printf '\\033[31mred'`, resizes the window and checks `stty size`, drops the connection and
re-attaches with Reconnect, and sees the exit."""
import json
import os
import pathlib
import shutil
import subprocess
import uuid

import httpx
import pytest

HERE = pathlib.Path(__file__).parent


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_web_terminal_in_headless_chromium():
    base = os.environ["AGENT_SANDBOX_URL"]
    key = os.environ["AGENT_SANDBOX_API_KEY"]
    chromium = _chromium()
    if chromium is None:
        pytest.skip("SKIPPED: chromium is not installed (scripts/setup installs it unless AGENT_SANDBOX_NO_BROWSER=1); the web terminal was NOT tested in a browser")
    if shutil.which("node") is None:
        pytest.skip("SKIPPED: node is not installed; the web terminal was NOT tested in a browser")
    assets = httpx.get(f"{base}/terminal/xterm.js")
    assert assets.status_code == 200, "xterm.js is served (scripts/setup-terminal vendors it)"
    agent = str(uuid.uuid4())
    minted = httpx.post(f"{base}/v1/agents/{agent}/exec-token", headers={"x-api-key": key}, json={"tty": True})
    assert minted.status_code == 200, minted.text
    page = minted.json()["terminal_url"]
    assert page.startswith(base) and "#token=" in page
    run = subprocess.run(["node", "--experimental-websocket", str(HERE / "terminal_browser.mjs"), chromium, page],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"browser driver failed:\n{run.stderr}\n{run.stdout}"
    findings = json.loads(run.stdout.strip().splitlines()[-1])
    assert findings["fragmentRemoved"], "the page drops the token from the address bar"
    assert findings["echoHi"]
    assert findings["redForeground"] == "red", findings
    assert findings["sttyBefore"] == findings["pageSize"], findings
    assert findings["sttyAfter"] == findings["pageSizeAfter"] != findings["pageSize"], findings
    assert findings["reattachedSameSession"], "Reconnect re-attaches to the same session"
    assert findings["exitCode"] == 3 and "exited with code 3" in findings["exitShown"], findings
