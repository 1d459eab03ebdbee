import { AgentSandboxError, errorFromResponse } from './errors.js';

/**
 * One server: base URL, credentials and the `fetch` to use. Every SDK request goes through `request`,
 * which turns non-2xx answers into `AgentSandboxError` and unreachable servers into `CONNECTION_FAILED`.
 * Connections are reused by the platform's `fetch` (keep-alive).
 */
export class Transport {
  /**
   * @param {{url: string, apiKey?: string|null, headers?: Record<string,string>, fetch?: typeof fetch}} options
   */
  constructor({ url, apiKey = null, headers = {}, fetch: fetchImpl }) {
    this.baseURL = resolveBase(url);
    this.apiKey = apiKey;
    this.fetch = fetchImpl || globalThis.fetch.bind(globalThis);
    /** Headers sent on every request (the API key, when given). */
    this.headers = { ...headers };
    if (apiKey) this.headers['x-api-key'] = apiKey;
  }

  /**
   * The absolute URL of `path` with `query` (undefined/null values left out).
   * @param {string} path
   * @param {Record<string, unknown>} [query]
   */
  url(path, query) {
    let url = this.baseURL + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null) params.set(key, String(value));
      const text = params.toString();
      if (text) url += '?' + text;
    }
    return url;
  }

  /**
   * Sends one request; resolves with the `Response` when it is 2xx, throws `AgentSandboxError` otherwise.
   * GETs are retried once when the connection failed before any answer (safe: they change nothing).
   * @param {string} method
   * @param {string} path
   * @param {{json?: unknown, body?: any, query?: Record<string, unknown>, headers?: Record<string,string>,
   *          signal?: AbortSignal, duplex?: 'half', retry?: boolean}} [options]
   * @returns {Promise<Response>}
   */
  async request(method, path, { json, body, query, headers, signal, duplex, retry = method === 'GET' } = {}) {
    const init = { method, headers: { ...this.headers, ...headers }, signal };
    if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers['content-type'] = 'application/json';
    } else if (body !== undefined) {
      init.body = body;
      if (duplex) init.duplex = duplex;
    }
    const url = this.url(path, query);
    let response;
    try {
      response = await this.fetch(url, init);
    } catch (error) {
      if (retry && !signal?.aborted) return this.request(method, path, { json, body, query, headers, signal, duplex, retry: false });
      if (error?.name === 'AbortError') throw error;
      throw new AgentSandboxError(`Could not reach the AgentSandbox server at ${this.baseURL}: ${error?.cause?.message || error?.message || error}`, {
        errorCode: 'CONNECTION_FAILED', status: 0, cause: error,
      });
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  /**
   * `request`, then the parsed JSON body.
   * @param {string} method
   * @param {string} path
   * @param {Parameters<Transport['request']>[2]} [options]
   */
  async json(method, path, options) {
    const response = await this.request(method, path, options);
    return response.json();
  }
}

/** Accepts absolute URLs, and in a browser also paths relative to the page (e.g. a same-origin proxy). */
function resolveBase(url) {
  if (!url) throw new AgentSandboxError('No server URL: pass {url} to AgentSandbox.connect or set AGENT_SANDBOX_URL.', { errorCode: 'INVALID_ARGUMENT' });
  const base = globalThis.location?.href;
  const resolved = base ? new URL(url, base).href : new URL(url).href;
  return resolved.replace(/\/+$/, '');
}
