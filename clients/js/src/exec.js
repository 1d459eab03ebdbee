import { errorFromEnvelope } from './errors.js';
import { ExecSession } from './session.js';

/** Above this many seconds `exec.run` streams instead of waiting for one JSON answer: Node's `fetch` stops
 * waiting for response headers after 300 s. */
const LONGEST_SINGLE_REQUEST = 280;

/**
 * Commands of one agent (`agent.exec`): run to completion, start in the background and stream, list and
 * re-attach. Commands run as the agent's uid in its workspace (the default cwd).
 */
export class Exec {
  /**
   * @param {import('./transport.js').Transport} transport
   * @param {string} agentId
   */
  constructor(transport, agentId) {
    this.transport = transport;
    this.agentId = agentId;
    this.path = `/v1/agents/${agentId}/exec`;
    /** Last event id seen per session id: `attach` resumes after it. @type {Map<string, number>} */
    this.seen = new Map();
  }

  /**
   * Runs a command to completion. A non-zero exit is a normal result; a timeout too (`timedOut: true`,
   * `exitCode` 124, partial output kept). Output per stream is capped by the server (head and tail kept).
   * @param {string} command a `bash -c` command line
   * @param {{cwd?: string, env?: Record<string,string>, timeout?: number, stdin?: string, signal?: AbortSignal}} [options]
   *   `timeout` in seconds (server default 300)
   * @returns {Promise<import('../types/index.js').ExecResult>}
   */
  async run(command, { cwd, env, timeout, stdin, signal } = {}) {
    if (timeout !== undefined && timeout > LONGEST_SINGLE_REQUEST) return this.runStreamed(command, { cwd, env, timeout, stdin });
    const response = await this.transport.request('POST', this.path, { json: { command, cwd, env, timeout, stdin }, signal });
    const envelope = await response.json();
    if (envelope.status === 'error' && envelope.error_code !== 'TIMEOUT') throw errorFromEnvelope(envelope);
    return {
      exitCode: envelope.exit_code,
      stdout: envelope.stdout ?? '',
      stderr: envelope.stderr ?? '',
      success: envelope.success ?? envelope.exit_code === 0,
      timedOut: envelope.error_code === 'TIMEOUT',
      truncated: !!envelope.truncated,
      durationMs: envelope.duration_ms ?? null,
    };
  }

  /** `run` for long timeouts: a background session followed to its exit (the stream keeps the connection alive). */
  async runStreamed(command, { cwd, env, timeout, stdin }) {
    const out = new TextDecoder(), err = new TextDecoder();
    let stdout = '', stderr = '';
    const started = Date.now();
    const session = await this.start(command, {
      cwd, env, timeout, stdin,
      onStdout: (bytes) => { stdout += out.decode(bytes, { stream: true }); },
      onStderr: (bytes) => { stderr += err.decode(bytes, { stream: true }); },
    });
    const exit = await session.done;
    stdout += out.decode();
    stderr += err.decode();
    return {
      exitCode: exit.timedOut ? 124 : exit.exitCode, stdout, stderr,
      success: exit.exitCode === 0 && !exit.timedOut, timedOut: exit.timedOut, truncated: false, durationMs: Date.now() - started,
    };
  }

  /**
   * Starts a command in the background and streams its output to the callbacks as it is produced.
   * Stdin stays open for `session.sendStdin()` until `eof: true` (or `closeStdin()`).
   * @param {string} command
   * @param {{cwd?: string, env?: Record<string,string>, timeout?: number, stdin?: string} & import('../types/index.js').ExecCallbacks} [options]
   *   `timeout` in seconds (default none: the session lives until it exits, is killed, or its agent is suspended)
   * @returns {Promise<ExecSession>}
   */
  async start(command, { cwd, env, timeout, stdin, ...callbacks } = {}) {
    const state = await this.transport.json('POST', this.path, {
      json: { command, cwd, env, timeout, stdin, background: true, keep_stdin_open: true },
    });
    const session = this.follow(state.session_id, callbacks);
    session.pid = state.pid;
    return session;
  }

  /**
   * Re-attaches to a session (this process's or another's): replays the buffered output after `after`
   * (default: the last event this client saw of that session, else the start), then live output.
   * @param {string} sessionId
   * @param {import('../types/index.js').ExecCallbacks & {after?: number}} [callbacks]
   * @returns {ExecSession}
   */
  attach(sessionId, callbacks = {}) {
    return this.follow(sessionId, { ...callbacks, after: callbacks.after ?? this.seen.get(sessionId) ?? 0 });
  }

  /** @param {string} sessionId @param {object} callbacks */
  follow(sessionId, callbacks) {
    return new ExecSession(this.transport, this.agentId, sessionId, callbacks, (id) => this.seen.set(sessionId, id));
  }

  /**
   * The agent's sessions: running, finished (kept a while) and `lost` (running when the server restarted).
   * @returns {Promise<object[]>} server fields: `session_id`, `command`, `state`, `running`, `exit_code`, …
   */
  async list() {
    return (await this.transport.json('GET', this.path)).sessions;
  }

  /**
   * One session's state.
   * @param {string} sessionId
   */
  get(sessionId) {
    return this.transport.json('GET', `${this.path}/${encodeURIComponent(sessionId)}`);
  }
}
