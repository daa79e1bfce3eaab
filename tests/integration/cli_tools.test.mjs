// `chaton post` and `chaton watch` run the way a user runs them, against a
// real server: posting an argument or standard input, the permalink on
// success, the server's reason and exit 1 on a refusal, exit 2 for usage;
// watching two rooms at once, multi-line posts, the bell (and -s), and a
// clean end on Ctrl-C (SIGINT).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

import {
  CHATON_BIN, runChaton, CometClient, entryId, get, postOk, startServer, waitFor, withTimeout,
} from './lib/server.mjs';

const T = { timeout: 30000 };

const chaton = (args, { input, timeout = 15000 } = {}) => runChaton(args, { input, timeout });

// Starts `chaton watch ARGS` and keeps it running; `out()` is what it has
// printed so far.
function startWatch(t, args) {
  const p = spawn(CHATON_BIN, ['watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.setEncoding('utf8');
  p.stderr.setEncoding('utf8');
  p.stdout.on('data', (d) => { stdout += d; });
  p.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => p.kill('SIGKILL'));
  return { proc: p, exited, out: () => stdout, err: () => stderr };
}

// The texts the room holds, through the original protocol.
async function roomTexts(room) {
  const c = new CometClient(room);
  await c.login();
  c.pos = 0;
  const a = await c.poll();
  return a.content.map((e) => e[2]);
}

async function chatters(room) {
  return JSON.parse((await get(`${room}var/status.js`)).text)['num-chatters'];
}

describe('chaton post', () => {
  test('posts TEXT and prints the permalink', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const r = await chaton(['post', room, '--nick', 'cli', 'hello from the shell']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const link = r.stdout.trim();
    assert.match(link, new RegExp(`^${room.replace(/[.]/g, '\\.')}a/\\d{4}/\\d{2}/\\d{2}#entry-[0-9a-f]+-[0-9a-f]{2,}$`));
    assert.deepEqual(await roomTexts(room), ['hello from the shell']);

    // The permalink names the stored post.
    const c = new CometClient(room);
    await c.login();
    c.pos = 0;
    const [nick, [sec, usec]] = (await c.poll()).content[0];
    assert.equal(nick, 'cli');
    assert.ok(link.endsWith(`#${entryId(sec, usec)}`));

    // The URL without its final slash works too.
    const bare = await chaton(['post', room.slice(0, -1), '--nick', 'cli', 'second']);
    assert.equal(bare.code, 0, bare.stderr);
  });

  test('posts standard input when TEXT is absent', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const r = await chaton(['post', room, '--nick', 'pipe'], { input: 'line one\nline two\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await roomTexts(room), ['line one\nline two']);
  });

  test("a refusal exits 1 with the server's reason", T, async (t) => {
    const srv = await startServer(t, { limits: { text_limit: 10 } });
    const room = srv.roomUrl();
    const empty = await chaton(['post', room, '--nick', 'cli'], { input: '  \n' });
    assert.equal(empty.code, 1);
    assert.equal(empty.stderr, 'chaton post: text is empty\n');
    assert.equal(empty.stdout, '');

    const long = await chaton(['post', room, '--nick', 'cli', 'more than ten characters']);
    assert.equal(long.code, 1);
    assert.equal(long.stderr, 'chaton post: text is longer than 10 characters\n');

    const noRoom = await chaton(['post', `${srv.url}/nope/`, '--nick', 'cli', 'x']);
    assert.equal(noRoom.code, 1);
    assert.match(noRoom.stderr, /^chaton post: apilogin: no such room/);
    assert.deepEqual(await roomTexts(room), [], 'nothing was stored');

    await srv.stop();
    const down = await chaton(['post', room, '--nick', 'cli', 'x']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^chaton post: .*connecting: Connection refused/);
  });

  test('usage errors exit 2', T, async () => {
    const noNick = await chaton(['post', 'http://127.0.0.1:9/lobby/', 'text']);
    assert.equal(noNick.code, 2);
    assert.match(noNick.stderr, /--nick is missing/);
    const noUrl = await chaton(['post', '--nick', 'x']);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /usage: chaton post URL --nick NICK \[TEXT\]/);
    const help = await chaton(['post', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--nick/);
  });
});

describe('chaton watch', () => {
  test('prints every post of several rooms as [room] nick: text, silently with -s, until Ctrl-C', T, async (t) => {
    const srv = await startServer(t, {
      rooms: [{ slug: 'lobby', name: 'Lobby' }, { slug: 'gauche', name: 'Gauche Talk' }],
    });
    const lobby = srv.roomUrl('lobby');
    const gauche = srv.roomUrl('gauche');
    await postOk(lobby, 'old', 'before the watcher');
    const w = startWatch(t, ['-s', lobby, gauche]);
    await waitFor(async () => (await chatters(lobby)) >= 1 && (await chatters(gauche)) >= 1,
      { what: 'the watcher to join both rooms' });

    await postOk(lobby, 'alice', 'hello lobby');
    await postOk(gauche, 'bob', 'first line\nsecond line');
    await postOk(lobby, 'carol', 'ユニコード');
    await postOk(lobby, '猫', 'wide\nnick');
    const expected = [
      '[Lobby] alice: hello lobby',
      '[Gauche Talk] bob: first line',
      '                   second line',
      '[Lobby] carol: ユニコード',
      '[Lobby] 猫: wide',
      '            nick',  // 猫 takes two columns
    ];
    await waitFor(() => expected.every((l) => w.out().split('\n').includes(l)),
      { what: `all posts printed (got ${JSON.stringify(w.out())})` });
    const lines = w.out().split('\n').filter(Boolean);
    assert.equal(lines.length, 6, JSON.stringify(w.out()));
    const bob = lines.indexOf('[Gauche Talk] bob: first line');
    assert.equal(lines[bob + 1], '                   second line', 'continuation lines are indented');
    assert.ok(!w.out().includes('before the watcher'), 'only posts made while watching');
    assert.ok(!w.out().includes('\x07'), '-s rings no bell');

    w.proc.kill('SIGINT');
    const end = await withTimeout(w.exited, 5000, 'the watcher to stop on SIGINT');
    assert.deepEqual(end, { code: 0, signal: null });
    assert.equal(w.err(), '');
  });

  test('rings the bell after new posts unless -s', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const w = startWatch(t, [room]);
    await waitFor(async () => (await chatters(room)) >= 1, { what: 'the watcher to join' });
    await postOk(room, 'alice', 'ding');
    await waitFor(() => w.out().includes('\x07'), { what: 'the bell' });
    assert.equal(w.out(), '[Lobby] alice: ding\n\x07');
    w.proc.kill('SIGTERM');
    assert.equal((await withTimeout(w.exited, 5000, 'stop on SIGTERM')).code, 0);
  });

  test('says why when a room cannot be reached, and needs a URL', T, async (t) => {
    const srv = await startServer(t);
    const r = await chaton(['watch', `${srv.url}/nope/`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^chaton watch: http:\/\/\S+\/nope\/: apilogin: no such room/);
    const usage = await chaton(['watch', '-s']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: chaton watch \[-s\] URL\.\.\./);
  });

  test('keeps watching across a server restart', { timeout: 60000 }, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const w = startWatch(t, ['-s', room]);
    await waitFor(async () => (await chatters(room)) >= 1, { what: 'the watcher to join' });
    await postOk(room, 'a', 'one');
    await waitFor(() => w.out().includes('[Lobby] a: one'), { what: 'the first post' });

    await srv.stop();
    await waitFor(() => w.err().includes('retrying'), { what: 'the watcher to notice', ms: 15000 });
    // The same port and data: the watcher comes back within its 5-15 s back-off.
    const again = await startServer(t, { dir: srv.dir, site: { listen: `127.0.0.1:${srv.port}` } });
    await waitFor(async () => (await chatters(again.roomUrl())) >= 1,
      { what: 'the watcher to come back', ms: 25000, every: 250 });
    await postOk(again.roomUrl(), 'b', 'two');
    await waitFor(() => w.out().includes('[Lobby] b: two'), { what: 'the post after the restart' });
    assert.equal(w.out(), '[Lobby] a: one\n[Lobby] b: two\n');
  });
});
