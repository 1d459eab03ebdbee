import { AgentSandboxError } from './errors.js';

const CHUNK = 1 << 20;
const isNode = !!globalThis.process?.versions?.node;

/**
 * Workspace archives, streamed both ways: nothing holds the whole archive in memory.
 * `onProgress({bytes, total})` is called as chunks pass (`total` is null when unknown, e.g. on export).
 */
export class Archives {
  /** @param {import('./transport.js').Transport} transport @param {string} agentId */
  constructor(transport, agentId) {
    this.transport = transport;
    this.path = `/v1/agents/${agentId}/archive`;
  }

  /**
   * Exports the workspace. Without `path`: resolves with the archive as a `ReadableStream<Uint8Array>`.
   * With a file `path` (Node only): writes it there and resolves with `{path, bytes}`.
   * @param {string|undefined} path
   * @param {{format?: 'tar.gz'|'tar'|'zip'|'tar.zst', onProgress?: (p: {bytes: number, total: number|null}) => void, signal?: AbortSignal}} options
   */
  async export(path, { format = 'tar.gz', onProgress, signal } = {}) {
    const response = await this.transport.request('GET', this.path, { query: { format }, signal });
    const length = Number(response.headers.get('content-length'));
    let bytes = 0;
    const report = (progress) => { bytes = progress.bytes; onProgress?.(progress); };
    const stream = response.body.pipeThrough(counter(report, Number.isFinite(length) && length > 0 ? length : null));
    if (path === undefined) return stream;
    const [{ createWriteStream }, { Readable }, { pipeline }] = await nodeModules();
    await pipeline(Readable.fromWeb(stream), createWriteStream(path));
    return { path, bytes };
  }

  /**
   * Imports an archive (format detected by the server): `merge` (default; the archive wins per path) or
   * `replace` (the workspace becomes the archive, atomically). Sources: a file path (Node only), a
   * `ReadableStream<Uint8Array>`, an async iterable of bytes, a `Uint8Array`, `ArrayBuffer` or `Blob`.
   * @returns {Promise<object>} the server's report: `files`, `directories`, `symlinks`, `bytes`, `skipped`, …
   */
  async import(source, { mode = 'merge', onProgress, total, signal } = {}) {
    const { stream, size } = await toStream(source);
    const known = total ?? size;
    if (!isNode && !(source instanceof ReadableStream) && typeof source !== 'string' && !isAsyncIterable(source)) {
      // Browsers stream request bodies only over HTTP/2; send whole bodies as they are.
      const response = await this.transport.request('PUT', this.path, { query: { mode }, body: source, signal });
      onProgress?.({ bytes: known ?? 0, total: known });
      return response.json();
    }
    const body = stream.pipeThrough(counter(onProgress, known));
    const response = await this.transport.request('PUT', this.path, {
      query: { mode }, body, duplex: 'half', signal, headers: { 'content-type': 'application/octet-stream' },
    });
    return response.json();
  }
}

/** A pass-through stream that reports the bytes seen so far. */
function counter(onProgress, total) {
  let bytes = 0;
  return new TransformStream({
    transform(chunk, controller) {
      bytes += chunk.length;
      onProgress?.({ bytes, total });
      controller.enqueue(chunk);
    },
  });
}

async function toStream(source) {
  if (typeof source === 'string') {
    const [{ createReadStream, promises }, { Readable }] = await nodeModules();
    const { size } = await promises.stat(source);
    return { stream: Readable.toWeb(createReadStream(source, { highWaterMark: CHUNK })), size };
  }
  if (source instanceof ReadableStream) return { stream: source, size: null };
  if (typeof Blob !== 'undefined' && source instanceof Blob) return { stream: source.stream(), size: source.size };
  if (source instanceof ArrayBuffer) source = new Uint8Array(source);
  if (source instanceof Uint8Array) {
    let offset = 0;
    const bytes = source;
    const stream = new ReadableStream({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.subarray(offset, offset + CHUNK));
        offset += CHUNK;
      },
    });
    return { stream, size: bytes.length };
  }
  if (isAsyncIterable(source)) {
    const iterator = source[Symbol.asyncIterator]();
    const stream = new ReadableStream({
      async pull(controller) {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(value instanceof Uint8Array ? value : new Uint8Array(value));
      },
      cancel(reason) { return iterator.return?.(reason); },
    });
    return { stream, size: null };
  }
  throw new AgentSandboxError('An archive source must be a file path, ReadableStream, async iterable, Uint8Array, ArrayBuffer or Blob.', { errorCode: 'INVALID_ARGUMENT' });
}

const isAsyncIterable = (value) => value != null && typeof value[Symbol.asyncIterator] === 'function';

async function nodeModules() {
  if (!isNode) throw new AgentSandboxError('File paths work in Node only; in a browser pass a Blob or stream.', { errorCode: 'INVALID_ARGUMENT' });
  return Promise.all([import('node:fs'), import('node:stream'), import('node:stream/promises')]);
}
