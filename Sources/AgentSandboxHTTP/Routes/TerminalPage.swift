/// The web terminal (`GET /terminal#token=…&agent=…`): xterm.js from this server (`/terminal/xterm.js`),
/// connected to `GET /v1/agents/{agent}/terminal` with the token from the URL fragment — a fragment never
/// reaches a server or its logs, and the page removes it from the address bar at once. The token travels
/// in `Sec-WebSocket-Protocol`, not in the URL. The terminal fits the window (resize messages follow it),
/// shows the exit status, and re-attaches after a dropped connection with the session's reconnect token.
enum TerminalPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>AgentSandbox terminal</title>
          <link rel="stylesheet" href="/terminal/xterm.css">
          <style>
            html, body { height: 100%; margin: 0; background: #111; color: #ddd; font: 13px sans-serif; }
            #bar { height: 26px; line-height: 26px; padding: 0 8px; background: #222; }
            #bar button { margin-left: 8px; }
            #term { position: absolute; top: 26px; bottom: 0; left: 0; right: 0; padding: 2px; }
          </style>
        </head>
        <body>
          <div id="bar"><span id="status">connecting…</span><button id="reconnect" hidden>Reconnect</button></div>
          <div id="term"></div>
          <script src="/terminal/xterm.js"></script>
          <script>
          (function () {
            "use strict";
            const statusLine = document.getElementById("status");
            const reconnectButton = document.getElementById("reconnect");
            const params = new URLSearchParams(location.hash.slice(1));
            const agent = params.get("agent") || "";
            let token = params.get("token") || "";
            history.replaceState(null, "", location.pathname);
            const state = { socket: null, session: null, reconnectToken: null, exited: false, exitCode: null };
            window.terminalState = state;
            if (typeof Terminal === "undefined") {
              statusLine.textContent = "xterm.js is not installed on this server: run scripts/setup there.";
              return;
            }
            Terminal.applyAddon(window.xtermFit);
            const term = new Terminal({ cursorBlink: true, scrollback: 5000 });
            window.term = term;
            term.open(document.getElementById("term"));
            term.fit();
            term.focus();
            const encoder = new TextEncoder();
            let decoder = new TextDecoder();
            const show = (text) => { statusLine.textContent = text; };
            const send = (data) => { if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(data); };
            const sendSize = () => send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
            term.on("data", (data) => send(encoder.encode(data)));
            term.on("resize", sendSize);
            window.addEventListener("resize", () => term.fit());

            function explain(usedToken) {
              fetch(`/v1/agents/${encodeURIComponent(agent)}/terminal?token=${encodeURIComponent(usedToken)}`)
                .then((reply) => reply.json()).then((body) => show(`Not connected: ${body.error || "refused"}`))
                .catch(() => show("Not connected."));
            }

            function connect(useToken) {
              if (!agent || !useToken) { show("Open this page with #token=…&agent=… (agent-sandbox terminal AGENT prints one)."); return; }
              const scheme = location.protocol === "https:" ? "wss:" : "ws:";
              const query = state.session ? `?session_id=${encodeURIComponent(state.session)}` : "";
              const socket = new WebSocket(`${scheme}//${location.host}/v1/agents/${encodeURIComponent(agent)}/terminal${query}`,
                ["agent-sandbox.terminal", "token." + useToken]);
              socket.binaryType = "arraybuffer";
              state.socket = socket;
              reconnectButton.hidden = true;
              decoder = new TextDecoder();
              let opened = false;
              socket.onopen = () => { opened = true; show("connected"); sendSize(); };
              socket.onmessage = (event) => {
                if (typeof event.data !== "string") { term.write(decoder.decode(new Uint8Array(event.data), { stream: true })); return; }
                const message = JSON.parse(event.data);
                if (message.type === "session") {
                  if (state.session) term.reset();  // a re-attach replays the buffered output
                  state.session = message.session_id;
                  state.reconnectToken = message.reconnect_token;
                  show(`connected: session ${message.session_id}`);
                } else if (message.type === "exit") {
                  state.exited = true;
                  state.exitCode = message.exit_code;
                  show(`exited with code ${state.exitCode}. Mint a new link to start another shell.`);
                } else if (message.type === "dropped") {
                  term.write(`\r\n\x1b[2m[… ${message.dropped_bytes} bytes of output dropped: this page read too slowly …]\x1b[0m\r\n`);
                } else if (message.type === "error") {
                  show(`error: ${message.error}`);
                }
              };
              socket.onclose = (event) => {
                if (event.code >= 4000 && event.code < 4256) {
                  state.exited = true;
                  state.exitCode = event.code - 4000;
                }
                if (state.exited) {
                  term.write(`\r\n[process exited with code ${state.exitCode}]\r\n`);
                  show(`exited with code ${state.exitCode}. Mint a new link to start another shell.`);
                } else if (!opened && !state.session) {
                  explain(useToken);
                } else if (state.reconnectToken) {
                  show("disconnected.");
                  reconnectButton.hidden = false;
                } else {
                  show("disconnected.");
                }
              };
            }
            reconnectButton.addEventListener("click", () => {
              const next = state.reconnectToken;
              state.reconnectToken = null;
              connect(next);
            });
            window.terminalReconnect = () => reconnectButton.click();
            connect(token);
            token = "";
          })();
          </script>
        </body>
        </html>

        """#
}
