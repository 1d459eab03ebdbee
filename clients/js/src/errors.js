/**
 * The one exception the SDK throws for a failed call.
 *
 * - Request-level failures (HTTP 4xx/5xx): `status` is the HTTP status, `errorCode` the server's stable code
 *   (`UNAUTHORIZED`, `AGENT_NOT_FOUND`, `AGENT_SUSPENDED`, `AGENT_DELETED`, `PAYLOAD_TOO_LARGE`,
 *   `TOO_MANY_REQUESTS`, …) and `message` the server's sentence saying how to fix it.
 * - Tool-level failures of file tools (HTTP 200, `status: "error"`): `status` is 200, `toolLevel` is true,
 *   `errorCode` is e.g. `FILE_NOT_FOUND` or `EDIT_NOT_UNIQUE`.
 * - The server could not be reached: `status` 0, `errorCode` `CONNECTION_FAILED`, `cause` the fetch error.
 */
export class AgentSandboxError extends Error {
  /**
   * @param {string} message the server's sentence (or a description of the local failure)
   * @param {{errorCode?: string, status?: number, body?: any, cause?: unknown}} [details]
   */
  constructor(message, { errorCode = 'UNKNOWN', status = 0, body = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AgentSandboxError';
    /** Stable machine-readable code from the server's `error_code`. */
    this.errorCode = errorCode;
    /** HTTP status (200 for a tool-level failure, 0 when no response arrived). */
    this.status = status;
    /** The parsed response body (the envelope), when there was one. */
    this.body = body;
  }

  /** True for a tool-level failure (HTTP 200 with `status: "error"`). */
  get toolLevel() {
    return this.status === 200;
  }
}

/**
 * Builds the error for a non-2xx response from its body (the envelope, or a seed-shaped `{error, errorCode}`).
 * @param {Response} response
 * @returns {Promise<AgentSandboxError>}
 */
export async function errorFromResponse(response) {
  let body = null;
  const text = await response.text().catch(() => '');
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const message = (body && typeof body.error === 'string' && body.error) || text.trim() || `HTTP ${response.status} ${response.statusText}`;
  const errorCode = (body && (body.error_code || body.errorCode)) || `HTTP_${response.status}`;
  return new AgentSandboxError(message, { errorCode, status: response.status, body });
}

/**
 * The error for a tool-level failure envelope (HTTP 200, `status: "error"`).
 * @param {any} envelope
 */
export function errorFromEnvelope(envelope) {
  return new AgentSandboxError(envelope.error || 'The tool reported an error.', {
    errorCode: envelope.error_code || 'TOOL_ERROR',
    status: 200,
    body: envelope,
  });
}
