// File tools, glob, grep and shares through the SDK.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { AgentSandbox, AgentSandboxError } from '../src/index.js';
import { connect } from './support.js';

let sandbox, agent;
before(async () => {
  sandbox = connect();
  agent = await sandbox.agent();
});

test('files.write, append and read round-trip text, with line ranges', async () => {
  await agent.files.write('src/app.py', 'line 1\nline 2\n');
  await agent.files.append('src/app.py', 'line 3\n');
  const whole = await agent.files.read('src/app.py');
  assert.deepEqual([whole.ok, whole.content, whole.totalLines], [true, 'line 1\nline 2\nline 3\n', 3]);
  const part = await agent.files.read('src/app.py', { startLine: 2, endLine: 2 });
  assert.equal(part.content, 'line 2\n');
});

test('files.write sends bytes as base64 and reads them back exactly', async () => {
  const bytes = new Uint8Array([0, 1, 2, 255, 10, 13]);
  await agent.files.write('bin/blob', bytes);
  const read = await agent.files.read('bin/blob', { encoding: 'base64' });
  assert.deepEqual([...Buffer.from(read.content, 'base64')], [...bytes]);
});

test('files.edit and multiEdit change text; a failed multiEdit changes nothing', async () => {
  await agent.files.write('cfg.txt', 'a=1\nb=2\n');
  const edited = await agent.files.edit('cfg.txt', 'a=1', 'a=10');
  assert.equal(edited.replacementsMade, 1);
  await agent.files.multiEdit([
    { path: 'cfg.txt', oldText: 'b=2', newText: 'b=20' },
    { path: 'cfg.txt', oldText: 'b=20', newText: 'b=200' },
  ]);
  assert.equal((await agent.files.read('cfg.txt')).content, 'a=10\nb=200\n');
  await assert.rejects(
    agent.files.multiEdit([{ path: 'cfg.txt', oldText: 'a=10', newText: 'a=0' }, { path: 'cfg.txt', oldText: 'missing', newText: 'x' }]),
    { errorCode: 'EDIT_NOT_FOUND', status: 200 });
  assert.equal((await agent.files.read('cfg.txt')).content, 'a=10\nb=200\n');
});

test('a tool-level failure throws AgentSandboxError with errorCode, status 200 and the sentence', async () => {
  const error = await agent.files.read('no/such/file').catch((e) => e);
  assert.ok(error instanceof AgentSandboxError);
  assert.equal(error.errorCode, 'FILE_NOT_FOUND');
  assert.equal(error.status, 200);
  assert.equal(error.toolLevel, true);
  assert.match(error.message, /not found/i);
});

test('with throwOnToolError: false a tool-level failure is a result with ok: false', async () => {
  const lenient = AgentSandbox.connect({ throwOnToolError: false }).attach(agent.id);
  const result = await lenient.files.read('no/such/file');
  assert.deepEqual([result.ok, result.errorCode], [false, 'FILE_NOT_FOUND']);
});

test('glob and grep find files and lines', async () => {
  await agent.files.write('pkg/a.js', 'const needle = 1;\n');
  await agent.files.write('pkg/b.ts', 'let hay = 2;\n');
  const found = await agent.glob('pkg/**/*.{js,ts}');
  assert.deepEqual(found.matches.slice().sort(), ['pkg/a.js', 'pkg/b.ts']);
  assert.equal(found.totalFound, 2);
  const hits = await agent.grep('needle', { path: 'pkg', include: '*.js' });
  assert.equal(hits.totalMatches, 1);
  assert.deepEqual([hits.matches[0].file, hits.matches[0].line], ['pkg/a.js', 1]);
  await assert.rejects(agent.grep('('), { errorCode: 'INVALID_PATTERN' });
});

test('share publishes a file that downloadShare fetches without the API key; revokeShare removes it', async () => {
  await agent.files.write('report.txt', 'shared text');
  const share = await agent.share('report.txt', { expiresIn: 600 });
  assert.match(share.url, /\/s\/.+\/report\.txt$/);
  const keyless = AgentSandbox.connect({ apiKey: null });
  assert.equal(new TextDecoder().decode(await keyless.downloadShare(share.url)), 'shared text');
  assert.equal(new TextDecoder().decode(await keyless.downloadShare(share.url, { range: [0, 5] })), 'shared');
  assert.ok((await agent.shares()).some((s) => s.token === share.token));
  await agent.revokeShare(share.token);
  await assert.rejects(keyless.downloadShare(share.url), { status: 404 });
});

test('agent info, listAgents, tools and health', async () => {
  const info = await agent.info();
  assert.equal(info.agent_id, agent.id);
  assert.ok((await sandbox.listAgents()).some((a) => a.agent_id === agent.id));
  const tools = await sandbox.tools('openai');
  assert.ok(tools.length >= 8);
  assert.equal((await AgentSandbox.connect({ apiKey: null }).health()).status, 'ok');
});
