// The push transports end to end against the real binary (docs/PROTOCOL.md,
// "Push streams"): Server-Sent Events (`events?p=POS`) and WebSocket
// (`ws?p=POS`) — the backlog after p, live delivery, resuming with no gap and
// no repeat, a reader that stops reading being dropped while the server stays
// healthy, malformed WebSocket messages answered with an error on an open
// socket, and posting over WebSocket with the same validation as POST. A
// standard WebSocket client (Node's, behind --experimental-websocket) runs as a
// child.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

import { get, postOk, sleep, startServer, waitFor, withTimeout } from './lib/server.mjs';
import { OP, RawWebSocket, openSse, packetTexts, rawStream, wsFrame } from './lib/push.mjs';

const T = { timeout: 30000 };

// Big posts fill a stopped reader's socket buffers and the server's 1 MiB
// queue quickly: 220 posts of 48 KiB are ~10 MiB, well past what the
// kernel buffers of a loopback connection hold.
const BIG_TEXT_CHARS = 48 * 1024;
const BIG_POSTS = 220;
const BIG_LIMITS = { text_limit: 100000, max_body_bytes: 1 << 20 };
// A live log of ~1.9 MiB: a catch-up from p=0 is well over the 1 MiB a
// stream may have queued.
const CATCH_UP_POSTS = 40;

// Posts textOf(0..count-1), `concurrency` at a time; returns the texts in
// the room's order (by the pos each was given).
async function postMany(room, count, textOf, concurrency = 4) {
  let next = 0;
  const byPos = [];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      const text = textOf(i);
      const ack = await postOk(room, 'flood', text);
      byPos.push([ack.pos, text]);
    }
  }));
  return byPos.sort((a, b) => a[0] - b[0]).map(([, text]) => text);
}

// A burst: posts that land in few commits, one of them with more than a
// packet's worth (256 KiB) of text, posted all at once from one address
// that the post rate does not apply to (the machine itself).
const BURST_POSTS = 60;
const BURST_CONCURRENCY = 8;

// The next SSE event that carries posts (pings carry none).
async function nextWithPosts(stream, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const e = await stream.next(Math.max(1, end - Date.now()));
    if (e.data.content.length) return e;
  }
}

const withPosts = (m) => Array.isArray(m.content) && m.content.length > 0;

describe('Server-Sent Events: events?p=POS', () => {
  test('sends the backlog after p at once, then each new post live, ids being pos', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    for (const text of ['one', 'two', 'three']) await postOk(room, 'alice', text);

    const stream = await openSse(`${room}events?p=1`);
    t.after(() => stream.close());
    assert.equal(stream.res.status, 200);
    assert.match(stream.res.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(stream.res.headers.get('cache-control'), 'no-cache');

    const backlog = await nextWithPosts(stream);
    assert.equal(backlog.id, '3');
    assert.equal(backlog.data.pos, 3);
    assert.deepEqual(packetTexts(backlog.data), ['two', 'three']);
    assert.equal(backlog.data.content[0][0], 'alice');
    assert.ok(Number.isInteger(backlog.data.cid) && backlog.data.cid > 0);

    const ack = await postOk(room, 'bob', 'live <b>&</b>');
    const live = await nextWithPosts(stream);
    assert.equal(live.id, String(ack.pos));
    assert.deepEqual(live.data.content.map((e) => [e[0], e[2]]), [['bob', 'live <b>&</b>']]);
    assert.equal(stream.parser.retry, 5000, 'the stream tells EventSource how long to wait');
  });

  test('resumes from Last-Event-ID with no gap and no repeat', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    await postOk(room, 'a', 'a1');
    await postOk(room, 'a', 'a2');

    const first = await openSse(`${room}events?p=0`);
    const seen = await nextWithPosts(first);
    assert.deepEqual(packetTexts(seen.data), ['a1', 'a2']);
    first.close();

    for (const text of ['b1', 'b2', 'b3']) await postOk(room, 'b', text);
    // Last-Event-ID wins over p, as when EventSource reconnects to its URL.
    const again = await openSse(`${room}events?p=0`, { headers: { 'Last-Event-ID': seen.id } });
    t.after(() => again.close());
    const missed = await nextWithPosts(again);
    assert.equal(missed.id, '5');
    assert.deepEqual(packetTexts(missed.data), ['b1', 'b2', 'b3']);
    await postOk(room, 'c', 'c1');
    const live = await nextWithPosts(again);
    assert.equal(live.id, '6');
    assert.deepEqual(packetTexts(live.data), ['c1']);

    const bad = await get(`${room}events`, { headers: { 'Last-Event-ID': 'x' } });
    assert.equal(bad.status, 400);
  });

  test('a catch-up over 1 MiB after p=0 arrives whole, in pieces, then live posts follow', { timeout: 60000 }, async (t) => {
    const srv = await startServer(t, { limits: BIG_LIMITS });
    const room = srv.roomUrl();
    const big = 'x'.repeat(BIG_TEXT_CHARS);
    const inOrder = await postMany(room, CATCH_UP_POSTS, (i) => `${i} ${big}`);

    const stream = await openSse(`${room}events?p=0`);
    t.after(() => stream.close());
    const texts = [];
    let last;
    while (texts.length < CATCH_UP_POSTS) {
      last = await nextWithPosts(stream);
      texts.push(...packetTexts(last.data));
    }
    assert.equal(last.data.pos, CATCH_UP_POSTS);
    // As received: every post once, in the room's order.
    assert.deepEqual(texts.map((x) => x.split(' ')[0]), inOrder.map((x) => x.split(' ')[0]));
    await postOk(room, 'after', 'live again');
    assert.deepEqual(packetTexts((await nextWithPosts(stream)).data), ['live again']);
  });

  test('a reader that stops reading is cut off; the server stays healthy', { timeout: 120000 }, async (t) => {
    const srv = await startServer(t, { limits: BIG_LIMITS });
    const room = srv.roomUrl();
    const slow = rawStream(srv.port, `GET /lobby/events?p=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    t.after(() => slow.destroy());
    await waitFor(() => slow.bytes > 0, { what: 'the stream header' });
    slow.pause();

    const big = 'x'.repeat(BIG_TEXT_CHARS);
    await postMany(room, BIG_POSTS, (i) => `${i} ${big}`);
    await sleep(500);
    slow.resume();
    const closed = await withTimeout(slow.ended, 20000, 'the slow stream to be closed');
    assert.ok(closed);
    const received = (slow.text().match(/^id: /gm) ?? []).length;
    t.diagnostic(`the stopped reader got ${received} events, ${slow.bytes} bytes, before the cut`);
    assert.ok(slow.text().startsWith('HTTP/1.1 200'), slow.text().slice(0, 100));
    assert.ok(slow.bytes < BIG_POSTS * BIG_TEXT_CHARS,
      `the reader got ${slow.bytes} bytes (${received} events) of ~${BIG_POSTS * BIG_TEXT_CHARS}: it was cut off`);

    // Everyone else is served as before.
    assert.equal((await get(`${room}var/seq`)).text.trim(), String(BIG_POSTS));
    const fresh = await openSse(`${room}events?p=${BIG_POSTS}`);
    t.after(() => fresh.close());
    await postOk(room, 'after', 'still here');
    assert.deepEqual(packetTexts((await nextWithPosts(fresh)).data), ['still here']);
  });
});

describe('WebSocket: ws?p=POS', () => {
  test('sends the backlog after p, then each new post live', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    for (const text of ['one', 'two', 'three']) await postOk(room, 'alice', text);

    const ws = await RawWebSocket.connect(srv.port, '/lobby/ws?p=1');
    t.after(() => ws.destroy());
    const backlog = await ws.nextMatching(withPosts);
    assert.equal(backlog.pos, 3);
    assert.deepEqual(packetTexts(backlog), ['two', 'three']);
    assert.deepEqual(Object.keys(backlog), ['pos', 'nc', 'ver', 'cid', 'content']);

    await postOk(room, 'bob', 'live');
    const live = await ws.nextMatching(withPosts);
    assert.equal(live.pos, 4);
    assert.deepEqual(packetTexts(live), ['live']);
    ws.end();
    assert.equal((await withTimeout(ws.closed, 5000, 'close')).code, 1000);
  });

  test('a reconnecting client resumes from its last pos with no gap and no repeat', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    await postOk(room, 'a', 'a1');
    const first = await RawWebSocket.connect(srv.port, '/lobby/ws?p=0');
    const seen = await first.nextMatching(withPosts);
    assert.deepEqual(packetTexts(seen), ['a1']);
    first.destroy();  // the network drops it

    for (const text of ['b1', 'b2']) await postOk(room, 'b', text);
    const again = await RawWebSocket.connect(srv.port, `/lobby/ws?p=${seen.pos}`);
    t.after(() => again.destroy());
    const texts = [];
    texts.push(...packetTexts(await again.nextMatching(withPosts)));
    await postOk(room, 'c', 'c1');
    while (texts.length < 3) texts.push(...packetTexts(await again.nextMatching(withPosts)));
    assert.deepEqual(texts, ['b1', 'b2', 'c1']);

    await assert.rejects(RawWebSocket.connect(srv.port, '/lobby/ws?p=abc'), (e) => e.status === 400);
    await assert.rejects(RawWebSocket.connect(srv.port, '/nope/ws'), (e) => e.status === 404);
  });

  test('a catch-up over 1 MiB after p=0 arrives whole, in pieces, then live posts follow', { timeout: 60000 }, async (t) => {
    const srv = await startServer(t, { limits: BIG_LIMITS });
    const room = srv.roomUrl();
    const big = 'x'.repeat(BIG_TEXT_CHARS);
    const inOrder = await postMany(room, CATCH_UP_POSTS, (i) => `${i} ${big}`);

    const ws = await RawWebSocket.connect(srv.port, '/lobby/ws?p=0');
    t.after(() => ws.destroy());
    const texts = [];
    let last;
    while (texts.length < CATCH_UP_POSTS) {
      last = await ws.nextMatching(withPosts);
      texts.push(...packetTexts(last));
    }
    assert.equal(last.pos, CATCH_UP_POSTS);
    assert.deepEqual(texts.map((x) => x.split(' ')[0]), inOrder.map((x) => x.split(' ')[0]));
    await postOk(room, 'after', 'live again');
    assert.deepEqual(packetTexts(await ws.nextMatching(withPosts)), ['live again']);
  });

  test('a reader that stops reading is closed with 1013; the server stays healthy', { timeout: 120000 }, async (t) => {
    const srv = await startServer(t, { limits: BIG_LIMITS });
    const room = srv.roomUrl();
    const slow = await RawWebSocket.connect(srv.port, '/lobby/ws?p=0');
    t.after(() => slow.destroy());
    slow.pause();

    const big = 'x'.repeat(BIG_TEXT_CHARS);
    await postMany(room, BIG_POSTS, (i) => `${i} ${big}`);
    await sleep(500);
    slow.resume();
    const closed = await withTimeout(slow.closed, 30000, 'the slow reader to be closed');
    assert.equal(closed.code, 1013, JSON.stringify(closed));
    assert.match(closed.reason, /slow/);
    const delivered = slow.messages.map((m) => JSON.parse(m)).flatMap(packetTexts).length;
    t.diagnostic(`the stopped reader got ${delivered} posts, ${slow.bytes} bytes, before the close`);
    assert.ok(delivered < BIG_POSTS, `got ${delivered} of ${BIG_POSTS} posts before being closed`);

    const fresh = await RawWebSocket.connect(srv.port, `/lobby/ws?p=${BIG_POSTS}`);
    t.after(() => fresh.destroy());
    await postOk(room, 'after', 'still here');
    assert.deepEqual(packetTexts(await fresh.nextMatching(withPosts)), ['still here']);
    assert.equal((await get(`${room}var/seq`)).text.trim(), String(BIG_POSTS + 1));
  });

  test('a malformed message gets an error answer and the socket stays open', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const ws = await RawWebSocket.connect(srv.port, `/lobby/ws?p=0`);
    t.after(() => ws.destroy());
    const isError = (m) => m.error !== undefined;
    for (const bad of ['not json', '[1,2]', '{"nick":"a"}', '{"nick":1,"text":"x"}', '{"nick":"a","text":']) {
      ws.send(bad);
      const answer = await ws.nextMatching(isError);
      assert.equal(answer.error.status, 400, bad);
      assert.match(answer.error.message, /malformed/, bad);
    }
    // A message split over two frames is one message.
    ws.sendRaw(wsFrame(OP.text, '{"nick":"frag","te', { fin: false }));
    ws.sendRaw(wsFrame(OP.continuation, 'xt":"in two frames"}'));
    // The live packet and the answer both come, the packet first (a post
    // is visible before its writer hears "ok").
    const got = [];
    while (!(got.some((m) => m.posted) && got.some(withPosts))) got.push(await ws.next());
    const posted = got.find((m) => m.posted);
    assert.equal(posted.posted.pos, 1);
    const live = got.find(withPosts);
    assert.deepEqual(live.content.map((e) => [e[0], e[2]]), [['frag', 'in two frames']]);
    assert.equal(ws.close, null, 'still open');

    // A binary frame is not a chat message: the server closes with 1008.
    ws.sendRaw(wsFrame(OP.binary, Buffer.from([1, 2, 3])));
    const closed = await withTimeout(ws.closed, 5000, 'close after a binary frame');
    assert.equal(closed.code, 1008);
    assert.equal((await get(`${room}var/seq`)).text.trim(), '1');
  });

  test('a message longer than one read of the socket (several KiB, over two frames) is posted whole', T, async (t) => {
    const srv = await startServer(t, { limits: { text_limit: 5000 } });
    const room = srv.roomUrl();
    const ws = await RawWebSocket.connect(srv.port, '/lobby/ws?p=0');
    t.after(() => ws.destroy());
    const text = Array.from({ length: 600 }, (_, i) => String(i).padStart(5, '0')).join(' ');  // 3,599 chars
    const message = JSON.stringify({ nick: 'long', text });
    const half = Math.floor(message.length / 2);
    ws.sendRaw(wsFrame(OP.text, message.slice(0, half), { fin: false }));
    ws.sendRaw(wsFrame(OP.continuation, message.slice(half)));
    const r = await ws.nextMatching((m) => m.posted !== undefined || m.error !== undefined);
    assert.equal(r.posted?.pos, 1, JSON.stringify(r));
    const again = await RawWebSocket.connect(srv.port, '/lobby/ws?p=0');
    t.after(() => again.destroy());
    assert.deepEqual(packetTexts(await again.nextMatching(withPosts)), [text]);
    assert.equal(ws.close, null, 'still open');
  });

  test('posting over the socket applies the same validation as POST', T, async (t) => {
    const srv = await startServer(t, { limits: { text_limit: 20 } });
    const room = srv.roomUrl();
    const ws = await RawWebSocket.connect(srv.port, '/lobby/ws?p=0');
    t.after(() => ws.destroy());
    const answer = (m) => m.error !== undefined || m.posted !== undefined;

    ws.send(JSON.stringify({ nick: 'alice', text: '   ' }));
    let r = await ws.nextMatching(answer);
    assert.equal(r.error.status, 400);
    assert.match(r.error.message, /text is empty/);

    ws.send(JSON.stringify({ nick: '', text: 'hi' }));
    r = await ws.nextMatching(answer);
    assert.equal(r.error.status, 400);
    assert.match(r.error.message, /nickname is empty/);

    ws.send(JSON.stringify({ nick: 'alice', text: 'x'.repeat(21) }));
    r = await ws.nextMatching(answer);
    assert.equal(r.error.status, 413);
    assert.match(r.error.message, /longer than 20/);

    ws.send(JSON.stringify({ nick: 'alice', text: 'fits' }));
    r = await ws.nextMatching(answer);
    assert.equal(r.posted.pos, 1);
    assert.match(r.posted.permalink, new RegExp(`^${room.replace(/[.]/g, '\\.')}a/\\d{4}/\\d{2}/\\d{2}#entry-[0-9a-f]+-[0-9a-f]{2,}$`));
    assert.equal((await get(`${room}var/seq`)).text.trim(), '1', 'only the valid post was stored');
  });

  test("a standard WebSocket client (Node's) reads and posts", T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    await postOk(room, 'alice', 'before');
    const script = `
      const ws = new WebSocket(process.argv[1]);
      const got = [];
      const done = (code) => { console.log(JSON.stringify(got)); process.exit(code); };
      setTimeout(() => done(3), 10000);
      ws.onmessage = (e) => {
        const m = JSON.parse(e.data);
        got.push(m);
        if (Array.isArray(m.content) && m.content.some((c) => c[2] === 'before') && got.length === 1) {
          ws.send(JSON.stringify({ nick: 'node', text: 'from a browser-like client' }));
        }
        if (got.some((x) => x.posted) && got.some((x) => Array.isArray(x.content) && x.content.some((c) => c[0] === 'node'))) {
          ws.close(1000);
        }
      };
      ws.onclose = () => done(0);
      ws.onerror = () => done(2);
    `;
    const wsUrl = `ws://127.0.0.1:${srv.port}/lobby/ws?p=0`;
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '-e', script, wsUrl],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const code = await withTimeout(new Promise((r) => child.on('exit', r)), 15000, 'the WebSocket child');
    assert.equal(code, 0, `exit ${code}: ${out}${err}`);
    const got = JSON.parse(out);
    assert.deepEqual(packetTexts(got[0]), ['before']);
    assert.equal(got.find((m) => m.posted).posted.pos, 2);
    assert.ok(got.some((m) => Array.isArray(m.content) && packetTexts(m).includes('from a browser-like client')));
  });
});

describe('a burst of posts to readers that keep up', () => {
  test('does not cut off an idle SSE or WebSocket reader: each gets every post once, in order', { timeout: 60000 }, async (t) => {
    const srv = await startServer(t, { limits: BIG_LIMITS });
    const room = srv.roomUrl();
    const sse = await openSse(`${room}events?p=0`);
    t.after(() => sse.close());
    const ws = await RawWebSocket.connect(srv.port, '/lobby/ws?p=0');
    t.after(() => ws.destroy());
    await sse.next(5000);  // the first, empty packets: both are waiting now
    await ws.next();

    // Both read while the posts are made, as readers that keep up do.
    const numbers = (texts) => texts.map((x) => x.split(' ')[0]);
    const fromSse = (async () => {
      const got = [];
      while (got.length < BURST_POSTS) got.push(...numbers(packetTexts((await nextWithPosts(sse)).data)));
      return got;
    })();
    const fromWs = (async () => {
      const got = [];
      while (got.length < BURST_POSTS) got.push(...numbers(packetTexts(await ws.nextMatching(withPosts))));
      return got;
    })();
    const big = 'x'.repeat(BIG_TEXT_CHARS);
    const inOrder = numbers(await postMany(room, BURST_POSTS, (i) => `${i} ${big}`, BURST_CONCURRENCY));
    assert.deepEqual(await fromSse, inOrder);
    assert.deepEqual(await fromWs, inOrder);

    // Both are still connected and live.
    await postOk(room, 'after', 'still here');
    assert.deepEqual(packetTexts((await nextWithPosts(sse)).data), ['still here']);
    assert.deepEqual(packetTexts(await ws.nextMatching(withPosts)), ['still here']);
  });
});
