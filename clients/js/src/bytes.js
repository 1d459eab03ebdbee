/** Byte helpers that work in Node and in browsers (Node's `Buffer` is used when present: it is native code). */

const NodeBuffer = globalThis.Buffer;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Uint8Array(256).fill(255);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/**
 * Decodes base64 given as ASCII bytes (an SSE `data:` value) into bytes.
 * @param {Uint8Array} ascii
 * @returns {Uint8Array}
 */
export function base64DecodeBytes(ascii) {
  if (NodeBuffer) {
    const text = NodeBuffer.from(ascii.buffer, ascii.byteOffset, ascii.byteLength).toString('latin1');
    const decoded = NodeBuffer.from(text, 'base64');
    return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength); // a plain Uint8Array, as in browsers
  }
  let length = ascii.length;
  while (length > 0 && (ascii[length - 1] === 61 || LOOKUP[ascii[length - 1]] === 255)) length--;
  const out = new Uint8Array(Math.floor((length * 3) / 4));
  let bits = 0, value = 0, index = 0;
  for (let i = 0; i < length; i++) {
    const digit = LOOKUP[ascii[i]];
    if (digit === 255) continue;
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (value >> bits) & 0xff;
    }
  }
  return index === out.length ? out : out.subarray(0, index);
}

/**
 * Base64 of bytes (for file_write's `encoding: "base64"` and stdin).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function base64Encode(bytes) {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/**
 * Joins byte chunks into one array.
 * @param {Uint8Array[]} chunks
 */
export function concatBytes(chunks) {
  if (chunks.length === 1) return chunks[0];
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** UTF-8 text of bytes (invalid sequences replaced). @param {Uint8Array} bytes */
export const utf8Decode = (bytes) => decoder.decode(bytes);
/** UTF-8 bytes of text. @param {string} text */
export const utf8Encode = (text) => encoder.encode(text);
