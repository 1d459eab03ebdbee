// Drives the web terminal in a real headless Chromium over the DevTools protocol (no npm packages: node's
// built-in WebSocket, Chromium from Debian). Usage: node --experimental-websocket terminal_browser.mjs
// CHROMIUM PAGE_URL. Prints one JSON line of findings; exits non-zero on a failed step.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [chromium, pageURL] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "terminal-browser-"));
const browser = spawn(chromium, ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
  `--user-data-dir=${profile}`, "--remote-debugging-port=0", "--window-size=1000,700", "about:blank"], { stdio: ["ignore", "ignore", "pipe"] });
const cleanup = () => { try { browser.kill("SIGKILL"); } catch {} try { rmSync(profile, { recursive: true, force: true }); } catch {} };
process.on("exit", cleanup);
const fail = (message) => { console.error(message); cleanup(); process.exit(1); };
setTimeout(() => fail("timed out"), 120_000).unref();

const endpoint = await new Promise((resolve, reject) => {
  let text = "";
  browser.stderr.on("data", (chunk) => {
    text += chunk;
    const match = text.match(/DevTools listening on (ws:\/\/\S+)/);
    if (match) resolve(match[1]);
  });
  browser.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${text}`)));
}).catch((error) => fail(String(error)));

const socket = new WebSocket(endpoint);
await new Promise((resolve) => socket.addEventListener("open", resolve));
let nextID = 1;
const pending = new Map();
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (message.id && pending.has(message.id)) {
    const { resolve, reject } = pending.get(message.id);
    pending.delete(message.id);
    message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result);
  }
});
const call = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
  const id = nextID++;
  pending.set(id, { resolve, reject });
  socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
});

const { targetId } = await call("Target.createTarget", { url: "about:blank" });
const { sessionId } = await call("Target.attachToTarget", { targetId, flatten: true });
const page = (method, params) => call(method, params, sessionId);
await page("Page.enable");
await page("Emulation.setDeviceMetricsOverride", { width: 1000, height: 700, deviceScaleFactor: 1, mobile: false });
await page("Page.navigate", { url: pageURL });
const evaluate = async (expression) => (await page("Runtime.evaluate", { expression, returnByValue: true })).result.value;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = async (what, expression, seconds = 40) => {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await evaluate(expression).catch(() => undefined);
    if (value) return value;
    await sleep(100);
  }
  fail(`never saw: ${what}; screen:\n${await evaluate(screenText).catch(() => "?")}`);
};
const screenText = `(() => { const b = window.term._core.buffer; const rows = [];
  for (let y = 0; y < b.lines.length; y++) rows.push(b.translateBufferLineToString(y, true)); return rows.join("\\n"); })()`;
const type = async (text) => {
  for (const ch of text) {
    if (ch === "\r") {
      await page("Input.dispatchKeyEvent", { type: "keyDown", key: "Enter", code: "Enter", windowsVirtualKeyCode: 13, text: "\r" });
      await page("Input.dispatchKeyEvent", { type: "keyUp", key: "Enter", code: "Enter", windowsVirtualKeyCode: 13 });
    } else {
      await page("Input.dispatchKeyEvent", { type: "keyDown", key: ch, text: ch });
      await page("Input.dispatchKeyEvent", { type: "keyUp", key: ch });
    }
  }
};

await waitFor("the page connected", `window.terminalState && window.terminalState.session`);
const findings = {};
findings.fragmentRemoved = await evaluate("location.hash === ''");
await evaluate("window.term.focus(), true");
await type("echo hi\r");
await waitFor("hi on its own line", `${screenText}.split("\\n").some((line) => line.trim() === "hi")`);
findings.echoHi = true;

await type("printf '\\033[31mred\\033[0m\\n'\r");
// The output line "red" (not the command line): its first cell's foreground is palette colour 1 (red).
findings.redForeground = await waitFor("a red cell", `(() => { const b = window.term._core.buffer;
  for (let y = 0; y < b.lines.length; y++) {
    if (b.translateBufferLineToString(y, true) !== "red") continue;
    const attr = b.lines.get(y).get(0)[0]; return ((attr >> 9) & 0x1ff) === 1 ? "red" : "fg=" + ((attr >> 9) & 0x1ff);
  } return false; })()`);

const sizeLine = async (marker) => {
  await type(`echo ${marker} $(stty size)\r`);
  return waitFor(`${marker} size`, `(() => { const line = ${screenText}.split("\\n").find((l) => l.startsWith("${marker} ")); return line ? line.slice(${marker.length + 1}).trim() : false; })()`);
};
findings.pageSize = await evaluate("window.term.rows + ' ' + window.term.cols");
findings.sttyBefore = await sizeLine("size1");
const colsBefore = await evaluate("window.term.cols");
await page("Emulation.setDeviceMetricsOverride", { width: 640, height: 400, deviceScaleFactor: 1, mobile: false });
await waitFor("the terminal refit", `window.term.cols !== ${colsBefore}`);
findings.pageSizeAfter = await evaluate("window.term.rows + ' ' + window.term.cols");
await sleep(300);
findings.sttyAfter = await sizeLine("size2");

// A dropped connection: the page offers Reconnect and re-attaches to the same session (buffered output replayed).
const sessionBefore = await evaluate("window.terminalState.session");
await evaluate("window.terminalState.socket.close(), true");
await waitFor("the Reconnect button", `!document.getElementById("reconnect").hidden`);
await evaluate("window.terminalReconnect(), true");
await waitFor("the re-attached session", `window.terminalState.socket.readyState === 1 && window.terminalState.reconnectToken && ${screenText}.includes("size2 ")`);
findings.reattachedSameSession = (await evaluate("window.terminalState.session")) === sessionBefore;
await evaluate("window.term.focus(), true");
await type("exit 3\r");
findings.exitShown = await waitFor("the exit status", `window.terminalState.exited && document.getElementById("status").textContent.startsWith("exited") && document.getElementById("status").textContent`);
findings.exitCode = await evaluate("window.terminalState.exitCode");
console.log(JSON.stringify(findings));
cleanup();
process.exit(0);
