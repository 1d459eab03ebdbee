// Workspace archives streamed both ways, with progress callbacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from './support.js';

test('export to a file and import it into another agent, reporting progress both ways', async () => {
  const sandbox = connect();
  const source = await sandbox.agent();
  const target = await sandbox.agent();
  await source.files.write('docs/a.txt', 'alpha\n');
  await source.exec.run('head -c 3000000 /dev/urandom > data.bin; ln -s docs/a.txt link');
  const sum = (await source.exec.run('sha256sum data.bin')).stdout.split(' ')[0];

  const dir = mkdtempSync(join(tmpdir(), 'sdk-js-archive-'));
  try {
    const file = join(dir, 'ws.tar.gz');
    const exported = [];
    const result = await source.export(file, { onProgress: (p) => exported.push(p.bytes) });
    assert.equal(result.bytes, statSync(file).size);
    assert.ok(exported.length > 1, 'several progress calls while downloading');
    assert.equal(exported.at(-1), result.bytes);

    const imported = [];
    const report = await target.import(file, { mode: 'replace', onProgress: (p) => imported.push(p) });
    assert.equal(imported.at(-1).bytes, result.bytes);
    assert.equal(imported.at(-1).total, result.bytes);
    assert.deepEqual([report.files, report.symlinks, report.mode], [2, 1, 'replace']);
    assert.equal((await target.files.read('docs/a.txt')).content, 'alpha\n');
    assert.equal((await target.exec.run('sha256sum data.bin')).stdout.split(' ')[0], sum);
    assert.equal((await target.exec.run('readlink link')).stdout, 'docs/a.txt\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export as a stream (zip) and import from a ReadableStream, merging', async () => {
  const sandbox = connect();
  const source = await sandbox.agent();
  const target = await sandbox.agent();
  await source.files.write('one.txt', '1');
  await target.files.write('two.txt', '2');
  let seen = 0;
  const stream = await source.export({ format: 'zip', onProgress: (p) => { seen = p.bytes; } });
  const report = await target.import(stream, { mode: 'merge' });
  assert.ok(seen > 0);
  assert.equal(report.files, 1);
  assert.deepEqual((await target.glob('*.txt')).matches.sort(), ['one.txt', 'two.txt']);
});
