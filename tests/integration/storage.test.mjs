// Storage (docs/STORAGE.md): a data directory in the original
// format is served as it is, including escapes, UTF-8, old lines without an
// address, unreadable lines and a torn last line; and acknowledged posts
// survive a kill -9 in the middle of a burst of posts.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  datLines, entryId, get, makeTempDir, post, postOk, readAlist, readLogLine, startServer, withTimeout,
} from './lib/server.mjs';

// The original log, byte for byte as an original installation may leave it.
// `good` lists the posts the readable lines hold, in order.
const ORIGINAL = [
  String.raw`("alice" (1700000000 1) "say \"hi\" \\ back\nline2\tTab \x01; end" "127.0.0.1")`,
  '("太郎" (1700000001 20) "こんにちは 🎉 emoji" "::1")',
  '("old" (1700000002 300) "no address")',
  'this line is garbage',
  '',
  String.raw`("carol" (1700000003 4000) "caf\u00e9 \x41 \x3042; older escapes")`,
  '("frank" (1700000004 5) "crlf ending" "10.0.0.2")\r',
  '("dave" (1700000004 999999) "last good line" "10.0.0.1")',
];
const TORN = '("eve" (1700000005 5) "cut mid-str';
const GOOD = [
  ['alice', 1700000000, 1, 'say "hi" \\ back\nline2\tTab \x01 end'],
  ['太郎', 1700000001, 20, 'こんにちは 🎉 emoji'],
  ['old', 1700000002, 300, 'no address'],
  ['carol', 1700000003, 4000, 'café A あ older escapes'],
  ['frank', 1700000004, 5, 'crlf ending'],
  ['dave', 1700000004, 999999, 'last good line'],
];

describe('an original data directory', () => {
  test('is served as it is: readable posts, pos from sequence, torn tail repaired', { timeout: 20000 }, async (t) => {
    const dir = makeTempDir(t);
    const orig = path.join(dir, 'original-gauche');
    fs.mkdirSync(path.join(orig, 'data'), { recursive: true });
    const current = path.join(orig, 'data', 'current.dat');
    const originalBytes = Buffer.from(ORIGINAL.join('\n') + '\n' + TORN);
    fs.writeFileSync(current, originalBytes);
    fs.writeFileSync(path.join(orig, 'data', 'sequence'), '100\n');

    const rooms = [{ slug: 'gauche', name: 'Gauche', data_dir: orig }];
    const srv = await startServer(t, { dir, rooms });
    const room = srv.roomUrl('gauche');
    const { stdout } = srv.output();
    assert.match(stdout, /current\.dat:4: unreadable line skipped/, stdout);
    assert.match(stdout, /current\.dat:9: unreadable line skipped/, 'the torn line is reported');
    assert.match(stdout, /no newline/);
    assert.match(stdout, /100 posts so far/);

    // The torn tail got its newline; nothing else changed.
    const repaired = fs.readFileSync(current);
    assert.deepEqual(repaired, Buffer.concat([originalBytes, Buffer.from('\n')]));
    assert.equal(fs.readFileSync(path.join(orig, 'lock'), 'utf8'), 'lockfile\n');
    assert.ok(fs.statSync(path.join(orig, 'logs')).isDirectory());

    const s1 = await get(room + 'comet?t=1&c=&p=0&s=1');
    const r = readAlist(s1.text);
    assert.equal(r.pos, 100, 'the newest post has seq = sequence');
    assert.deepEqual(r.content.map(([n, [s, u], x]) => [n, s, u, x]), GOOD);
    assert.match(s1.text, /"say \\"hi\\" \\\\ back\\nline2\\tTab \\x01; end"/, 'written back with the same escapes');
    const j = JSON.parse((await get(room + 'comet?t=1&c=&p=0&s=0')).text);
    assert.equal(j.pos, 100);
    assert.deepEqual(j.content.map(([n, [s, u], x]) => [n, s, u, x]), GOOD);
    const fromMiddle = readAlist((await get(room + 'comet?t=1&c=&p=97&s=1')).text);
    assert.deepEqual(fromMiddle.content.map((p) => p[0]), ['carol', 'frank', 'dave'], 'seqs 98..100');

    const st = JSON.parse((await get(room + 'var/status.js')).text);
    assert.equal(st['post-sequence'], 100);
    assert.equal(st['last-post'], 1700000004);

    // A new post goes on a line of its own after the repaired tail.
    const ack = await postOk(room, 'new', 'after the torn line');
    assert.equal(ack.pos, 101);
    const lines = datLines(current);
    assert.equal(lines.length, ORIGINAL.length + 2);
    const bad = new Set([4, 5, 9]); // garbage, blank, torn (1-based)
    lines.forEach((line, i) => {
      const n = i + 1;
      if (bad.has(n)) return;
      assert.ok(readLogLine(line.replace(/\r$/, '')), `line ${n} reads back: ${line}`);
    });
    assert.equal(lines[8], TORN);
    const last = readLogLine(lines.at(-1));
    assert.deepEqual([last.nick, last.text, last.ip], ['new', 'after the torn line', '127.0.0.1']);
    assert.equal(entryId(last.sec, last.usec), ack.id);
    assert.equal(fs.readFileSync(path.join(orig, 'data', 'sequence'), 'utf8').trim(), '101');
    assert.equal(Number(fs.readFileSync(path.join(orig, 'data', 'last-post'), 'utf8').trim()), last.sec);
    const onlyNew = readAlist((await get(room + 'comet?t=1&c=&p=100&s=1')).text);
    assert.deepEqual(onlyNew.content.map((p) => p[2]), ['after the torn line']);

    // And once more after a restart.
    await srv.stop();
    const again = await startServer(t, { dir, rooms });
    const all = readAlist((await get(again.roomUrl('gauche') + 'comet?t=1&c=&p=0&s=1')).text);
    assert.equal(all.pos, 101);
    assert.equal(all.content.length, GOOD.length + 1);
    assert.doesNotMatch(again.output().stdout, /no newline/, 'nothing to repair the second time');
  });
});

describe('sequence and tail rules (STORAGE.md)', () => {
  test('a complete last line without newline is kept; a too small sequence is raised to the count', { timeout: 20000 }, async (t) => {
    const dir = makeTempDir(t);
    const data = path.join(dir, 'data', 'lobby', 'data');
    fs.mkdirSync(data, { recursive: true });
    const current = path.join(data, 'current.dat');
    fs.writeFileSync(current, '("a" (1700000000 0) "one" "10.0.0.1")\n("b" (1700000001 1) "two")');
    fs.writeFileSync(path.join(data, 'sequence'), '1');
    const srv = await startServer(t, { dir });
    const room = srv.roomUrl();
    assert.match(srv.output().stdout, /fewer than the posts in current\.dat/);
    const r = readAlist((await get(room + 'comet?t=1&c=&p=0&s=1')).text);
    assert.equal(r.pos, 2);
    assert.deepEqual(r.content.map((p) => p[2]), ['one', 'two'], 'the unterminated but complete line is a post');
    const ack = await postOk(room, 'c', 'three');
    assert.equal(ack.pos, 3);
    assert.deepEqual(datLines(current).map((l) => readLogLine(l)?.text), ['one', 'two', 'three']);
    await srv.stop();

    // Without a sequence file the count of posts is used.
    fs.unlinkSync(path.join(data, 'sequence'));
    const again = await startServer(t, { dir });
    assert.equal((await get(again.roomUrl() + 'var/seq')).text.trim(), '3');
  });
});

// Posts TOTAL unique texts with CONCURRENCY workers and kills the server
// with SIGKILL as soon as KILL_AFTER posts are acknowledged. Returns the
// acknowledged posts ({ text, pos, id, permalink }) and counters.
async function crashBurst(srv, { total = 300, concurrency = 30, killAfter = 100 } = {}) {
  const room = srv.roomUrl();
  const tag = Math.random().toString(36).slice(2, 8);
  const acked = [];
  let next = 0;
  let killed = false;
  let failed = 0;
  let sentWhenKilled = null;
  async function worker() {
    while (!killed && next < total) {
      const i = next++;
      const text = `crash ${tag} #${i}`;
      try {
        const r = await post(room, { nick: `w${i % concurrency}`, text }, { timeout: 5000 });
        if (r.status !== 200) { failed++; continue; }
        acked.push({ text, ...JSON.parse(r.text) });
        if (acked.length === killAfter && !killed) {
          killed = true;
          sentWhenKilled = next;
          srv.proc.kill('SIGKILL');
        }
      } catch {
        failed++;
      }
    }
  }
  await withTimeout(Promise.all(Array.from({ length: concurrency }, worker)), 20000, 'post burst');
  const exit = await withTimeout(srv.exited, 5000, 'server exit');
  return { acked, failed, sentWhenKilled, exit, tag };
}

// The seq of every post in a comet s=0 reply from p=0, by text.
async function seqsByText(room) {
  const reply = JSON.parse((await get(room + 'comet?t=1&c=&p=0&s=0')).text);
  const seqOf = new Map();
  reply.content.forEach((p, k) => {
    assert.ok(!seqOf.has(p[2]), `delivered once: ${p[2]}`);
    seqOf.set(p[2], reply.pos - (reply.content.length - 1 - k));
  });
  return { seqOf, pos: reply.pos };
}

describe('crash safety', () => {
  test('every acknowledged post survives kill -9 exactly once, and the sequence continues', { timeout: 30000 }, async (t) => {
    const dir = makeTempDir(t);
    const srv = await startServer(t, { dir });
    const current = path.join(dir, 'data', 'lobby', 'data', 'current.dat');
    const KILL_AFTER = 100;
    const { acked, failed, sentWhenKilled, exit, tag } = await crashBurst(srv, { killAfter: KILL_AFTER });
    assert.equal(exit.signal, 'SIGKILL', 'the server was killed, not finished');
    console.log(`crash test: ${acked.length} acknowledged, ${failed} failed, ${sentWhenKilled} sent when killed`);
    assert.ok(acked.length >= KILL_AFTER);

    // On disk: each acknowledged post exactly once, with the id it was given.
    const lines = datLines(current);
    const parsed = lines.map(readLogLine);
    const count = new Map();
    parsed.forEach((p) => { if (p) count.set(p.text, (count.get(p.text) ?? 0) + 1); });
    for (const a of acked) {
      assert.equal(count.get(a.text), 1, `${a.text} stored once`);
      const p = parsed.find((x) => x && x.text === a.text);
      assert.equal(entryId(p.sec, p.usec), a.id);
    }
    for (const [text, n] of count) assert.equal(n, 1, `no post stored twice: ${text}`);
    const unreadable = parsed.filter((p) => !p).length;
    assert.ok(unreadable <= 1, `at most a torn last line, got ${unreadable} unreadable lines`);
    console.log(`crash test: ${parsed.length - unreadable} posts on disk, ${unreadable} unreadable lines`);

    // After a restart: the comet reply from p=0 has them all, each at its pos.
    const again = await startServer(t, { dir });
    const r2 = again.roomUrl();
    const { seqOf, pos } = await seqsByText(r2);
    for (const a of acked) assert.equal(seqOf.get(a.text), a.pos, `${a.text} keeps pos ${a.pos}`);
    const maxAck = Math.max(...acked.map((a) => a.pos));
    const seq = Number((await get(r2 + 'var/seq')).text);
    assert.ok(seq >= maxAck, `sequence ${seq} >= highest acknowledged pos ${maxAck}`);
    assert.equal(seq, pos);
    const after = await postOk(r2, 'after', `after the crash ${tag}`);
    assert.equal(after.pos, seq + 1);
    assert.ok(after.pos > maxAck);
    const newest = readAlist((await get(`${r2}comet?t=1&c=&p=${seq}&s=1`)).text);
    assert.deepEqual(newest.content.map((p) => p[2]), [`after the crash ${tag}`]);
  });

  test('in a room with history (sequence above the posts in current.dat) acknowledged posts keep their pos after kill -9', {
    timeout: 30000,
  }, async (t) => {
    // The usual state of a room after the daily archiver ran, or of an
    // original installation: `sequence` counts more posts than current.dat holds.
    for (let attempt = 1; attempt <= 8; attempt++) {
      const dir = makeTempDir(t);
      const data = path.join(dir, 'data', 'lobby', 'data');
      fs.mkdirSync(data, { recursive: true });
      fs.writeFileSync(path.join(data, 'sequence'), '1000');
      const srv = await startServer(t, { dir });
      const { acked } = await crashBurst(srv, { total: 150, killAfter: 20 + 8 * attempt });
      const again = await startServer(t, { dir });
      const { seqOf, pos } = await seqsByText(again.roomUrl());
      const moved = acked.filter((a) => seqOf.get(a.text) !== a.pos);
      const onDisk = datLines(path.join(data, 'current.dat')).length;
      assert.equal(moved.length, 0,
        `attempt ${attempt}: ${moved.length} of ${acked.length} acknowledged posts changed pos `
        + `(e.g. ${moved[0]?.text}: acknowledged as ${moved[0]?.pos}, now ${seqOf.get(moved[0]?.text)}); `
        + `${onDisk} posts on disk, sequence now ${pos}`);
      await again.stop();
    }
  });
});
