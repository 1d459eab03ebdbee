/**
 * Envelope → result object: every key in camelCase (`exit_code` → `exitCode`, `error_code` → `errorCode`,
 * `total_lines` → `totalLines`, …) plus `ok` (`status === "ok"`). Additive server keys come through as well.
 * @param {Record<string, unknown>} envelope
 * @returns {import('../types/index.js').ToolResult}
 */
export function toResult(envelope) {
  const result = { ok: envelope.status === 'ok' };
  for (const [key, value] of Object.entries(envelope)) result[camel(key)] = value;
  return /** @type {any} */ (result);
}

/** @param {string} key */
export function camel(key) {
  return key.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
}

/**
 * Options object → request fields: camelCase keys to snake_case, undefined values left out.
 * @param {Record<string, unknown>} options
 */
export function snakeFields(options) {
  const fields = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) fields[key.replace(/[A-Z]/g, (letter) => '_' + letter.toLowerCase())] = value;
  }
  return fields;
}
