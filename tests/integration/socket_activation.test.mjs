// Socket activation (docs/DEPLOY.md, "Restarts and upgrades"): started the
// way systemd's chaton.socket starts it, the server accepts on the socket it
// is given (descriptor 3, LISTEN_FDS, LISTEN_PID) instead of binding its
// `listen` address, and a restart refuses no connection: those made while
// no server runs wait in the socket's queue and are answered by the next one.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import { CHATON_BIN, get, makeTempDir, postOk, waitFor, withTimeout } from './lib/server.mjs';

const LAUNCHER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'socket_activate.py');

// lib/socket_activate.py around `chaton serve ARGS`: send('start'|'stop'|'queued')
// resolves with its answer line.
async function activated(t, args) {
  const p = spawn('python3', [LAUNCHER, '127.0.0.1', '0', CHATON_BIN, 'serve', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => p.kill('SIGKILL'));
  let log = '';
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (d) => { log += d; });
  const lines = readline.createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const next = async (what) => {
    const r = await withTimeout(lines.next(), 10000, what);
    assert.ok(!r.done, `the launcher ended: ${log}`);
    return r.value;
  };
  const [, , port] = (await next('listening')).split(' ');
  return {
    port: Number(port),
    log: () => log,
    async send(command) {
      p.stdin.write(`${command}\n`);
      return next(command);
    },
  };
}

describe('socket activation', () => {
  test('the server accepts on the socket it is given, not on its listen address', { timeout: 30000 }, async (t) => {
    const dir = makeTempDir(t, 'activated-');
    // A listen address already taken: binding it would fail.
    const a = await activated(t, ['--data', path.join(dir, 'data'), '--listen', '127.0.0.1:1']);
    assert.match(await a.send('start'), /^started \d+$/);
    const room = `http://127.0.0.1:${a.port}/lobby/`;
    const page = await get(room, { timeout: 10000 });
    assert.equal(page.status, 200, a.log());
    assert.match(a.log(), new RegExp(`listening on http://127\\.0\\.0\\.1:${a.port}/ \\(.*socket from the service manager\\)`));
    assert.equal(await a.send('stop'), 'stopped 0');
  });

  test('a restart refuses no connection: those made meanwhile wait and are answered', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t, 'restart-');
    const a = await activated(t, ['--data', path.join(dir, 'data')]);
    await a.send('start');
    const room = `http://127.0.0.1:${a.port}/lobby/`;
    await postOk(room, 'alice', 'before the restart');
    assert.equal(await a.send('stop'), 'stopped 0');

    // No server runs now: these connect (the socket is listening) and wait.
    const waiting = [];
    for (let i = 0; i < 5; i++) waiting.push(get(`${room}var/seq`, { timeout: 20000 }));
    const posting = postOk(room, 'bob', 'during the restart', { timeout: 20000 });
    // All six are in the socket's accept queue before the server starts.
    await waitFor(async () => Number((await a.send('queued')).split(' ')[1]) >= 6,
      { what: 'six connections queued on the socket' });
    assert.match(await a.send('start'), /^started \d+$/);

    for (const r of await Promise.all(waiting)) assert.equal(r.status, 200, a.log());
    const ack = await posting;
    assert.equal(ack.pos, 2, 'the post made while no server ran is stored after the first');
    assert.equal(await a.send('stop'), 'stopped 0');
  });
});
