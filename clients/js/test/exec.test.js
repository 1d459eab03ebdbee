// The seed SDK's exec examples, translated, against the live server.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect, collector, eventually } from './support.js';

let agent;
before(async () => {
  agent = await connect().agent();
});

test('exec.run returns exitCode, stdout and stderr, honouring cwd and env', async () => {
  await agent.files.write('app/README', 'x');
  const result = await agent.exec.run('pwd; echo "$GREETING"; echo oops >&2; exit 3', { cwd: 'app', env: { GREETING: 'hello' } });
  assert.equal(result.exitCode, 3);
  assert.match(result.stdout, /\/app\nhello\n$/);
  assert.equal(result.stderr, 'oops\n');
  assert.equal(result.success, false);
  assert.equal(result.timedOut, false);
});

test('exec.run with a timeout kills the command and reports timedOut with partial output', async () => {
  const started = Date.now();
  const result = await agent.exec.run('echo before; sleep 30; echo after', { timeout: 1 });
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, 124);
  assert.equal(result.stdout, 'before\n');
  assert.ok(Date.now() - started < 10000);
});

test('exec.run with a timeout longer than one request may wait streams the session to its exit', async () => {
  const result = await agent.exec.run('echo long; exit 4', { timeout: 600 });
  assert.deepEqual([result.exitCode, result.stdout, result.timedOut], [4, 'long\n', false]);
});

test('exec.start streams a dev-server-like loop; the caller reacts to "ready" in onStdout, then kills it', async () => {
  const out = collector();
  let exitSeen = null;
  const session = await agent.exec.start('echo booting; sleep 0.3; echo "listening, ready"; while true; do echo tick; sleep 0.2; done', {
    onStdout: (bytes) => {
      assert.ok(bytes instanceof Uint8Array);
      out.onBytes(bytes);
    },
    onExit: (exit) => { exitSeen = exit; },
  });
  assert.match(session.sessionId, /^sess_/);
  await eventually(() => out.text.includes('ready'), 10000, '"ready"');
  const listed = await agent.exec.list();
  assert.ok(listed.some((s) => s.session_id === session.sessionId && s.running));
  await session.kill('SIGTERM');
  const exit = await session.done;
  // Ended by the signal: reported as the signal, or as 128 + 15 when a wrapper process relays it.
  assert.ok(exit.signal === 'SIGTERM' || exit.exitCode === 143, `exit ${JSON.stringify(exit)}`);
  assert.deepEqual(exitSeen, exit);
  assert.ok(out.text.startsWith('booting\nlistening, ready\n'));
});

test('exec.start: sendStdin feeds the command, eof ends it, done resolves with the exit code', async () => {
  const out = collector();
  const err = collector();
  const session = await agent.exec.start('while read line; do echo "got $line"; done; echo bye >&2; exit 7', {
    onStdout: out.onBytes, onStderr: err.onBytes,
  });
  await session.sendStdin('one\n');
  await eventually(() => out.text === 'got one\n', 10000, 'first echo');
  await session.sendStdin(new TextEncoder().encode('two\n'), { eof: true });
  const exit = await session.wait(10000);
  assert.deepEqual(exit, { exitCode: 7, signal: null, timedOut: false });
  assert.equal(out.text, 'got one\ngot two\n');
  assert.equal(err.text, 'bye\n');
});

test('onStdout receives the exact bytes, including CR and invalid UTF-8', async () => {
  const chunks = [];
  const session = await agent.exec.start("printf 'a\\r\\nb\\xff\\x00c'", { onStdout: (bytes) => chunks.push(...bytes) });
  await session.done;
  assert.deepEqual(chunks, [97, 13, 10, 98, 0xff, 0, 99]);
});

test('exec.attach resumes after the last event seen; after: 0 replays everything', async () => {
  const first = collector();
  const session = await agent.exec.start('echo one; read go; echo two', { onStdout: first.onBytes });
  await eventually(() => first.text === 'one\n', 10000, 'one');
  session.close();
  await assert.rejects(session.done, { errorCode: 'DETACHED' });
  await session.sendStdin('go\n');
  const resumed = collector();
  const again = agent.exec.attach(session.sessionId, { onStdout: resumed.onBytes });
  assert.equal((await again.done).exitCode, 0);
  assert.equal(resumed.text, 'two\n');
  const replay = collector();
  await agent.exec.attach(session.sessionId, { after: 0, onStdout: replay.onBytes }).done;
  assert.equal(replay.text, 'one\ntwo\n');
});

test('exec.start with a timeout ends the session and reports timedOut', async () => {
  const session = await agent.exec.start('sleep 30', { timeout: 1 });
  const exit = await session.wait(15000);
  assert.equal(exit.timedOut, true);
  assert.equal((await agent.exec.get(session.sessionId)).running, false);
});

test('bash returns the envelope as a result; a non-zero exit is ok, a timeout is ok: false', async () => {
  const done = await agent.bash('echo hi; exit 2', { cwd: '', env: { A: '1' } });
  assert.deepEqual([done.ok, done.exitCode, done.stdout], [true, 2, 'hi\n']);
  const slow = await agent.bash('sleep 10', { timeout: 1 });
  assert.deepEqual([slow.ok, slow.errorCode, slow.exitCode], [false, 'TIMEOUT', 124]);
});

test('a dropped stream reconnects with Last-Event-ID and delivers every byte exactly once', async () => {
  let cuts = 0;
  const resumedWith = [];
  // A fetch whose first two SSE responses break after their first chunk (as a flaky proxy would).
  const flaky = async (url, init) => {
    const response = await fetch(url, init);
    if (!String(url).includes('/stream')) return response;
    resumedWith.push(init.headers['last-event-id'] ?? null);
    if (cuts >= 2) return response;
    cuts++;
    const reader = response.body.getReader();
    let sent = false;
    // Break right after the first chunk that carried an event id (a comment-only chunk such as the
    // stream's opening line does not count), so the reconnect has an id to resume from.
    const body = new ReadableStream({
      async pull(controller) {
        if (sent) { await reader.cancel(); return controller.error(new TypeError('terminated')); }
        const { value, done } = await reader.read();
        if (done) return controller.close();
        if (new TextDecoder().decode(value).includes('id:')) sent = true;
        controller.enqueue(value);
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  const { AgentSandbox } = await import('../src/index.js');
  const flakyAgent = AgentSandbox.connect({ fetch: flaky }).attach(agent.id);
  const out = collector();
  const session = await flakyAgent.exec.start('for i in $(seq 1 40); do echo line $i; sleep 0.02; done', { onStdout: out.onBytes });
  await session.done;
  const expected = Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join('');
  assert.equal(out.text, expected);
  assert.equal(cuts, 2);
  assert.ok(resumedWith.length >= 3 && resumedWith[1] !== null, `resumed with ${JSON.stringify(resumedWith)}`);
});
