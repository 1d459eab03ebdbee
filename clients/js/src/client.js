import { Agent } from './agent.js';
import { AgentSandboxError, errorFromResponse } from './errors.js';
import { Transport } from './transport.js';

/**
 * A connection to one AgentSandbox server.
 *
 * ```js
 * const sandbox = AgentSandbox.connect({ url: 'http://127.0.0.1:8080', apiKey: process.env.AGENT_SANDBOX_API_KEY });
 * const agent = await sandbox.agent();
 * const { exitCode, stdout } = await agent.exec.run('echo hello');
 * ```
 *
 * Every `/v1` route needs the API key. In a browser, do not put the key in the page: point `url` at a
 * same-origin proxy of yours that adds it (omit `apiKey`), or use only the key-less calls
 * (`health()`, `downloadShare(url)`).
 */
export class AgentSandbox {
  /** @param {Transport} transport @param {{throwOnToolError?: boolean}} options */
  constructor(transport, options = {}) {
    this.transport = transport;
    this.options = options;
  }

  /**
   * Connects (no request is made yet). In Node, `url` and `apiKey` default to `AGENT_SANDBOX_URL` and
   * `AGENT_SANDBOX_API_KEY`.
   * @param {{url?: string, apiKey?: string|null, headers?: Record<string,string>, fetch?: typeof fetch,
   *          throwOnToolError?: boolean}} [options]
   *   `headers`: sent on every request; `fetch`: a replacement `fetch`; `throwOnToolError` (default true):
   *   file tools throw on a tool-level failure instead of answering `ok: false`
   * @returns {AgentSandbox}
   */
  static connect({ url, apiKey, headers, fetch, throwOnToolError = true } = {}) {
    const env = globalThis.process?.env ?? {};
    const transport = new Transport({
      url: url ?? env.AGENT_SANDBOX_URL, apiKey: apiKey === undefined ? env.AGENT_SANDBOX_API_KEY ?? null : apiKey, headers, fetch,
    });
    return new AgentSandbox(transport, { throwOnToolError });
  }

  /**
   * An agent: creates it (a new UUID when `id` is omitted) or attaches to an existing one — one
   * `POST /v1/agents`, which also revives a deleted id.
   * @param {string} [id] a UUID
   * @param {{network?: 'host'|'none', limits?: {pids_max?: number, memory_bytes?: number, cpu_weight?: number, max_concurrent_calls?: number}}} [options]
   * @returns {Promise<Agent>}
   */
  async agent(id, { network, limits } = {}) {
    const record = await this.transport.json('POST', '/v1/agents', { json: { agent_id: id, network, limits } });
    const agent = new Agent(this.transport, record.agent_id, this.options);
    agent.record = record;
    return agent;
  }

  /**
   * An agent handle without a request (the server creates the agent on its first tool call, unless implicit
   * creation is off).
   * @param {string} id a UUID
   * @returns {Agent}
   */
  attach(id) {
    if (typeof id !== 'string' || !id) throw new AgentSandboxError('attach needs an agent id (a UUID).', { errorCode: 'INVALID_ARGUMENT' });
    return new Agent(this.transport, id, this.options);
  }

  /** All agents. @returns {Promise<object[]>} */
  async listAgents() {
    return (await this.transport.json('GET', '/v1/agents')).agents;
  }

  /**
   * Tool definitions for LLM function calling.
   * @param {'json-schema'|'openai'|'anthropic'} [format]
   * @returns {Promise<object[]>}
   */
  async tools(format = 'json-schema') {
    return (await this.transport.json('GET', '/v1/tools', { query: { format } })).tools;
  }

  /** `GET /healthz` (no key needed). @returns {Promise<{status: string}>} */
  health() {
    return this.transport.json('GET', '/healthz');
  }

  /**
   * Downloads a share (`/s/{token}/{name}`, as returned by `agent.share()`) without sending the API key.
   * @param {string} url
   * @param {{range?: [number, number]}} [options] bytes `start..end` inclusive
   * @returns {Promise<Uint8Array>}
   */
  async downloadShare(url, { range } = {}) {
    const headers = range ? { range: `bytes=${range[0]}-${range[1]}` } : {};
    const response = await this.transport.fetch(url, { headers });
    if (!response.ok) throw await errorFromResponse(response);
    return new Uint8Array(await response.arrayBuffer());
  }
}
