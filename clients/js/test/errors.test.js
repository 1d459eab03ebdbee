// Request-level failures surface as AgentSandboxError with errorCode, status and the server's sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AgentSandbox, AgentSandboxError } from '../src/index.js';
import { connect, startServer } from './support.js';

/** Awaits a rejection and checks it is an AgentSandboxError with this status and code. */
async function expectError(promise, status, errorCode) {
  const error = await promise.then(() => null, (e) => e);
  assert.ok(error instanceof AgentSandboxError, `expected AgentSandboxError, got ${error}`);
  assert.equal(error.status, status);
  assert.equal(error.errorCode, errorCode);
  assert.ok(error.message.length > 10, 'the server sentence comes through');
  return error;
}

test('401: a wrong API key', async () => {
  const bad = AgentSandbox.connect({ apiKey: 'not-the-key' });
  const error = await expectError(bad.agent(), 401, 'UNAUTHORIZED');
  assert.match(error.message, /API key/);
  await expectError(AgentSandbox.connect({ apiKey: null }).listAgents(), 401, 'UNAUTHORIZED');
});

test('404: an unknown agent and an unknown session', async () => {
  const sandbox = connect();
  await expectError(sandbox.attach(randomUUID()).info(), 404, 'AGENT_NOT_FOUND');
  const agent = await sandbox.agent();
  await expectError(agent.exec.get('sess_0000000000000000'), 404, 'SESSION_NOT_FOUND');
});

test('409: a suspended agent refuses calls until resumed', async () => {
  const agent = await connect().agent();
  await agent.suspend();
  await expectError(agent.exec.run('true'), 409, 'AGENT_SUSPENDED');
  await expectError(agent.files.read('x'), 409, 'AGENT_SUSPENDED');
  await agent.resume();
  assert.equal((await agent.exec.run('echo back')).stdout, 'back\n');
});

test('410: a deleted agent', async () => {
  const agent = await connect().agent();
  await agent.delete();
  await expectError(agent.exec.run('true'), 410, 'AGENT_DELETED');
  await expectError(agent.bash('true'), 410, 'AGENT_DELETED');
});

test('413: a request body over the server limit', async () => {
  const agent = await connect().agent();
  await expectError(agent.files.write('big.txt', 'x'.repeat(11 << 20)), 413, 'PAYLOAD_TOO_LARGE');
});

test('429: more concurrent calls than the agent limit', async () => {
  const agent = await connect().agent(undefined, { limits: { max_concurrent_calls: 1 } });
  const results = await Promise.allSettled([agent.exec.run('sleep 1'), agent.exec.run('sleep 1'), agent.exec.run('sleep 1')]);
  const refused = results.filter((r) => r.status === 'rejected');
  assert.ok(refused.length >= 1, 'at least one call is refused');
  for (const r of refused) {
    assert.ok(r.reason instanceof AgentSandboxError);
    assert.deepEqual([r.reason.status, r.reason.errorCode], [429, 'TOO_MANY_REQUESTS']);
  }
  assert.ok(results.some((r) => r.status === 'fulfilled'));
});

test('413 on a streamed archive import past a private server\'s --archive-max-bytes', async (t) => {
  if (!process.env.AGENT_SANDBOX_BIN) return t.skip('AGENT_SANDBOX_BIN is not set');
  const server = await startServer(['--archive-max-bytes', '4096', '--archive-max-entries', '1'], 396000);
  try {
    const agent = await AgentSandbox.connect({ url: server.url, apiKey: server.apiKey }).agent();
    const junk = new Uint8Array(4 << 20).fill(7);
    await expectError(agent.import(new Blob([junk]).stream()), 413, 'ARCHIVE_TOO_LARGE');
  } finally {
    await server.stop();
  }
});

test('an unreachable server is CONNECTION_FAILED with status 0', async () => {
  const gone = AgentSandbox.connect({ url: 'http://127.0.0.1:9', apiKey: 'k' });
  await expectError(gone.listAgents(), 0, 'CONNECTION_FAILED');
});
