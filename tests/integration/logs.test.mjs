// The logs an operator rotates (docs/DEPLOY.md, "Logs"): SIGUSR1 reopens
// every log file the server appends to, so logrotate can rename them
// (no copytruncate) and the next lines go to new files; the access log
// (logs/comet.log) can go to standard error (journald) or nowhere
// (`site.access_log`, docs/CONFIG.md).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { get, post, postOk, startServer, waitFor } from './lib/server.mjs';

const T = { timeout: 30000 };

const readOr = (file, fallback = '') => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : fallback);
const logsOf = (server, slug = 'lobby') => path.join(server.dir, 'data', slug, 'logs');

test('SIGUSR1 reopens the logs: after a rename the next lines go to new files', T, async (t) => {
  const server = await startServer(t);
  const room = server.roomUrl();
  const logs = logsOf(server);
  const files = ['comet.log', 'post.log', 'api.log'];

  await get(room);
  await postOk(room, 'bot', 'before the rotation');
  await post(room, { who: 'before' }, { path: 'apilogin' });
  // The logs are written out once a second.
  await waitFor(() => files.every((f) => readOr(path.join(logs, f)).length > 0), { what: 'the first lines' });

  for (const f of files) fs.renameSync(path.join(logs, f), path.join(logs, `${f}.1`));
  server.proc.kill('SIGUSR1');
  await waitFor(() => server.output().stderr.includes('SIGUSR1: log files reopened'), { what: 'the reopen' });

  await get(`${room}?after`);
  const after = await postOk(room, 'bot', 'after the rotation');
  await post(room, { who: 'after' }, { path: 'apilogin' });
  await waitFor(() => files.every((f) => readOr(path.join(logs, f)).length > 0), { what: 'the new files' });

  assert.match(readOr(path.join(logs, 'comet.log')), /"GET \/lobby\/\?after" 200/);
  assert.match(readOr(path.join(logs, 'post.log')), new RegExp(`post ${after.pos} `));
  assert.match(readOr(path.join(logs, 'api.log')), /after/);
  for (const f of files) {
    const old = readOr(path.join(logs, `${f}.1`));
    assert.ok(old.length > 0, `${f}.1 keeps what came before`);
    assert.doesNotMatch(old, /after/, `${f}.1 gets nothing after the reopen`);
  }
  assert.equal((await server.stop()).code, 0, 'the server lives on after SIGUSR1');
});

test('access_log = "off" writes no access log; the other logs go on', T, async (t) => {
  const server = await startServer(t, { site: { access_log: 'off' } });
  const room = server.roomUrl();
  await get(room);
  await postOk(room, 'bot', 'hello');
  await waitFor(() => readOr(path.join(logsOf(server), 'post.log')).includes('post 1 '), { what: 'post.log' });
  await server.stop();  // flushes whatever is buffered
  assert.equal(fs.existsSync(path.join(logsOf(server), 'comet.log')), false);
  assert.doesNotMatch(server.output().stderr, /GET \/lobby\//);
});

test('access_log = "stderr" sends each request to standard error, naming the room', T, async (t) => {
  const server = await startServer(t, { site: { access_log: 'stderr' } });
  const room = server.roomUrl();
  await get(`${room}?to-stderr`);
  await waitFor(() => /access lobby: 127\.0\.0\.1 "GET \/lobby\/\?to-stderr" 200 \d+/.test(server.output().stderr),
    { what: 'the access line on stderr' });
  const line = server.output().stderr.split('\n').find((l) => l.includes('?to-stderr'));
  assert.match(line, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d UTC access lobby: /);
  await server.stop();
  assert.equal(fs.existsSync(path.join(logsOf(server), 'comet.log')), false);
});
