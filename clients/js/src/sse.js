import { concatBytes, utf8Decode } from './bytes.js';

const NodeBuffer = globalThis.Buffer;
/** A view whose `indexOf` is fast: Node's Buffer search is memchr, about 3x a typed array's. */
const searchable = NodeBuffer ? (chunk) => NodeBuffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : (chunk) => chunk;

/**
 * An incremental Server-Sent Events parser that works on bytes, so large base64 `data:` lines are never
 * copied through strings until the caller decodes them. Lines end with LF (a trailing CR is dropped);
 * comments (`:`) are skipped; `id`, `event` and `data` are kept; a blank line dispatches the event.
 */
export class SSEParser {
  /** @param {(event: {id: string|null, event: string, data: Uint8Array[]}) => void} onEvent */
  constructor(onEvent) {
    this.onEvent = onEvent;
    /** @type {Uint8Array[]} bytes of an unfinished line */
    this.pending = [];
    this.reset();
  }

  reset() {
    this.id = null;
    this.event = 'message';
    /** @type {Uint8Array[]} */
    this.data = [];
  }

  /** Feeds one chunk of the response body. @param {Uint8Array} chunk */
  push(chunk) {
    const view = searchable(chunk);
    let start = 0;
    for (;;) {
      const newline = view.indexOf(10, start);
      if (newline < 0) {
        if (start < chunk.length) this.pending.push(chunk.subarray(start));
        return;
      }
      let line = chunk.subarray(start, newline);
      if (this.pending.length) {
        this.pending.push(line);
        line = concatBytes(this.pending);
        this.pending = [];
      }
      this.line(line);
      start = newline + 1;
    }
  }

  /** @param {Uint8Array} line */
  line(line) {
    let length = line.length;
    if (length && line[length - 1] === 13) line = line.subarray(0, --length);
    if (length === 0) {
      if (this.data.length || this.id !== null || this.event !== 'message') this.onEvent({ id: this.id, event: this.event, data: this.data });
      this.reset();
      return;
    }
    if (line[0] === 58) return; // ':' comment (keep-alive)
    let colon = line.indexOf(58);
    if (colon < 0) colon = length;
    let valueStart = colon + 1;
    if (line[valueStart] === 32) valueStart++;
    const value = line.subarray(Math.min(valueStart, length));
    // Field names by length and first byte: data (4, 'd'), id (2, 'i'), event (5, 'e').
    if (colon === 4 && line[0] === 100) this.data.push(value);
    else if (colon === 2 && line[0] === 105) this.id = utf8Decode(value);
    else if (colon === 5 && line[0] === 101) this.event = utf8Decode(value);
  }
}

/**
 * Reads an SSE response body to its end, calling `onEvent` for each event.
 * @param {ReadableStream<Uint8Array>} body
 * @param {(event: {id: string|null, event: string, data: Uint8Array[]}) => void} onEvent
 */
export async function readSSE(body, onEvent) {
  const parser = new SSEParser(onEvent);
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.push(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/** The text of an event's data lines joined with LF (the SSE rule). @param {Uint8Array[]} data */
export function dataText(data) {
  return data.map(utf8Decode).join('\n');
}
