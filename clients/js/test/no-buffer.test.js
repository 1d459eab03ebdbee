// The code paths a browser takes: no Node `Buffer` (base64 and line search in plain JS). Runs the SDK in a
// child Node process where `globalThis.Buffer` is hidden while the SDK loads (it looks once, at load time;
// Node's own fetch needs Buffer back afterwards).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from './support.js';

const sdk = fileURLToPath(new URL('../src/index.js', import.meta.url));

test('without Buffer: exact bytes through exec.start and files.write, and base64 of every length', async () => {
  connect(); // checks the environment names the server
  const script = `
    const NodeBuffer = globalThis.Buffer;
    globalThis.Buffer = undefined;
    const { AgentSandbox } = await import(${JSON.stringify(sdk)});
    const { base64Encode, base64DecodeBytes } = await import(${JSON.stringify(new URL('../src/bytes.js', import.meta.url).pathname)});
    globalThis.Buffer = NodeBuffer;
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      const back = base64DecodeBytes(new TextEncoder().encode(base64Encode(bytes)));
      if (back.join() !== bytes.join()) throw new Error('base64 round trip failed at length ' + n);
    }
    const agent = await AgentSandbox.connect().agent();
    await agent.files.write('b.bin', new Uint8Array([0, 255, 13, 10, 128]));
    const seen = [];
    const session = await agent.exec.start("od -An -tu1 b.bin | tr -s ' ' | tr -d '\\\\n'; printf '\\\\r\\\\xfe'", { onStdout: (b) => seen.push(...b) });
    await session.done;
    process.stdout.write(JSON.stringify(seen));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: process.env, encoding: 'utf8' });
  const bytes = JSON.parse(out);
  assert.equal(new TextDecoder().decode(new Uint8Array(bytes.slice(0, -2))).trim(), '0 255 13 10 128');
  assert.deepEqual(bytes.slice(-2), [13, 0xfe]);
});
