import { AgentSandboxError } from './errors.js';
import { base64DecodeBytes, base64Encode, utf8Decode } from './bytes.js';
import { dataText, readSSE } from './sse.js';

const RECONNECTS = 5;

/**
 * A running (or finished) exec session, streamed over SSE (`GET .../exec/{id}/stream?encoding=base64`, so
 * callbacks get the exact bytes). The stream resumes after the last event seen (`Last-Event-ID`) when the
 * connection drops, up to 5 times in a row.
 *
 * `done` resolves with `{exitCode, signal, timedOut}` when the exit event arrives; it rejects if the session
 * cannot be followed (gone, agent suspended or deleted) or after `close()`.
 */
export class ExecSession {
  /**
   * @param {import('./transport.js').Transport} transport
   * @param {string} agentId
   * @param {string} sessionId
   * @param {import('../types/index.js').ExecCallbacks & {after?: number}} callbacks
   * @param {(id: number) => void} [remember] records the last event id seen (for `exec.attach`)
   */
  constructor(transport, agentId, sessionId, callbacks = {}, remember = () => {}) {
    this.transport = transport;
    this.agentId = agentId;
    /** The server's session id (`sess_…`). */
    this.sessionId = sessionId;
    /** Id of the last event received; a new attach resumes after it. */
    this.lastEventId = callbacks.after ?? 0;
    /** The exit, once known. @type {import('../types/index.js').ExecExit | null} */
    this.exit = null;
    /** Process id of the command (set by `exec.start`). @type {number | undefined} */
    this.pid = undefined;
    this.callbacks = callbacks;
    this.remember = remember;
    this.path = `/v1/agents/${agentId}/exec/${encodeURIComponent(sessionId)}`;
    this.controller = new AbortController();
    this.closed = false;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {}); // a caller who never awaits `done` gets no unhandled rejection
    this.pump();
  }

  /** Follows the stream until the exit event, reconnecting after drops. */
  async pump() {
    let failures = 0;
    while (!this.closed && !this.exit) {
      try {
        const response = await this.transport.request('GET', this.path + '/stream', {
          query: { encoding: 'base64' }, signal: this.controller.signal, retry: false,
          headers: this.lastEventId ? { 'last-event-id': String(this.lastEventId) } : {},
        });
        const before = this.lastEventId;
        await readSSE(response.body, (event) => this.dispatch(event));
        if (this.exit) return;
        if (this.lastEventId !== before) failures = 0;
        // The stream ended without an exit event: the server says whether the session is still running.
        const state = await this.transport.json('GET', this.path, { signal: this.controller.signal });
        if (!state.running && !this.exit) {
          return this.finish({ exitCode: state.exit_code ?? null, signal: state.signal ?? null, timedOut: !!state.timed_out });
        }
      } catch (error) {
        if (this.closed) return;
        if (error instanceof AgentSandboxError && error.status !== 0) return this.fail(error);
        if (error?.callbackError) return this.fail(error.callbackError);
        if (++failures > RECONNECTS) return this.fail(error);
        await new Promise((resolve) => setTimeout(resolve, 100 * failures));
      }
    }
  }

  /** @param {{id: string|null, event: string, data: Uint8Array[]}} event */
  dispatch(event) {
    if (event.id !== null) {
      const id = Number(event.id);
      if (id <= this.lastEventId) return; // already delivered before a reconnect
      this.lastEventId = id;
      this.remember(id);
    }
    try {
      switch (event.event) {
        case 'stdout':
        case 'stderr': {
          const handler = event.event === 'stdout' ? this.callbacks.onStdout : this.callbacks.onStderr;
          if (handler) handler(base64DecodeBytes(event.data.length === 1 ? event.data[0] : concatAscii(event.data)));
          break;
        }
        case 'dropped': {
          const info = JSON.parse(dataText(event.data));
          this.callbacks.onDropped?.({ stream: info.stream, droppedBytes: info.dropped_bytes });
          break;
        }
        case 'exit': {
          const info = JSON.parse(dataText(event.data));
          this.finish({ exitCode: info.exit_code ?? null, signal: info.signal ?? null, timedOut: !!info.timed_out });
          break;
        }
      }
    } catch (error) {
      this.controller.abort();
      throw Object.assign(new Error('callback failed'), { callbackError: error });
    }
  }

  /** @param {import('../types/index.js').ExecExit} exit */
  finish(exit) {
    if (this.exit) return;
    this.exit = exit;
    this.callbacks.onExit?.(exit);
    this.resolveDone(exit);
  }

  /** @param {unknown} error */
  fail(error) {
    this.closed = true;
    this.rejectDone(error);
  }

  /**
   * Writes to the command's stdin (needs a session started by `exec.start`, which keeps stdin open).
   * @param {string|Uint8Array} data text (sent as UTF-8) or bytes
   * @param {{eof?: boolean}} [options] `eof: true` closes stdin after the data
   * @returns {Promise<{bytes: number, stdinOpen: boolean}>}
   */
  async sendStdin(data, { eof = false } = {}) {
    const json = typeof data === 'string' ? { data, eof } : { data: base64Encode(data), encoding: 'base64', eof };
    const reply = await this.transport.json('POST', this.path + '/stdin', { json });
    return { bytes: reply.bytes, stdinOpen: reply.stdin_open };
  }

  /** Closes stdin (the command sees end of file). */
  closeStdin() {
    return this.sendStdin('', { eof: true });
  }

  /**
   * Sends a signal to every process of the session.
   * @param {string|number} [signal] `"SIGTERM"` (default), `"SIGKILL"`, `"SIGINT"`, … or a number
   * @returns {Promise<object>} the session's state
   */
  async kill(signal = 'SIGTERM') {
    return this.transport.json('POST', this.path + '/kill', { json: { signal } });
  }

  /**
   * Waits for the exit, at most `timeoutMs` (rejects with `errorCode: "WAIT_TIMEOUT"` past it).
   * @param {number} [timeoutMs]
   * @returns {Promise<import('../types/index.js').ExecExit>}
   */
  wait(timeoutMs) {
    if (timeoutMs === undefined) return this.done;
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new AgentSandboxError(`Session ${this.sessionId} did not exit within ${timeoutMs} ms.`, { errorCode: 'WAIT_TIMEOUT' })), timeoutMs);
    });
    return Promise.race([this.done, timeout]).finally(() => clearTimeout(timer));
  }

  /** The session's state from the server (`running`, `exit_code`, byte counters, …). */
  info() {
    return this.transport.json('GET', this.path);
  }

  /**
   * Stops following the output. The command keeps running on the server; `exec.attach(sessionId)` resumes
   * after the last event seen. `done` rejects with `errorCode: "DETACHED"` if the exit was not seen yet.
   */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    if (!this.exit) this.rejectDone(new AgentSandboxError(`Detached from session ${this.sessionId} before it exited.`, { errorCode: 'DETACHED' }));
  }
}

/** Joins the data lines of one base64 event. @param {Uint8Array[]} lines */
function concatAscii(lines) {
  return new TextEncoder().encode(lines.map(utf8Decode).join(''));
}
