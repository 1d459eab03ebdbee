import { errorFromEnvelope } from './errors.js';
import { Exec } from './exec.js';
import { Files } from './files.js';
import { Archives } from './archive.js';
import { snakeFields, toResult } from './results.js';

/**
 * One agent: a UUID with its own workspace and uid. Get one with `sandbox.agent(id?)`.
 *
 * Tools answer with the envelope as a camelCase result (`ok`, `stdout`, `exitCode`, `content`, `matches`,
 * `url`, `error`, `errorCode`, …). Request-level failures (401, 404, 409 suspended, 410 deleted, 413, 429)
 * throw `AgentSandboxError`.
 */
export class Agent {
  /**
   * @param {import('./transport.js').Transport} transport
   * @param {string} id
   * @param {{throwOnToolError?: boolean}} [options]
   */
  constructor(transport, id, { throwOnToolError = true } = {}) {
    this.transport = transport;
    /** The agent's UUID (lower-case). */
    this.id = id.toLowerCase();
    this.throwOnToolError = throwOnToolError;
    this.path = `/v1/agents/${this.id}`;
    /** Commands: `run`, `start`, `attach`, `list`, `get`. */
    this.exec = new Exec(transport, this.id);
    /** File tools: `read`, `write`, `append`, `edit`, `multiEdit`. */
    this.files = new Files(this);
    this.archives = new Archives(transport, this.id);
    /** The record answered by `sandbox.agent()` (uid, state, …); null for `sandbox.attach(id)`. */
    this.record = null;
  }

  /**
   * Calls one tool by name with its wire fields (snake_case), answering with the camelCase result.
   * A tool-level failure is returned with `ok: false` (never thrown here).
   * @param {string} name `bash`, `file_read`, `file_write`, `file_edit`, `multi_edit`, `glob`, `grep`, `file_share`
   * @param {Record<string, unknown>} input
   * @param {{signal?: AbortSignal}} [options]
   */
  async tool(name, input, { signal } = {}) {
    return toResult(await this.envelope(name, input, signal));
  }

  /** The raw envelope of one tool call. */
  envelope(name, input, signal) {
    return this.transport.json('POST', `${this.path}/sandbox/${name}`, { json: input, signal });
  }

  /** A file-style tool: camelCase options in, a thrown `AgentSandboxError` on tool failure (unless configured off). */
  async fileTool(name, options) {
    const envelope = await this.envelope(name, snakeFields(options));
    if (envelope.status === 'error' && this.throwOnToolError) throw errorFromEnvelope(envelope);
    return toResult(envelope);
  }

  /**
   * Runs a command with the `bash` tool. A non-zero exit is `ok: true` with its `exitCode`; a timeout is
   * `ok: false`, `errorCode: "TIMEOUT"`, `exitCode: 124` (partial output kept). Never throws for those.
   * @param {string} command
   * @param {{timeout?: number, cwd?: string, env?: Record<string,string>, stdin?: string}} [options] timeout in s (default 300)
   */
  bash(command, { timeout, cwd, env, stdin } = {}) {
    return this.tool('bash', { command, timeout, working_dir: cwd, env, stdin });
  }

  /**
   * Finds files by glob pattern (`**`, `{a,b}`, …), newest first.
   * @param {string} pattern
   * @param {{rootDir?: string, maxResults?: number}} [options]
   * @returns {Promise<import('../types/index.js').ToolResult>} `matches` (paths), `totalFound`, `truncated`
   */
  glob(pattern, options = {}) {
    return this.fileTool('glob', { pattern, ...options });
  }

  /**
   * Searches file contents with ripgrep.
   * @param {string} pattern a Rust regex
   * @param {{path?: string, include?: string, contextLines?: number, outputMode?: 'content'|'files_with_matches'|'count',
   *          caseInsensitive?: boolean, maxResults?: number, multiline?: boolean}} [options]
   * @returns {Promise<import('../types/index.js').ToolResult>} `matches` ([{file, line, content, context}]), `totalMatches`
   */
  grep(pattern, options = {}) {
    return this.fileTool('grep', { pattern, ...options });
  }

  /**
   * Publishes a snapshot of a file behind an unguessable URL (downloadable without a key).
   * @param {string} path
   * @param {{expiresIn?: number}} [options] seconds (default 7 days, max 30)
   * @returns {Promise<import('../types/index.js').ToolResult>} `url`, `token`, `expiresAt`
   */
  share(path, options = {}) {
    return this.fileTool('file_share', { path, ...options });
  }

  /** The agent's shares. @returns {Promise<object[]>} */
  async shares() {
    return (await this.transport.json('GET', `${this.path}/shares`)).shares;
  }

  /** Revokes one share. @param {string} token */
  revokeShare(token) {
    return this.transport.json('DELETE', `${this.path}/shares/${encodeURIComponent(token)}`);
  }

  /** The agent's record: `uid`, `state`, `disk_usage_bytes`, `created_at`, `last_used_at`, limits. */
  info() {
    return this.transport.json('GET', this.path);
  }

  /** Freezes every process of the agent; its calls get 409 `AGENT_SUSPENDED` until `resume()`. */
  suspend() {
    return this.transport.json('POST', `${this.path}/suspend`);
  }

  /** Thaws a suspended agent. */
  resume() {
    return this.transport.json('POST', `${this.path}/resume`);
  }

  /** Deletes the agent: kills its processes, removes its workspace and shares, frees its uid (later calls: 410). */
  delete() {
    return this.transport.json('DELETE', this.path);
  }

  /**
   * Exports the workspace as an archive, streamed. `agent.export()` resolves with a
   * `ReadableStream<Uint8Array>`; `agent.export("ws.tar.gz")` (Node) writes the file and resolves with `{path, bytes}`.
   * @param {string|object} [pathOrOptions]
   * @param {{format?: string, onProgress?: (p: {bytes: number, total: number|null}) => void, signal?: AbortSignal}} [options]
   */
  export(pathOrOptions, options) {
    if (typeof pathOrOptions === 'string') return this.archives.export(pathOrOptions, options);
    return this.archives.export(undefined, pathOrOptions ?? options);
  }

  /**
   * Imports an archive into the workspace, streamed (`mode`: `merge` default, or `replace`).
   * @param {string|ReadableStream<Uint8Array>|AsyncIterable<Uint8Array>|Uint8Array|ArrayBuffer|Blob} source a file path in Node
   * @param {{mode?: 'merge'|'replace', onProgress?: (p: {bytes: number, total: number|null}) => void, total?: number, signal?: AbortSignal}} [options]
   */
  import(source, options) {
    return this.archives.import(source, options);
  }
}
