// What one connection may make the server hold, against the real binary
// (docs/SECURITY.md, "Slow, idle and long-lived connections"): a long
// catch-up comes in bounded pieces that a long-poll client resumes by pos,
// an archive day is served in bounded pages, so readers that stop reading
// pin little memory; what one address's unread replies hold is bounded
// (limits.max_buffered_bytes_per_address); and searches are queued with a
// bound per address.
// The room is prepared directly on disk (tens of MB), the memory is the
// server's resident size from /proc/<pid>/status, and every client is on
// loopback and stops by itself.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { get, makeTempDir, sleep, startServer, waitFor, withTimeout } from './lib/server.mjs';

const LIVE_POSTS = 20000;       // the live window's size (kMaxWindowPosts)
const LIVE_TEXT = 1000;         // bytes of each live post: ~20 MB in all
const DAY_POSTS = 5000;
const DAY_TEXT = 2000;          // an archive day of ~10 MB
const DAY = { y: 2024, m: '01', d: '15', sec: 1705320000 };  // 2024/01/15 12:00 UTC
const SHORT_LIVE_POSTS = 30;    // where the live log is not what is measured
const SILENT_READERS = 8;
// What the silent readers may add to the server's resident memory. Before
// the bounds each of them pinned a whole reply (~10-20 MB apiece); now one
// page of it. Reading a day needs a few times its size for a while, which
// the allocator may keep: that is in the bound too.
const MAX_GROWTH_MB = 48;

const line = (nick, sec, usec, text) => `("${nick}" (${sec} ${usec}) "${text}" "127.0.0.1")\n`;

// A data dir with `livePosts` posts in current.dat (dated now, so nothing
// is archived) and one archived day of DAY_POSTS posts.
function prepareRoom(dir, livePosts = LIVE_POSTS) {
  const data = path.join(dir, 'data', 'lobby', 'data');
  fs.mkdirSync(path.join(data, String(DAY.y), DAY.m), { recursive: true });
  const now = Math.floor(Date.now() / 1000) - 30;
  const filler = 'x'.repeat(LIVE_TEXT - 12);
  const live = [];
  for (let i = 0; i < livePosts; i++) live.push(line('live', now, i, `${String(i).padStart(8, '0')} ${filler}`));
  fs.writeFileSync(path.join(data, 'current.dat'), live.join(''));
  fs.writeFileSync(path.join(data, 'sequence'), String(DAY_POSTS + livePosts));
  const words = 'y'.repeat(DAY_TEXT - 12);
  const day = [];
  for (let i = 0; i < DAY_POSTS; i++) day.push(line('old', DAY.sec + Math.floor(i / 1000), i % 1000, `${String(i).padStart(8, '0')} ${words}`));
  fs.writeFileSync(path.join(data, String(DAY.y), DAY.m, `${DAY.d}.dat`), day.join(''));
  fs.writeFileSync(path.join(data, String(DAY.y), DAY.m, `${DAY.d}.cnt`), String(DAY_POSTS));
}

function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

// Sends `request` and never reads the answer; destroyed after the test.
function silentReader(t, port, request) {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  sock.on('connect', () => { sock.pause(); sock.write(request); });
  t.after(() => sock.destroy());
  return sock;
}

// What `sock` (paused so far) receives until the server closes it or
// `ms` pass.
function readFor(sock, ms) {
  return new Promise((resolve) => {
    const chunks = [];
    const done = () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')); };
    const timer = setTimeout(done, ms);
    sock.on('data', (c) => chunks.push(c));
    sock.on('close', done);
    sock.resume();
  });
}

// Resident memory once what the readers caused has had time to happen.
// `gapMs` between readers lets the server reuse the memory a reply took to
// make, so what is measured is what the silent readers keep.
async function growthAfter(srv, t, target, gapMs = 0) {
  const before = rssMb(srv.proc.pid);
  for (let i = 0; i < SILENT_READERS; i++) {
    silentReader(t, srv.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await sleep(gapMs);
  }
  await sleep(2000);
  assert.equal((await get(srv.roomUrl() + 'var/seq')).status, 200, 'the server still answers');
  const after = rssMb(srv.proc.pid);
  t.diagnostic(`${target}: resident ${before.toFixed(0)} MB -> ${after.toFixed(0)} MB`);
  return after - before;
}

describe('bounded memory under slow readers', () => {
  test('long-poll readers of a long live log that never read pin little memory', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t);
    prepareRoom(dir);
    const srv = await startServer(t, { dir });
    const growth = await growthAfter(srv, t, '/lobby/comet?t=1&c=&p=0&s=0');
    assert.ok(growth < MAX_GROWTH_MB, `${SILENT_READERS} silent long-poll readers added ${growth.toFixed(0)} MB`);
  });

  test('a long-poll client gets a long catch-up in pieces by asking again from each pos', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t);
    prepareRoom(dir);
    const srv = await startServer(t, { dir });
    const room = srv.roomUrl();
    let pos = DAY_POSTS;  // the first post of the live log follows the archived ones
    let cid = '';
    let got = 0;
    let replies = 0;
    for (;;) {
      const r = JSON.parse((await get(`${room}comet?t=1&c=${cid}&p=${pos}&s=0`)).text);
      cid = r.cid;
      replies++;
      if (r.content.length === 0) break;
      assert.equal(Number(r.content[0][2].slice(0, 8)), got, 'no gap, no repeat');
      got += r.content.length;
      assert.equal(r.pos, DAY_POSTS + got, 'pos is the last post carried');
      pos = r.pos;
      if (pos === DAY_POSTS + LIVE_POSTS) break;
      assert.ok(replies < 1000);
    }
    assert.equal(got, LIVE_POSTS);
    assert.ok(replies > 1, 'it came in more than one reply');
    t.diagnostic(`${LIVE_POSTS} posts in ${replies} replies`);
  });

  test('readers of a long archive day that never read pin little memory; the day is in pages', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t);
    prepareRoom(dir, SHORT_LIVE_POSTS);
    // One io thread: one allocator arena keeps what reading the day took.
    const srv = await startServer(t, { dir, site: { threads: 1 } });
    const dayUrl = `/lobby/a/${DAY.y}/${DAY.m}/${DAY.d}`;
    // Warm up: one reader that reads, so the heap the day's reading needs is there.
    const first = await get(srv.url + dayUrl);
    assert.equal(first.status, 200);
    const growth = await growthAfter(srv, t, dayUrl, 300);
    assert.ok(growth < MAX_GROWTH_MB, `${SILENT_READERS} silent archive readers added ${growth.toFixed(0)} MB`);

    const pages = /data-entry-pages="([^"]*)"/.exec(first.text);
    assert.ok(pages, 'a long day is shown in pages');
    const last = pages[1].split(' ').length;
    const lastPage = await get(`${srv.url}${dayUrl}?page=${last}`);
    assert.match(lastPage.text, new RegExp(`${String(DAY_POSTS - 1).padStart(8, '0')} `), 'the last page ends the day');
    assert.equal((await get(`${srv.url}${dayUrl}?page=0`)).status, 400);
  });
});

describe('bytes held per address', () => {
  // Less than one page of the day (~1.2 MB), so that one stuck reply fills
  // it and whatever else is being written meanwhile cannot hide that.
  const BUDGET_BYTES = 1 << 20;
  // Each reader asks for the day's first page PIPELINED times on one
  // connection and reads nothing: the kernel's socket buffers (up to a few
  // MB on loopback) take the first replies, then one stays in the server.
  // Without the budget each reader pins a page or more (~55 MB in all);
  // with it one page stays, plus what rendering the refused replies leaves
  // in the allocator (20-30 MB).
  const READERS = 16;
  const PIPELINED = 12;  // ~14 MB: more than the socket buffers take
  const MAX_BUDGET_GROWTH_MB = 44;

  test('non-reading clients from one address hit its budget: later ones get 429, another address is served', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t);
    prepareRoom(dir, SHORT_LIVE_POSTS);
    const srv = await startServer(t, {
      dir,
      site: { threads: 1 },
      limits: { max_buffered_bytes_per_address: BUDGET_BYTES },
    });
    const dayUrl = `${srv.url}/lobby/a/${DAY.y}/${DAY.m}/${DAY.d}`;
    assert.equal((await get(dayUrl)).status, 200);  // warm up, as above
    const before = rssMb(srv.proc.pid);
    const readers = [];
    const ask = `GET ${new URL(dayUrl).pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(PIPELINED);
    for (let i = 0; i < READERS; i++) {
      readers.push(silentReader(t, srv.port, ask));
      await sleep(200);
    }
    await sleep(1000);
    const growth = rssMb(srv.proc.pid) - before;
    t.diagnostic(`${READERS} silent readers from one address added ${growth.toFixed(0)} MB`);

    let refused;
    await waitFor(async () => (refused = await get(dayUrl)).status === 429,
      { ms: 15000, every: 300, what: 'the address to be over its budget' });
    assert.match(refused.text, /too much unread data is waiting for your address/);
    const other = await get(dayUrl, { localAddress: '127.0.0.2' });
    assert.equal(other.status, 200, 'another address is served');
    assert.match(other.text, /data-entry-pages=/);
    const got = await Promise.all(readers.map((r) => readFor(r, 3000)));
    const refusedReaders = got.filter((text) => /HTTP\/1\.1 429 [^]*too much unread data/.test(text)).length;
    t.diagnostic(`${refusedReaders} of ${READERS} silent readers were refused`);
    assert.ok(refusedReaders >= READERS / 2, 'the silent readers past the budget were refused');
    assert.ok(growth < MAX_BUDGET_GROWTH_MB, `${READERS} silent readers added ${growth.toFixed(0)} MB`);

    // Closing the readers gives their bytes back.
    for (const r of readers) r.destroy();
    await waitFor(async () => (await get(dayUrl)).status === 200, { what: 'the budget to come back' });
  });
});

describe('bounded searches', () => {
  test('searches beyond the per-address bound get 429 with a reason; the places come back', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t);
    prepareRoom(dir, SHORT_LIVE_POSTS);
    const srv = await startServer(t, { dir });
    const room = srv.roomUrl();
    // Each search reads the whole history (~10 MB) for a word that is nowhere.
    const replies = await withTimeout(
      Promise.all(Array.from({ length: 10 }, () => get(`${room}search?q=nowhere`, { timeout: 30000 }))),
      40000, 'the searches');
    const refused = replies.filter((r) => r.status === 429);
    const served = replies.filter((r) => r.status === 200);
    t.diagnostic(`${served.length} served, ${refused.length} refused`);
    assert.equal(served.length + refused.length, replies.length);
    assert.ok(refused.length > 0, 'some searches were refused');
    assert.ok(served.length >= 2, 'the ones within the bound were served');
    assert.match(refused[0].text, /too many searches/);
    assert.ok(refused[0].headers['retry-after']);
    assert.match(served[0].text, /No posts match/);
    // Once they are answered, the address may search again.
    assert.equal((await get(`${room}search?q=nowhere`, { timeout: 30000 })).status, 200);
  });
});
