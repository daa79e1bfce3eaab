// Three Chaton nodes on one PostgreSQL behind nginx, configured as
// docs/SCALING.md says (tests/integration/lib/nginx.mjs runs that very
// text). Through nginx, round robin without stickiness: bots of the original
// protocol (API login, then long polls, loose_login = false) post and read,
// and an SSE and a WebSocket reader get the same posts, each once and in
// order; the room page is served; the nodes see the client's address
// (X-Forwarded-For). A node killed with kill -9: readers go on (a long poll
// waiting on it is passed to another node), posts go on, no acknowledged
// post is lost. A node that takes a request and dies before answering: a
// POST is answered 502 and never passed to another node (it could be stored
// twice), a GET is passed on. Skipped without nginx (fails with CI=true).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';

import {
  get, post, readAlist, request, sleep, waitFor, withTimeout,
} from './lib/server.mjs';
import { RawWebSocket, openSse } from './lib/push.mjs';
import { psql, shareClusterInFile } from './lib/pg.mjs';
import { accessLog, startNodesBehindNginx } from './lib/nginx.mjs';

const T = { timeout: 60000 };
const SLUG = 'lobby';
const ROOMS = [{ slug: SLUG, name: 'Lobby', loose_login: false }];
const DELIVERY_MS = 15000;

// ---------------------------------------------------------------- setup

// startNodesBehindNginx (lib/nginx.mjs) with this file's room; null when
// the test was skipped.
const setup = (t, hint, opts = {}) => startNodesBehindNginx(t, { hint, rooms: ROOMS, ...opts });

// The room's posts in the database: [[seq, nick, text, ip], ...] by seq.
async function dbPosts(url) {
  const out = await psql(url, `SELECT coalesce(json_agg(json_build_array(p.seq, p.nick, p.text, p.ip) ORDER BY p.seq), '[]')
    FROM chaton_posts p JOIN chaton_rooms r ON r.id = p.room_id WHERE r.slug = '${SLUG}'`);
  return JSON.parse(out).map(([seq, nick, text, ip]) => [Number(seq), nick, text, ip]);
}

// nginx's access log as { method, uri, status, nodes: [port, ...] }.

// ---------------------------------------------------------------- readers

// What a reader received: [pos, nick, text] in arrival order, and every
// packet that did not continue exactly from the last pos.
class Received {
  constructor(name, pos = 0) {
    this.name = name;
    this.pos = pos;
    this.entries = [];
    this.anomalies = [];
    this.failure = null;
    this.stopped = false;
  }

  add(packet, where) {
    const content = packet.content ?? [];
    const first = packet.pos - content.length;
    if (content.length && first !== this.pos) {
      this.anomalies.push(`${where}: asked from pos ${this.pos}, got ${content.length} post(s) ending at pos ${packet.pos}`);
    }
    content.forEach((e, i) => this.entries.push([first + 1 + i, e[0], e[2]]));
    if (content.length) this.pos = packet.pos;
  }

  fail(e) { if (!this.failure) this.failure = e; }

  async until(n, ms = DELIVERY_MS) {
    await waitFor(() => {
      if (this.failure) throw new Error(`${this.name}: ${this.failure.message}`);
      return this.pos >= n;
    }, { ms, every: 20, what: `${this.name} reaching pos ${n} (at ${this.pos})` });
  }

  assertGot(expected, logs) {
    assert.deepEqual(this.anomalies, [], `${this.name}: nothing missed or doubled`);
    assert.deepEqual(this.entries, expected, `${this.name} received every post once, in order\n${logs()}`);
  }
}

// A client program of the original protocol through nginx: POST apilogin
// (S-expression reply), then GET comet-uri?t=..&c=CID&p=POS&s=1 again and
// again, taking cid and pos from every reply; posts to post-uri with its
// cid. Any reply but 200, a network error or an "expired" cid is a failure.
class Bot extends Received {
  constructor(name, room, { localAddress } = {}) {
    super(name);
    this.room = room;
    this.localAddress = localAddress;
    this.cids = new Set();
    this.requests = 0;
  }

  async login() {
    const r = await request(`${this.room}apilogin`, { method: 'POST', body: { who: this.name, s: '1' }, localAddress: this.localAddress });
    assert.equal(r.status, 200, `apilogin: ${r.text}`);
    const a = readAlist(r.text);
    this.login_ = a;
    this.cid = a.cid;
    this.cids.add(a.cid);
    this.pos = a.pos;
    this.loop = this.read().catch((e) => this.fail(e));
    return this;
  }

  async read() {
    while (!this.stopped) {
      const q = new URLSearchParams({ t: String(Date.now()), c: String(this.cid), p: String(this.pos), s: '1' });
      const r = await get(`${this.login_['comet-uri']}?${q}`, { timeout: 10000, localAddress: this.localAddress });
      this.requests++;
      if (r.status !== 200) throw new Error(`comet answered ${r.status} ${r.text}`);
      const a = readAlist(r.text);
      if (a.cid === -1) throw new Error(`cid ${this.cid} said expired (request ${this.requests})`);
      this.add(a, `request ${this.requests}`);
      this.cid = a.cid;
      this.cids.add(a.cid);
    }
  }

  async stop() {
    this.stopped = true;
    await withTimeout(this.loop, 15000, `${this.name} stopping`);
  }
}

// A push-stream reader through nginx that reconnects from its pos when
// its stream ends (its node was killed): `open(pos)` returns
// { next(ms), close() }.
function streamReader(name, open) {
  const rec = new Received(name);
  rec.reconnects = 0;
  let current = null;
  rec.loop = (async () => {
    while (!rec.stopped) {
      try {
        current = await open(rec.pos);
      } catch (e) {
        if (++rec.reconnects > 20) throw e;
        await sleep(100);
        continue;
      }
      for (;;) {
        let m;
        try {
          m = await current.next(250);
        } catch (e) {
          if (rec.stopped) return;
          if (/^no (event|message) within/.test(e.message)) continue;
          rec.reconnects++;  // the stream ended: open another from pos
          break;
        }
        rec.add(m, `${name} stream ${rec.reconnects}`);
      }
    }
  })().catch((e) => rec.fail(e));
  rec.stop = () => { rec.stopped = true; current?.close(); };
  return rec;
}

const sseReader = (room) => streamReader('SSE through nginx', async (pos) => {
  const s = await openSse(`${room}events?p=${pos}`);
  if (s.res.status !== 200) { s.close(); throw new Error(`events answered ${s.res.status}`); }
  return { next: async (ms) => (await s.next(ms)).data, close: () => s.close() };
});

const wsReader = (proxy) => streamReader('WebSocket through nginx', async (pos) => {
  const ws = await RawWebSocket.connect(proxy.port, `/${SLUG}/ws?p=${pos}`);
  return { next: (ms) => ws.next(ms), close: () => ws.destroy() };
});

// ---------------------------------------------------------------- posts

// Posts `count` posts to `postUrl` one after the other; a post answered 502
// or lost on the network (its node died) is sent again, as a client would.
// outcome: { acks: [[pos, nick, text]], retried: [{ text, why }], refused: [...] }.
async function poster(name, count, postUrl, outcome, { cid, localAddress, pause = 0 } = {}) {
  for (let i = 0; i < count; i++) {
    const text = `${name} #${i}`;
    for (let attempt = 0; ; attempt++) {
      let r;
      try {
        r = await request(postUrl, { method: 'POST', body: { nick: name, text, ...(cid ? { cid: String(cid) } : {}) }, timeout: 15000, localAddress });
      } catch (e) {
        r = { status: 0, text: e.message };
      }
      if (r.status === 200) { outcome.acks.push([JSON.parse(r.text).pos, name, text]); break; }
      if ((r.status === 502 || r.status === 0) && attempt < 5) {
        outcome.retried.push({ text, why: `${r.status} ${r.text.slice(0, 80)}` });
        await sleep(50);
        continue;
      }
      outcome.refused.push({ text, status: r.status, body: r.text });
      break;
    }
    if (pause) await sleep(Math.random() * pause);
  }
}

const newOutcome = () => ({ acks: [], retried: [], refused: [] });
const byPos = (list) => [...list].sort((a, b) => a[0] - b[0]);

// ---------------------------------------------------------------- tests

shareClusterInFile();

describe('three nodes behind nginx (docs/SCALING.md)', () => {
  test('bots, an SSE and a WebSocket reader through nginx get every post once, in order; the room page is served', T, async (t) => {
    const env = await setup(t, 'nginx_bots');
    if (!env) return;
    const { proxy, nodes, room, url, logs } = env;

    const page = await get(room);
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.match(page.text, /Lobby/);

    // The third bot comes from another address: the nodes must see it.
    const bots = await Promise.all([0, 1, 2].map((i) =>
      new Bot(`bot${i}`, room, { localAddress: i === 2 ? '127.0.0.2' : undefined }).login()));
    for (const b of bots) {
      assert.equal(b.login_['post-uri'], `${room}post`, 'API login hands out nginx\'s URLs (public_url)');
      assert.equal(b.login_['comet-uri'], `${room}comet`);
    }
    const sse = sseReader(room);
    const ws = wsReader(proxy);
    t.after(() => { sse.stop(); ws.stop(); for (const b of bots) b.stopped = true; });

    const outcome = newOutcome();
    await Promise.all(bots.map((b) => poster(b.name, 10, b.login_['post-uri'], outcome,
      { cid: b.cid, localAddress: b.localAddress, pause: 40 })));
    assert.deepEqual([outcome.refused, outcome.retried], [[], []], 'every post acknowledged at once');
    const all = byPos(outcome.acks);
    assert.deepEqual(all.map((a) => a[0]), all.map((_, i) => i + 1), 'pos 1..30, each once');

    for (const r of [...bots, sse, ws]) await r.until(all.length);
    for (const b of bots) await b.stop();
    sse.stop();
    ws.stop();
    for (const r of [...bots, sse, ws]) r.assertGot(all, logs);
    for (const b of bots) assert.equal(b.cids.size, 1, `${b.name} kept one cid on every node (loose_login = false)`);
    assert.deepEqual([sse.reconnects, ws.reconnects], [0, 0], 'the streams stayed open');

    // Round robin: the long polls and the posts reached every node.
    const log = accessLog(proxy);
    const ports = nodes.map((n) => n.port).sort();
    const reached = (m, uri) => [...new Set(log.filter((l) => l.method === m && l.uri === uri).flatMap((l) => l.nodes))].sort();
    assert.deepEqual(reached('GET', `/${SLUG}/comet`), ports, 'long polls on every node');
    assert.deepEqual(reached('POST', `/${SLUG}/post`), ports, 'posts on every node');

    // X-Forwarded-For: the posts are stored with the bot's own address.
    const stored = await dbPosts(url);
    const ips = (nick) => [...new Set(stored.filter((p) => p[1] === nick).map((p) => p[3]))];
    assert.deepEqual(ips('bot2'), ['127.0.0.2']);
    assert.deepEqual(ips('bot0'), ['127.0.0.1']);
  });

  test('kill -9 of a node: readers through nginx go on, posts go on, no acknowledged post is lost', T, async (t) => {
    const env = await setup(t, 'nginx_kill');
    if (!env) return;
    const { proxy, nodes, room, url, logs } = env;
    const bots = await Promise.all([0, 1].map((i) => new Bot(`reader${i}`, room).login()));
    const sse = sseReader(room);
    const ws = wsReader(proxy);
    const readers = [...bots, sse, ws];
    t.after(() => { sse.stop(); ws.stop(); for (const b of bots) b.stopped = true; });

    const POSTERS = 3;
    const outcome = newOutcome();
    const posting = Promise.all(Array.from({ length: POSTERS },
      (_, k) => poster(`poster${k}`, 25, `${room}post`, outcome, { pause: 20 })));
    await waitFor(() => outcome.acks.length >= 20, { ms: 20000, every: 5, what: '20 acknowledged posts' });
    const ackedAtKill = outcome.acks.length;
    await nodes[2].kill9();
    await posting;
    assert.ok(outcome.acks.length > ackedAtKill, `posts after the kill (${ackedAtKill} before, ${outcome.acks.length} in all)`);
    assert.deepEqual(outcome.refused, [], 'every post was acknowledged in the end');
    assert.ok(outcome.retried.length <= POSTERS, `only posts on their way to the killed node failed: ${JSON.stringify(outcome.retried)}`);

    const stored = (await dbPosts(url)).map((p) => p.slice(0, 3));
    assert.deepEqual(stored.map((r) => r[0]), stored.map((_, i) => i + 1), 'seqs 1..N without a gap');
    const bySeq = new Map(stored.map((r) => [r[0], r]));
    for (const a of outcome.acks) assert.deepEqual(bySeq.get(a[0]), a, `acknowledged post ${JSON.stringify(a)} stored at its pos`);
    // A text is stored twice only when the client sent it again after a 502
    // (the killed node had committed it): nginx itself never resent it.
    const retried = new Set(outcome.retried.map((r) => r.text));
    const seen = new Set();
    for (const r of stored) {
      if (seen.has(r[2])) assert.ok(retried.has(r[2]), `${JSON.stringify(r)} stored twice, but the client sent it once`);
      seen.add(r[2]);
    }

    for (const r of readers) await r.until(stored.length);
    for (const b of bots) await b.stop();
    sse.stop();
    ws.stop();
    for (const r of readers) r.assertGot(stored, logs);
    t.diagnostic(`${stored.length} posts, ${outcome.retried.length} sent again; stream reconnects: SSE ${sse.reconnects}, WebSocket ${ws.reconnects}`);
    // A long poll waiting on the killed node was passed to another one by
    // nginx: the bots never saw an error (Bot.read fails on any), and
    // every long poll nginx answered was a node's 200.
    const polls = accessLog(proxy).filter((l) => l.uri === `/${SLUG}/comet`);
    assert.deepEqual(polls.filter((l) => l.status !== 200), [], 'every long poll answered 200');
    t.diagnostic(`${polls.filter((l) => l.nodes.length > 1).length} long poll(s) passed on to another node`);
  });

  test('a node that takes a request and dies before answering: a POST gets 502 and goes nowhere else, a GET is passed on', T, async (t) => {
    // Two fake nodes that read a request and close the connection without
    // a word (until armed they answer 404, so that nginx's reload can be
    // seen), in front of one real node.
    const fakes = [];
    for (let i = 0; i < 2; i++) {
      const fake = { armed: false, seen: [] };
      fake.server = net.createServer((sock) => {
        let buf = '';
        sock.on('error', () => {});
        sock.on('data', (c) => {
          buf += c.toString('latin1');
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
          if (buf.length < end + 4 + len) return;
          if (!fake.armed) { sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'); return; }
          fake.seen.push(buf);
          sock.destroy();
        });
      });
      await new Promise((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
      t.after(() => fake.server.close());
      fakes.push(fake);
    }
    const env = await setup(t, 'nginx_fake', {
      count: 1,
      upstreams: (nodes) => [...fakes.map((f) => `127.0.0.1:${f.server.address().port}`), `127.0.0.1:${nodes[0].port}`],
    });
    if (!env) return;
    const { proxy, room, url } = env;
    for (const f of fakes) f.armed = true;
    const seenBy = (marker) => fakes.findIndex((f) => f.seen.some((s) => s.includes(marker)));
    const hitFakes = () => fakes.filter((f) => f.seen.length).length;

    // POSTs until one reached a fake: that one gets 502, the others 200.
    let lost = null;
    for (let i = 0; i < 6 && lost === null; i++) {
      const text = `post-${i}-${Date.now()}`;
      const r = await post(room, { nick: 'probe', text });
      if (seenBy(encodeURIComponent(text).replace(/%20/g, '+')) >= 0) {
        assert.equal(r.status, 502, `a post whose node died before answering: ${r.status} ${r.text}`);
        lost = text;
      } else {
        assert.equal(r.status, 200, `${r.status} ${r.text}`);
      }
    }
    assert.ok(lost, 'a post reached a fake node');
    assert.equal(hitFakes(), 1);
    const stored = await dbPosts(url);
    assert.ok(!stored.some((p) => p[2] === lost), 'the post was not passed to another node');
    // nginx writes a request's log line after its response: wait for it.
    const postLine = await waitFor(() => accessLog(proxy).find((l) => l.method === 'POST' && l.status === 502),
      { ms: 5000, what: 'the POST in the access log' }).catch(() => undefined);
    assert.equal(postLine?.nodes.length, 1, `nginx tried one node only: ${JSON.stringify(postLine)}`);

    // GETs until one reached the other fake: it is answered all the same.
    let passed = false;
    for (let i = 0; i < 6 && !passed; i++) {
      const marker = `probe${i}x${Date.now()}`;
      const r = await get(`${room}?${marker}`);
      assert.equal(r.status, 200, `GET through nginx: ${r.status}`);
      passed = seenBy(marker) >= 0;
    }
    assert.ok(passed, 'a GET reached the other fake node and was answered by the real one');
    const getLine = await waitFor(() => accessLog(proxy).find((l) => l.method === 'GET' && l.nodes.length > 1),
      { ms: 5000, what: 'the GET in the access log' }).catch(() => undefined);
    assert.equal(getLine?.status, 200, `the GET was passed on: ${JSON.stringify(getLine)}`);
  });
});
