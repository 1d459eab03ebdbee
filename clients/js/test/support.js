// Shared by the tests (not a test itself): the live server that scripts/test-clients started, and a way to
// start a private one with special flags.
import { spawn } from 'node:child_process';
import { mkdtempSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentSandbox } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const schemas = join(here, '..', '..', '..', 'schemas');

/** The server under test (AGENT_SANDBOX_URL / AGENT_SANDBOX_API_KEY, exported by scripts/test-clients). */
export function connect(options = {}) {
  if (!process.env.AGENT_SANDBOX_URL || !process.env.AGENT_SANDBOX_API_KEY) {
    throw new Error('Set AGENT_SANDBOX_URL and AGENT_SANDBOX_API_KEY (scripts/test-clients does) to run these tests.');
  }
  return AgentSandbox.connect(options);
}

/** A text decoder per stream, collecting what a session printed. */
export function collector() {
  const decoder = new TextDecoder();
  const box = { text: '', onBytes: (bytes) => { box.text += decoder.decode(bytes, { stream: true }); } };
  return box;
}

/** Resolves when `predicate()` holds (polled), rejects after `ms`. */
export async function eventually(predicate, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts a private `agent-sandbox serve` (from AGENT_SANDBOX_BIN) with extra flags, on a free port and its own
 * data root and uid range. Returns `{url, apiKey, stop()}`.
 * @param {string[]} flags
 * @param {number} uidBase
 */
export async function startServer(flags, uidBase) {
  const bin = process.env.AGENT_SANDBOX_BIN;
  if (!bin) throw new Error('AGENT_SANDBOX_BIN (the directory of agent-sandbox) is needed to start a private server.');
  const root = mkdtempSync(join(tmpdir(), 'agent-sandbox-js-'));
  chmodSync(root, 0o711);
  const apiKey = `js-private-${Math.random().toString(36).slice(2)}`;
  const args = ['serve', '--port', '0', '--data', join(root, 'data'), '--uid-base', String(uidBase), '--uid-count', '50', ...flags];
  if (existsSync(join(schemas, 'tools'))) args.push('--schemas', schemas);
  const child = spawn(join(bin, 'agent-sandbox'), args, { env: { ...process.env, AGENT_SANDBOX_API_KEY: apiKey }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`private server did not start:\n${log}`)), 30000);
    const onData = (chunk) => {
      log += chunk;
      const match = /agent-sandbox listening on (http:\/\/\S+)/.exec(log);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`private server exited (${code}):\n${log}`)); });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  };
  return { url, apiKey, stop };
}
