// Type declarations for the AgentSandbox JavaScript SDK (hand-written; the code is plain ESM in ../src).

/** Options of `AgentSandbox.connect`. */
export interface ConnectOptions {
  /** Server base URL; in Node defaults to `AGENT_SANDBOX_URL`. In a browser a page-relative path works (a proxy). */
  url?: string;
  /** API key (`x-api-key`); in Node defaults to `AGENT_SANDBOX_API_KEY`. `null`: send none (a proxy adds it). */
  apiKey?: string | null;
  /** Extra headers sent on every request. */
  headers?: Record<string, string>;
  /** A replacement for the global `fetch`. */
  fetch?: typeof fetch;
  /** File tools throw on a tool-level failure (default) or answer with `ok: false`. */
  throwOnToolError?: boolean;
}

/** Per-agent resource overrides (`POST /v1/agents`). */
export interface AgentLimits {
  pids_max?: number;
  memory_bytes?: number;
  cpu_weight?: number;
  max_concurrent_calls?: number;
}

/** Thrown for every failed call: request-level (HTTP status ≥ 400), tool-level (status 200) or unreachable (0). */
export class AgentSandboxError extends Error {
  constructor(message: string, details?: { errorCode?: string; status?: number; body?: unknown; cause?: unknown });
  /** The server's stable `error_code`, e.g. `AGENT_SUSPENDED`, `FILE_NOT_FOUND`, `CONNECTION_FAILED`. */
  errorCode: string;
  /** HTTP status; 200 for a tool-level failure; 0 when no answer arrived. */
  status: number;
  /** The parsed response body (the envelope), when there was one. */
  body: any;
  /** True for a tool-level failure (HTTP 200, `status: "error"`). */
  readonly toolLevel: boolean;
}

/** A tool's envelope with camelCase keys, plus `ok`. Additive server keys come through too. */
export interface ToolResult {
  ok: boolean;
  status: 'ok' | 'error';
  stdout: string | null;
  stderr: string | null;
  exitCode: number | null;
  content: string | null;
  path: string | null;
  matches: any[] | null;
  url: string | null;
  error: string | null;
  errorCode?: string;
  truncated?: boolean;
  totalFound?: number;
  totalMatches?: number;
  totalLines?: number;
  replacementsMade?: number;
  expiresAt?: string;
  durationMs?: number;
  token?: string;
  [key: string]: unknown;
}

/** The result of `exec.run`. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Exit code 0 and no timeout. */
  success: boolean;
  /** The command was killed at its timeout (`exitCode` 124, partial output kept). */
  timedOut: boolean;
  /** The server cut an output stream (head and tail kept). */
  truncated: boolean;
  durationMs: number | null;
}

/** How a session ended. */
export interface ExecExit {
  exitCode: number | null;
  /** Signal name (`"SIGTERM"`, …) when a signal ended it. */
  signal: string | null;
  timedOut: boolean;
}

/** Output callbacks of `exec.start` / `exec.attach`. */
export interface ExecCallbacks {
  onStdout?: (bytes: Uint8Array) => void;
  onStderr?: (bytes: Uint8Array) => void;
  onExit?: (exit: ExecExit) => void;
  /** A slow reader missed output that left the server's ring buffer. */
  onDropped?: (info: { stream: 'stdout' | 'stderr'; droppedBytes: number }) => void;
}

export interface ExecOptions {
  /** Working directory, relative to the workspace (default: the workspace). */
  cwd?: string;
  env?: Record<string, string>;
  /** Seconds. `run`: default 300; `start`: default none. */
  timeout?: number;
  /** Initial stdin text. */
  stdin?: string;
}

/** A session's state as the server reports it. */
export interface SessionState {
  session_id: string;
  agent_id: string;
  command: string;
  cwd: string;
  pid: number;
  background: boolean;
  state: 'running' | 'exited' | 'killed' | 'timed_out' | 'lost' | string;
  running: boolean;
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  started_at: string;
  finished_at: string | null;
  stdin_open?: boolean;
  stdout_bytes?: number;
  stderr_bytes?: number;
  dropped_bytes?: number;
  last_event_id?: number;
  [key: string]: unknown;
}

/** A background command followed over SSE. */
export class ExecSession {
  readonly sessionId: string;
  /** Process id (set by `exec.start`). */
  pid?: number;
  /** Id of the last event received. */
  readonly lastEventId: number;
  /** The exit, once known. */
  readonly exit: ExecExit | null;
  /** Resolves at the exit event; rejects if the session cannot be followed or after `close()` (`DETACHED`). */
  readonly done: Promise<ExecExit>;
  /** Writes to stdin (text as UTF-8, or bytes); `eof: true` closes it afterwards. */
  sendStdin(data: string | Uint8Array, options?: { eof?: boolean }): Promise<{ bytes: number; stdinOpen: boolean }>;
  /** Closes stdin. */
  closeStdin(): Promise<{ bytes: number; stdinOpen: boolean }>;
  /** Signals every process of the session (default `SIGTERM`). */
  kill(signal?: string | number): Promise<SessionState>;
  /** `done`, or a `WAIT_TIMEOUT` rejection after `timeoutMs`. */
  wait(timeoutMs?: number): Promise<ExecExit>;
  /** The session's state from the server. */
  info(): Promise<SessionState>;
  /** Stops following the output; the command keeps running on the server. */
  close(): void;
}

/** `agent.exec`. */
export class Exec {
  run(command: string, options?: ExecOptions & { signal?: AbortSignal }): Promise<ExecResult>;
  start(command: string, options?: ExecOptions & ExecCallbacks): Promise<ExecSession>;
  /** Re-attach; resumes after the last event this client saw of the session (or `after`). */
  attach(sessionId: string, callbacks?: ExecCallbacks & { after?: number }): ExecSession;
  list(): Promise<SessionState[]>;
  get(sessionId: string): Promise<SessionState>;
}

/** `agent.files`. */
export class Files {
  read(path: string, options?: { startLine?: number; endLine?: number; encoding?: 'utf-8' | 'base64'; lineNumbers?: boolean }): Promise<ToolResult>;
  write(path: string, content: string | Uint8Array, options?: { createDirs?: boolean }): Promise<ToolResult>;
  append(path: string, content: string | Uint8Array, options?: { createDirs?: boolean }): Promise<ToolResult>;
  edit(path: string, oldText: string, newText: string, options?: { replaceAll?: boolean }): Promise<ToolResult>;
  multiEdit(edits: { path: string; oldText: string; newText: string; replaceAll?: boolean }[]): Promise<ToolResult>;
}

export interface Progress {
  bytes: number;
  total: number | null;
}

export interface ExportOptions {
  format?: 'tar.gz' | 'tar' | 'zip' | 'tar.zst';
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

export interface ImportOptions {
  mode?: 'merge' | 'replace';
  onProgress?: (progress: Progress) => void;
  /** Total bytes, for `progress.total` when the source does not tell. */
  total?: number;
  signal?: AbortSignal;
}

/** The server's report of an import. */
export interface ImportReport {
  agent_id: string;
  mode: 'merge' | 'replace';
  entries: number;
  files: number;
  directories: number;
  symlinks: number;
  hard_links: number;
  bytes: number;
  skipped: unknown[];
  skipped_count: number;
  [key: string]: unknown;
}

export type ArchiveSource = string | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Uint8Array | ArrayBuffer | Blob;

/** One agent. */
export class Agent {
  readonly id: string;
  /** The record returned when it was created or attached by `sandbox.agent()`. */
  record?: Record<string, unknown>;
  readonly exec: Exec;
  readonly files: Files;
  tool(name: string, input: Record<string, unknown>, options?: { signal?: AbortSignal }): Promise<ToolResult>;
  bash(command: string, options?: { timeout?: number; cwd?: string; env?: Record<string, string>; stdin?: string }): Promise<ToolResult>;
  glob(pattern: string, options?: { rootDir?: string; maxResults?: number }): Promise<ToolResult>;
  grep(pattern: string, options?: {
    path?: string; include?: string; contextLines?: number; outputMode?: 'content' | 'files_with_matches' | 'count';
    caseInsensitive?: boolean; maxResults?: number; multiline?: boolean;
  }): Promise<ToolResult>;
  share(path: string, options?: { expiresIn?: number }): Promise<ToolResult>;
  shares(): Promise<Record<string, unknown>[]>;
  revokeShare(token: string): Promise<{ token: string; revoked: boolean }>;
  info(): Promise<Record<string, unknown>>;
  suspend(): Promise<Record<string, unknown>>;
  resume(): Promise<Record<string, unknown>>;
  delete(): Promise<{ agent_id: string; state: 'deleted' }>;
  /** The archive as a stream. */
  export(options?: ExportOptions): Promise<ReadableStream<Uint8Array>>;
  /** Node: writes the archive to `path`. */
  export(path: string, options?: ExportOptions): Promise<{ path: string; bytes: number }>;
  import(source: ArchiveSource, options?: ImportOptions): Promise<ImportReport>;
}

/** A connection to one server. */
export class AgentSandbox {
  static connect(options?: ConnectOptions): AgentSandbox;
  /** Create (new UUID when omitted) or attach; one `POST /v1/agents`. */
  agent(id?: string, options?: { network?: 'host' | 'none'; limits?: AgentLimits }): Promise<Agent>;
  /** A handle without a request. */
  attach(id: string): Agent;
  listAgents(): Promise<Record<string, unknown>[]>;
  tools(format?: 'json-schema' | 'openai' | 'anthropic'): Promise<Record<string, unknown>[]>;
  /** No key needed. */
  health(): Promise<{ status: string }>;
  /** Downloads a share URL without the API key. */
  downloadShare(url: string, options?: { range?: [number, number] }): Promise<Uint8Array>;
}
