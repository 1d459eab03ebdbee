import { base64Encode } from './bytes.js';

/**
 * File tools of one agent (`agent.files`). Paths are relative to the workspace (absolute paths inside it are
 * accepted). A tool-level failure (`FILE_NOT_FOUND`, `EDIT_NOT_UNIQUE`, …) throws `AgentSandboxError` with
 * `status` 200, unless the client was connected with `throwOnToolError: false` (then `ok` is false).
 */
export class Files {
  /** @param {import('./agent.js').Agent} agent */
  constructor(agent) {
    this.agent = agent;
  }

  /**
   * Reads a text file (or a range of lines). Binary files need `encoding: "base64"`.
   * @param {string} path
   * @param {{startLine?: number, endLine?: number, encoding?: 'utf-8'|'base64', lineNumbers?: boolean}} [options]
   * @returns {Promise<import('../types/index.js').ToolResult>} `content`, `totalLines`, `truncated`
   */
  read(path, options = {}) {
    return this.agent.fileTool('file_read', { path, ...options });
  }

  /**
   * Writes a file atomically (parent directories created by default). Bytes are sent as base64.
   * @param {string} path
   * @param {string|Uint8Array} content
   * @param {{createDirs?: boolean}} [options]
   */
  write(path, content, options = {}) {
    return this.agent.fileTool('file_write', { path, ...contentFields(content), ...options });
  }

  /**
   * Appends to a file (created if missing).
   * @param {string} path
   * @param {string|Uint8Array} content
   * @param {{createDirs?: boolean}} [options]
   */
  append(path, content, options = {}) {
    return this.agent.fileTool('file_write', { path, ...contentFields(content), mode: 'a', ...options });
  }

  /**
   * Replaces `oldText` with `newText` (exact match; unique unless `replaceAll`).
   * @param {string} path
   * @param {string} oldText
   * @param {string} newText
   * @param {{replaceAll?: boolean}} [options]
   * @returns {Promise<import('../types/index.js').ToolResult>} `replacementsMade`, and the edited region in `content`
   */
  edit(path, oldText, newText, options = {}) {
    return this.agent.fileTool('file_edit', { path, oldText, newText, ...options });
  }

  /**
   * Several edits, in order, across one or many files: all applied or none.
   * @param {{path: string, oldText: string, newText: string, replaceAll?: boolean}[]} edits
   */
  multiEdit(edits) {
    const wire = edits.map((e) => ({ path: e.path, old_text: e.oldText, new_text: e.newText, replace_all: e.replaceAll }));
    return this.agent.fileTool('multi_edit', { edits: wire });
  }
}

/** @param {string|Uint8Array} content */
function contentFields(content) {
  return typeof content === 'string' ? { content } : { content: base64Encode(content), encoding: 'base64' };
}
