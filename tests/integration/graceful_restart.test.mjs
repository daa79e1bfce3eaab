// Stopping and restarting the real binary (docs/DEPLOY.md, "Stopping and
// restarting"; docs/PROTOCOL.md, "When the server stops"): on SIGTERM a
// waiting long-poll gets an empty reply, an SSE stream a short `retry:` and
// its end, a WebSocket the close code 1012; posts in flight are answered
// (or, when their connection was refused, never acknowledged); the process
// exits well within its limit (an idle keep-alive connection does not hold
// it) and says so in one log line. Restarted on
// the same data and port, a reader of each transport comes back from its
// last position and has every acknowledged post exactly once.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { get, post, postOk, startServer, waitFor, withTimeout } from './lib/server.mjs';
import { RawWebSocket, openSse, packetTexts, rawStream } from './lib/push.mjs';

// The server's limit for a stop (kStopTimeout, src/server/server.cpp).
const STOP_LIMIT_MS = 10000;
// Long timeouts: a waiting long-poll can only be ended by news or the stop.
const SLOW_COMET = {
  soft_timeout_min: 20, soft_timeout_max: 30, hard_timeout_min: 60, hard_timeout_max: 90, client_timeout: 30,
};
// The readers' room gets posts during the stop; `quiet` gets none, so its
// long-poll is certainly waiting when the server stops.
const ROOMS = [{ slug: 'lobby', name: 'Lobby' }, { slug: 'quiet', name: 'Quiet' }];
const POSTERS = 4;

const comet = (room, cid, pos) => get(`${room}comet?s=0&c=${cid}&p=${pos}`, { timeout: 15000 });

// A long-poll reader: asks again from the pos of each reply, keeping every
// text, until its request fails (the server went away) or it is stopped.
function longPollReader(room, start) {
  const state = { cid: start.cid, pos: start.pos, texts: [], replies: [], error: null, stopped: false };
  state.done = (async () => {
    while (!state.stopped) {
      let r;
      try {
        r = await comet(room, state.cid, state.pos);
      } catch (e) {
        state.error = e;
        return;
      }
      assert.equal(r.status, 200, r.text);
      const p = JSON.parse(r.text);
      state.replies.push(p);
      state.cid = p.cid;
      state.pos = p.pos;
      state.texts.push(...packetTexts(p));
    }
  })();
  return state;
}

// Posts `lobby-<poster>-<n>` from each poster, one after another, until a
// post fails; returns the texts acknowledged.
function posters(room, stopAt) {
  const acked = [];
  const done = Promise.all(Array.from({ length: POSTERS }, async (_, who) => {
    for (let n = 0; n < stopAt; ++n) {
      const text = `lobby-${who}-${n}`;
      let r;
      try {
        r = await post(room, { nick: `poster${who}`, text }, { timeout: 15000 });
      } catch {
        return;  // refused or cut: never acknowledged
      }
      if (r.status !== 200) return;
      acked.push(text);
    }
  }));
  return { acked, done };
}

const counts = (texts) => texts.reduce((m, t) => m.set(t, (m.get(t) ?? 0) + 1), new Map());

test('SIGTERM sends every reader away to come back, answers posts in flight, and a restart loses nothing', {
  timeout: 60000,
}, async (t) => {
  const server = await startServer(t, { comet: SLOW_COMET, rooms: ROOMS });
  const lobby = server.roomUrl('lobby');
  const quiet = server.roomUrl('quiet');
  for (let i = 0; i < 3; ++i) await postOk(lobby, 'early', `early-${i}`);

  // A reader of each transport in the lobby, each from the start.
  const first = JSON.parse((await get(`${lobby}comet?s=0&p=0`)).text);
  const lp = longPollReader(lobby, { cid: first.cid, pos: first.pos });
  lp.texts.push(...packetTexts(first));
  const sse = await openSse(`${lobby}events?p=0`);
  const ws = await RawWebSocket.connect(server.port, '/lobby/ws?p=0');
  const wsState = { pos: 0, texts: [] };
  const takeWs = async (untilPos, ms = 10000) => {
    while (wsState.pos < untilPos) {
      const m = await ws.next(ms);
      wsState.pos = m.pos;
      wsState.texts.push(...packetTexts(m));
    }
  };
  const sseState = { id: '0', texts: [] };
  const takeSse = async (untilPos, ms = 10000) => {
    while (Number(sseState.id) < untilPos) {
      const e = await sse.next(ms);
      sseState.id = e.id;
      sseState.texts.push(...packetTexts(e.data));
    }
  };
  await takeWs(3);
  await takeSse(3);

  // The quiet room's long-poll, waiting (it has its cid and is up to date).
  const q0 = JSON.parse((await get(`${quiet}comet?s=0&p=0`)).text);
  const quietPoll = comet(quiet, q0.cid, q0.pos);
  await waitFor(async () => (await metric(server, 'chaton_readers{room="quiet",transport="long_poll"}')) === 1,
    { what: 'the long-poll waiting' });

  // A keep-alive connection left idle after its request: closed at once.
  const idle = rawStream(server.port, 'GET /lobby/var/seq HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await waitFor(() => idle.text().includes('\r\n\r\n'), { what: 'the idle connection answered' });

  // Posters at full speed; SIGTERM once some posts are acknowledged and
  // while others are in flight.
  const flood = posters(lobby, 1000);
  await waitFor(() => flood.acked.length >= 20, { what: 'posts acknowledged', every: 5 });
  server.proc.kill('SIGTERM');

  // The quiet long-poll: an empty reply in the protocol's shape.
  const qr = await quietPoll;
  assert.equal(qr.status, 200);
  assert.equal(qr.headers.connection, 'close');
  const qp = JSON.parse(qr.text);
  assert.equal(qp.cid, q0.cid);
  assert.equal(qp.pos, q0.pos);
  assert.deepEqual(qp.content, []);

  // WebSocket: close 1012. SSE: a short retry, then the end of the stream.
  const close = await withTimeout(ws.closed, STOP_LIMIT_MS, 'WebSocket close');
  assert.equal(close.code, 1012, JSON.stringify(close));
  while (ws.messages.length) {
    const m = JSON.parse(ws.messages.shift());
    wsState.pos = m.pos;
    wsState.texts.push(...packetTexts(m));
  }
  await waitFor(() => sse.ended, { ms: STOP_LIMIT_MS, what: 'the end of the SSE stream' });
  for (;;) {
    let e;
    try { e = await sse.next(1); } catch { break; }
    sseState.id = e.id;
    sseState.texts.push(...packetTexts(e.data));
  }
  assert.equal(sse.parser.retry, 1000, 'a short retry before the end');

  assert.equal(await withTimeout(idle.ended, STOP_LIMIT_MS, 'the idle connection closed'), true);
  assert.doesNotMatch(idle.text(), /HTTP\/1\.1 [^2]/);

  // The process exits within its limit, saying so once.
  const exit = await withTimeout(server.exited, STOP_LIMIT_MS + 2000, 'the server exit');
  assert.equal(exit.code, 0, JSON.stringify(exit));
  const stopLines = server.output().stderr.split('\n').filter((l) => l.includes('SIGTERM: stopped in'));
  assert.equal(stopLines.length, 1, server.output().stderr);
  assert.match(stopLines[0], /0 cut/);

  await flood.done;
  await lp.done;
  assert.ok(lp.error, 'the long-poll reader saw the server go');
  const acked = [...flood.acked];
  assert.ok(acked.length >= 20);

  // Restart on the same data and port; each reader comes back from its
  // last position, and one more post shows they are all live again.
  const again = await startServer(t, {
    dir: server.dir, comet: SLOW_COMET, rooms: ROOMS, listen: `127.0.0.1:${server.port}`,
  });
  assert.equal(again.port, server.port);
  const sse2 = await openSse(`${lobby}events`, { headers: { 'Last-Event-ID': sseState.id } });
  const ws2 = await RawWebSocket.connect(again.port, `/lobby/ws?p=${wsState.pos}`);
  lp.stopped = false;
  lp.error = null;
  const lp2 = longPollReader(lobby, { cid: lp.cid, pos: lp.pos });
  const last = await postOk(lobby, 'late', 'after-restart');
  acked.push('after-restart');

  const untilText = async (take, state) => {
    while (!state.texts.includes('after-restart')) await take();
  };
  await untilText(async () => {
    const e = await sse2.next(10000);
    sseState.texts.push(...packetTexts(e.data));
  }, sseState);
  await untilText(async () => {
    const m = await ws2.next(10000);
    wsState.texts.push(...packetTexts(m));
  }, wsState);
  await waitFor(() => lp2.pos >= last.pos, { what: 'the long-poll reader caught up' });
  lp2.stopped = true;
  sse2.close();
  ws2.destroy();

  const everyone = [
    ['long-poll', [...lp.texts, ...lp2.texts]],
    ['SSE', sseState.texts],
    ['WebSocket', wsState.texts],
  ];
  for (const [name, texts] of everyone) {
    const c = counts(texts);
    for (const text of ['early-0', 'early-1', 'early-2', ...acked])
      assert.equal(c.get(text), 1, `${name}: '${text}' seen ${c.get(text) ?? 0} times`);
    for (const [text, n] of c) assert.equal(n, 1, `${name}: '${text}' seen ${n} times`);
  }
  await again.stop();
});

// One figure of /metrics (docs/DEPLOY.md, "Monitoring"), or undefined.
async function metric(server, series) {
  const text = (await get(`${server.url}/metrics`)).text;
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

// A client that never finishes its request holds the stop until the limit;
// then its connection is cut, and the server still exits cleanly.
test('a request never finished is cut at the stop limit, and the server exits with status 0', {
  timeout: 30000,
}, async (t) => {
  const server = await startServer(t);
  const half = rawStream(server.port, 'GET /lobby/ HTTP/1.1\r\nHost: localhost\r\n');
  // Open: itself and the /metrics request asking.
  await waitFor(async () => (await metric(server, 'chaton_open_connections')) >= 2, { what: 'the connection open' });
  server.proc.kill('SIGTERM');
  const exit = await withTimeout(server.exited, STOP_LIMIT_MS + 5000, 'the server exit');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.equal(await withTimeout(half.ended, 1000, 'the cut connection'), true);
  assert.match(server.output().stderr, /SIGTERM: stopped in \d+ ms; \d+ of \d+ connections finished, 1 cut after the 10 s limit/);
});
