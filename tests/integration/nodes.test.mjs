// Several Chaton nodes on one PostgreSQL database (docs/SCALING.md): three
// `chaton serve` processes share one config file with a [store] url and
// differ only in --listen. Checks, end to end, that they serve one room as
// one: a post on any node reaches long-poll, SSE and WebSocket readers on
// the others in one order with one pos; a reader whose requests go round
// robin over the nodes misses nothing and gets nothing twice (also with
// loose_login = false); a node killed with kill -9 under concurrent posting
// loses no acknowledged post; the database restarted under load (503 with a
// reason while it is down, readers kept, every acknowledged post delivered
// once after); a reader starting at p=0 gets the same live window on
// every node; and a JSON reader alternating between nodes across a
// moderation, waiting through it or not, is started over once, not once per
// node. Each test takes a fresh database of one cluster shared by the
// file (or a cluster of its own when it restarts it), binds port 0 on
// loopback and stops by itself.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';

import {
  entryId, get, makeTempDir, post, postOk, readAlist, request, runChaton, sleep, startServer, waitFor, withTimeout,
  writeConfig,
} from './lib/server.mjs';
import { RawWebSocket, openSse } from './lib/push.mjs';
import { PG_SCRIPT, shareClusterInFile, startPg } from './lib/pg.mjs';

const T = { timeout: 60000 };
const NODES = 3;
const SLUG = 'lobby';
const ROOMS = [{ slug: SLUG, name: 'Lobby' }];
// How long a reader may take to see what was acknowledged.
const DELIVERY_MS = 15000;

// ---------------------------------------------------------------- nodes

// Starts `count` nodes on the database at `url`, all with one config file
// (one shared data_dir); each gets its own port through --listen.
// Returns { dir, config, nodes, startNode() }.
async function startNodes(t, url, { rooms = ROOMS, comet = {}, count = NODES } = {}) {
  const dir = makeTempDir(t, 'nodes-');
  const config = writeConfig(path.join(dir, 'chaton.toml'), {
    site: { listen: '127.0.0.1:0', data_dir: path.join(dir, 'data') },
    comet,
    store: { url },
    rooms,
  });
  const startNode = () => startServer(t, { dir, config, rooms, listen: '127.0.0.1:0' });
  const nodes = await Promise.all(Array.from({ length: count }, startNode));
  return { dir, config, nodes, startNode };
}

const roomUrl = (node) => `${node.url}/${SLUG}/`;

// The server log of every node, for a failure message.
const logs = (nodes) => nodes.map((n, i) => `--- node ${i} (${n.url}):\n${n.output().stdout}${n.output().stderr}`).join('\n');

// The room's posts as the database holds them: [[seq, nick, text], ...].
function dbPosts(url) {
  const sql = `SELECT coalesce(json_agg(json_build_array(p.seq, p.nick, p.text) ORDER BY p.seq), '[]')
               FROM chaton_posts p JOIN chaton_rooms r ON r.id = p.room_id WHERE r.slug = '${SLUG}'`;
  return new Promise((resolve, reject) => {
    execFile('bash', [PG_SCRIPT, 'check'], (err, bindir) => {
      if (err) { reject(err); return; }
      execFile(path.join(bindir.trim().split('\n').pop(), 'psql'), [url, '-X', '-At', '-c', sql],
        { timeout: 20000, maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
          if (e) reject(new Error(`psql: ${e.message} ${stderr}`));
          else resolve(JSON.parse(stdout).map(([seq, nick, text]) => [Number(seq), nick, text]));
        });
    });
  });
}

// ---------------------------------------------------------------- readers

// What a reader received: entries [pos, nick, text] in arrival order, and
// every packet that did not continue exactly from the last pos (a gap or an
// overlap: a missed or doubled post).
class Received {
  constructor(name, pos = 0) {
    this.name = name;
    this.pos = pos;
    this.entries = [];
    this.anomalies = [];
    this.failure = null;
  }

  // A packet { pos, content: [[nick, [sec, usec], text], ...] } that
  // answered a request (or continued a stream) from this.pos.
  add(packet, where) {
    const first = packet.pos - packet.content.length;
    if (first !== this.pos) {
      this.anomalies.push(`${where}: asked from pos ${this.pos}, got ${packet.content.length} post(s) ending at pos ${packet.pos}`);
    }
    packet.content.forEach((e, i) => this.entries.push([first + 1 + i, e[0], e[2]]));
    this.pos = packet.pos;
  }

  fail(e) {
    if (!this.failure) this.failure = e;
  }

  // Waits until this reader has reached pos n.
  async until(n, ms = DELIVERY_MS) {
    try {
      await waitFor(() => {
        if (this.failure) throw this.failure;
        return this.pos >= n;
      }, { ms, every: 20, what: `${this.name} reaching pos ${n} (at ${this.pos})` });
    } catch (e) {
      if (e === this.failure) throw new Error(`${this.name}: ${e.message}`);
      throw e;
    }
  }
}

// The original client's loop over long-poll (s=0, JSON): apilogin on the
// first node, then GET comet?c=CID&p=POS, each request to the next node of
// `nodes` when `roundRobin` (a balancer without stickiness), else always the
// first. A request that fails on the network (a killed node) goes to the
// next node; the failures are kept in `networkErrors` with the node's index.
// An "expired" reply (cid -1) is a failure: the reader stops.
class LongPollReader extends Received {
  constructor(name, nodes, { roundRobin = false } = {}) {
    super(name);
    this.nodes = nodes;
    this.roundRobin = roundRobin;
    this.next = 0;
    this.cid = null;
    this.cids = new Set();
    this.networkErrors = [];
    this.requests = 0;
    this.stopped = false;
  }

  async start() {
    const node = this.nodes[0];
    const r = await request(roomUrl(node) + 'apilogin', { method: 'POST', body: { who: this.name, s: '1' } });
    assert.equal(r.status, 200, `apilogin on ${node.url}: ${r.text}`);
    const a = readAlist(r.text);
    this.cid = a.cid;
    this.cids.add(this.cid);
    this.pos = a.pos;
    this.loop = this.run().catch((e) => this.fail(e));
    return this;
  }

  async run() {
    while (!this.stopped) {
      const i = this.roundRobin ? this.next++ % this.nodes.length : 0;
      const node = this.nodes[i];
      const q = new URLSearchParams({ t: String(Date.now()), c: String(this.cid), p: String(this.pos), s: '0' });
      let r;
      try {
        r = await get(`${roomUrl(node)}comet?${q}`, { timeout: 10000 });
      } catch (e) {
        this.networkErrors.push({ node: i, error: e.message });
        if (!this.roundRobin) throw e;
        await sleep(20);
        continue;
      }
      this.requests++;
      if (r.status !== 200) throw new Error(`node ${i}: comet answered ${r.status} ${r.text}`);
      const j = JSON.parse(r.text);
      if (j.cid === -1) throw new Error(`node ${i} (${node.url}) said cid ${this.cid} expired (request ${this.requests})`);
      this.add(j, `node ${i}`);
      this.cid = j.cid;
      this.cids.add(j.cid);
    }
  }

  async stop() {
    this.stopped = true;
    await withTimeout(this.loop, 15000, `${this.name} stopping`);
  }
}

// Reads `next(ms)` packets of a stream into a Received until stop(); waits
// in short steps, so that a stopped reader leaves no long timer behind.
function readStream(rec, next, close) {
  let stopped = false;
  rec.loop = (async () => {
    while (!stopped) {
      let m;
      try {
        m = await next(250);
      } catch (e) {
        if (!stopped && /^no (event|message) within/.test(e.message)) continue;
        if (stopped) return;
        throw e;
      }
      if (Array.isArray(m.content) && m.content.length) rec.add(m, rec.name);
    }
  })().catch((e) => rec.fail(e));
  rec.stop = () => { stopped = true; close(); };
  return rec;
}

// Server-Sent Events from events?p=0 on one node.
async function sseReader(name, node) {
  const stream = await openSse(`${roomUrl(node)}events?p=0`);
  assert.equal(stream.res.status, 200);
  const rec = readStream(new Received(name), async (ms) => (await stream.next(ms)).data, () => stream.close());
  rec.stream = stream;
  return rec;
}

// WebSocket from ws?p=0 on one node.
async function wsReader(name, node) {
  const ws = await RawWebSocket.connect(node.port, `/${SLUG}/ws?p=0`);
  const rec = readStream(new Received(name), (ms) => ws.next(ms), () => ws.destroy());
  rec.ws = ws;
  return rec;
}

// ---------------------------------------------------------------- posts

// Posts up to `count` posts through `pickNode(i)` ([index, node], or null to
// stop) one after the other, each with a
// unique text; keeps every outcome: { acks: [[pos, nick, text]],
// refused: [{status, text}], failed: [{node, text, error}] }.
async function poster(name, count, pickNode, outcome, { pause = 0 } = {}) {
  for (let i = 0; i < count; i++) {
    const at = pickNode(i);
    if (at === null) break;
    const [index, node] = at;
    const text = `${name} #${i} via node ${index}`;
    try {
      const r = await post(roomUrl(node), { nick: name, text }, { timeout: 15000 });
      if (r.status === 200) outcome.acks.push([JSON.parse(r.text).pos, name, text]);
      else outcome.refused.push({ node: index, text, status: r.status, body: r.text });
    } catch (e) {
      outcome.failed.push({ node: index, text, error: e.message });
    }
    if (pause) await sleep(Math.random() * pause);
  }
}

const newOutcome = () => ({ acks: [], refused: [], failed: [] });
const byPos = (list) => [...list].sort((a, b) => a[0] - b[0]);

// The acknowledged posts hold the positions 1..n, each once.
function assertGapless(acks, what = 'acknowledged posts') {
  assert.deepEqual(byPos(acks).map((a) => a[0]), acks.map((_, i) => i + 1), `${what}: pos 1..${acks.length}, each once`);
}

// A reader got exactly `expected` ([pos, nick, text] by pos), in order.
function assertReceived(reader, expected, nodes) {
  assert.deepEqual(reader.anomalies, [], `${reader.name}: nothing missed or doubled`);
  assert.deepEqual(reader.entries, expected, `${reader.name} received every post once, in order\n${logs(nodes)}`);
}

// ---------------------------------------------------------------- tests

shareClusterInFile();

describe('three nodes on one PostgreSQL', () => {
  test('a post on each node reaches readers on the others in one order, with one pos', T, async (t) => {
    const pg = await startPg(t);
    if (!pg) return;
    const { nodes } = await startNodes(t, await pg.freshDatabase('nodes_order'));
    const readers = await Promise.all(nodes.map((n, i) => new LongPollReader(`long-poll on node ${i}`, [n]).start()));
    const sse = await sseReader('SSE on node 0', nodes[0]);
    const ws = await wsReader('WebSocket on node 1', nodes[1]);
    t.after(() => { sse.stop(); ws.stop(); for (const r of readers) r.stopped = true; });

    // Interleaved, one at a time: A, B, C, A, B, C, ...
    const acks = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < NODES; i++) {
        const text = `round ${round} from node ${i}`;
        const ack = await postOk(roomUrl(nodes[i]), `poster${i}`, text);
        acks.push([ack.pos, `poster${i}`, text]);
      }
    }
    assert.deepEqual(acks.map((a) => a[0]), acks.map((_, i) => i + 1), 'one after the other: pos 1, 2, 3, ...');
    // Then all nodes at once.
    const outcome = newOutcome();
    await Promise.all(nodes.map((n, i) => poster(`burst${i}`, 10, () => [i, n], outcome)));
    assert.deepEqual([outcome.refused, outcome.failed], [[], []]);
    const all = byPos([...acks, ...outcome.acks]);
    assertGapless(all);

    for (const r of [...readers, sse, ws]) await r.until(all.length);
    for (const r of [...readers, sse, ws]) assertReceived(r, all, nodes);
  });

  describe('a reader alternating between nodes (round robin) misses nothing and gets nothing twice', () => {
    // A long client timeout: only the node a request lands on decides
    // whether the cid is known, never how long the reader was away.
    const comet = { client_timeout: 10 };

    async function alternate(t, rooms, hint) {
      const pg = await startPg(t);
      if (!pg) return;
      const { nodes } = await startNodes(t, await pg.freshDatabase(hint), { rooms, comet });
      const reader = await new LongPollReader('round-robin reader', nodes, { roundRobin: true }).start();
      t.after(() => { reader.stopped = true; });
      const outcome = newOutcome();
      // Posts on every node while the reader moves; pauses let some of its
      // requests wait for the next post.
      await Promise.all(nodes.map((n, i) => poster(`poster${i}`, 15, () => [i, n], outcome, { pause: 60 })));
      assert.deepEqual([outcome.refused, outcome.failed], [[], []]);
      assertGapless(outcome.acks);
      await reader.until(outcome.acks.length);
      await reader.stop();
      t.diagnostic(`${reader.requests} requests, ${reader.cids.size} cid(s), ${outcome.acks.length} posts`);
      assert.deepEqual(reader.networkErrors, []);
      assertReceived(reader, byPos(outcome.acks), nodes);
      assert.ok(reader.requests >= NODES, `the reader asked every node (${reader.requests} requests)`);
      return reader;
    }

    test('loose_login = true', T, async (t) => {
      await alternate(t, [{ slug: SLUG, name: 'Lobby', loose_login: true }], 'nodes_rr_loose');
    });

    test('loose_login = false: the cid stays valid on every node', T, async (t) => {
      const reader = await alternate(t, [{ slug: SLUG, name: 'Lobby', loose_login: false }], 'nodes_rr_strict');
      if (reader) assert.equal(reader.cids.size, 1, `one cid throughout, got ${[...reader.cids]}`);
    });
  });

  test('kill -9 of a node under concurrent posting loses no acknowledged post', T, async (t) => {
    const pg = await startPg(t);
    if (!pg) return;
    const url = await pg.freshDatabase('nodes_kill');
    const { nodes } = await startNodes(t, url);
    const victim = 2;
    const survivors = nodes.filter((_, i) => i !== victim);
    const readers = await Promise.all(survivors.map((n, i) => new LongPollReader(`long-poll on survivor ${i}`, [n]).start()));
    // A round-robin reader that keeps going over the nodes left.
    const mover = await new LongPollReader('round-robin reader', nodes, { roundRobin: true }).start();
    t.after(() => { for (const r of [...readers, mover]) r.stopped = true; });

    const POSTERS = 4;
    const POSTS = 50;
    let dead = false;
    let ackedAtKill = -1;
    const outcome = newOutcome();
    // Poster k sends its i-th post to node (k + i) % 3, skipping the dead one.
    const pick = (k) => (i) => {
      let n = (k + i) % NODES;
      if (dead && n === victim) n = (n + 1) % NODES;
      return [n, nodes[n]];
    };
    const posting = Promise.all(Array.from({ length: POSTERS }, (_, k) => poster(`poster${k}`, POSTS, pick(k), outcome)));
    await waitFor(() => outcome.acks.length >= 40, { ms: 20000, every: 5, what: '40 acknowledged posts' });
    ackedAtKill = outcome.acks.length;
    await nodes[victim].kill9();
    dead = true;
    await posting;
    // The posters went on after the kill, and none failed on a live node.
    assert.ok(outcome.acks.length > ackedAtKill, `posts after the kill (${ackedAtKill} before, ${outcome.acks.length} in all)`);
    assert.deepEqual(outcome.refused, [], 'no post was refused');
    assert.deepEqual(outcome.failed.filter((f) => f.node !== victim), [], 'no post failed on a surviving node');

    const stored = await dbPosts(url);
    const n = stored.length;
    assert.deepEqual(stored.map((r) => r[0]), stored.map((_, i) => i + 1), 'seqs 1..N without a gap');
    assert.equal(new Set(stored.map((r) => r[2])).size, n, 'no post stored twice');
    const storedBySeq = new Map(stored.map((r) => [r[0], r]));
    for (const a of outcome.acks) assert.deepEqual(storedBySeq.get(a[0]), a, `acknowledged post ${JSON.stringify(a)} stored at its pos`);
    // Posts in flight on the killed node may or may not be there, but no other.
    const acked = new Set(outcome.acks.map((a) => a[2]));
    const inFlight = new Set(outcome.failed.map((f) => f.text));
    for (const r of stored) assert.ok(acked.has(r[2]) || inFlight.has(r[2]), `stored post ${JSON.stringify(r)} was sent`);
    assert.ok(n >= outcome.acks.length);

    for (const r of readers) await r.until(n);
    for (const r of readers) await r.stop();
    for (const r of readers) assertReceived(r, stored, nodes);
    assert.deepEqual(readers.flatMap((r) => r.networkErrors), []);

    await t.test('a reader going round robin over the nodes, the killed one too, misses nothing and gets nothing twice',
      async () => {
        await mover.until(n).finally(() => mover.stop());
        assert.deepEqual(mover.networkErrors.filter((e) => e.node !== victim), [], 'the round-robin reader only lost the killed node');
        assertReceived(mover, stored, nodes);
      });
  });

  test('the database restarted under load: 503 while down, readers kept, every acknowledged post delivered once', T, async (t) => {
    const pg = await startPg(t, { own: true });
    if (!pg) return;
    const url = await pg.freshDatabase('nodes_restart');
    const { nodes } = await startNodes(t, url);
    const readers = await Promise.all(nodes.map((n, i) => new LongPollReader(`long-poll on node ${i}`, [n]).start()));
    const sse = await sseReader('SSE on node 1', nodes[1]);
    const ws = await wsReader('WebSocket on node 2', nodes[2]);
    const all = [...readers, sse, ws];
    t.after(() => { sse.stop(); ws.stop(); for (const r of readers) r.stopped = true; });

    // Posters on every node, until told to stop.
    const outcome = newOutcome();
    let stop = false;
    const load = Promise.all(nodes.map((n, i) => poster(`poster${i}`, 100000, () => (stop ? null : [i, n]), outcome, { pause: 30 })));
    await waitFor(() => outcome.acks.length >= 15, { ms: 15000, every: 10, what: '15 posts before the restart' });

    await pg.stop();
    const downAt = outcome.acks.length;
    // While it is down: a post gets 503 with a reason, on every node.
    for (const [i, n] of nodes.entries()) {
      const r = await post(roomUrl(n), { nick: 'probe', text: `while down, node ${i}` }, { timeout: 15000 });
      assert.equal(r.status, 503, `node ${i} while the database is down: ${r.status} ${r.text}`);
      assert.match(r.text, /database/i, 'the reason names the database');
      outcome.refused.push({ node: i, text: `while down, node ${i}`, status: r.status, body: r.text });
    }
    const requestsWhileDown = readers.map((r) => r.requests);
    await sleep(2500);  // longer than a long-poll's hard timeout
    for (const r of all) assert.equal(r.failure, null, `${r.name} is still reading while the database is down`);
    readers.forEach((r, i) => assert.ok(r.requests > requestsWhileDown[i], `${r.name} was answered while the database was down`));
    assert.equal(sse.stream.ended, false, 'the SSE stream stays open');
    assert.equal(ws.ws.close, null, 'the WebSocket stays open');
    const ackedWhileDown = outcome.acks.length - downAt;

    await pg.restart();
    // The nodes reconnect by themselves: a post on each succeeds again.
    for (const [i, n] of nodes.entries()) {
      let attempt = 0;
      await waitFor(async () => {
        const text = `back on node ${i}, try ${attempt++}`;
        const r = await post(roomUrl(n), { nick: 'probe', text }, { timeout: 15000 });
        if (r.status === 200) outcome.acks.push([JSON.parse(r.text).pos, 'probe', text]);
        else outcome.refused.push({ node: i, text, status: r.status, body: r.text });
        return r.status === 200;
      }, { ms: 20000, every: 250, what: `node ${i} posting again after the restart` })
        .catch((e) => { throw new Error(`${e.message}\n${logs(nodes)}`); });
    }
    const backAt = outcome.acks.length;
    await waitFor(() => outcome.acks.length >= backAt + 15, { ms: 15000, every: 10, what: '15 posts after the restart' });
    stop = true;
    await load;

    const stored = await dbPosts(url);
    assert.deepEqual(stored.map((r) => r[0]), stored.map((_, i) => i + 1), 'seqs 1..N without a gap');
    assert.equal(new Set(stored.map((r) => r[2])).size, stored.length, 'no post stored twice');
    const storedBySeq = new Map(stored.map((r) => [r[0], r]));
    for (const a of outcome.acks) assert.deepEqual(storedBySeq.get(a[0]), a, `acknowledged post ${JSON.stringify(a)} stored at its pos`);
    const statuses = new Set(outcome.refused.map((r) => r.status));
    assert.deepEqual([...statuses].filter((s) => s !== 503), [], `posts refused only with 503: ${JSON.stringify(outcome.refused.slice(0, 3))}`);
    assert.deepEqual(outcome.failed, [], 'no post request failed on the network');
    t.diagnostic(`${outcome.acks.length} acknowledged (${ackedWhileDown} while down), ${outcome.refused.length} refused with 503`);

    for (const r of all) await r.until(stored.length);
    for (const r of readers) await r.stop();
    await t.test('every reader on every node got every post once, in order', () => {
      for (const r of all) assertReceived(r, stored, nodes);
    });
  });

  // After a moderation each node starts the cids it knew over; a JSON
  // client (which cannot clear its view) goes on from the node's reload,
  // under a new cid. The next node takes that cid as current and goes on
  // from the client's pos, instead of sending again what came after its
  // own reload (docs/SCALING.md, "Moderation").
  test('a JSON reader alternating between nodes across a moderation is started over once', T, async (t) => {
    const pg = await startPg(t);
    if (!pg) return;
    // Timeouts long enough that no ping or sweep comes between the steps.
    const comet = {
      soft_timeout_min: 30, soft_timeout_max: 30, hard_timeout_min: 60, hard_timeout_max: 60, client_timeout: 60,
    };
    const { config, nodes } = await startNodes(t, await pg.freshDatabase('nodes_moderation'), { count: 2, comet });
    const [a, b] = nodes;
    const sequenceOf = async (node) => JSON.parse((await get(`${roomUrl(node)}comet?p=0&s=0`)).text).pos;
    const atSequence = async (n, what) => {
      for (const node of nodes) await waitFor(async () => (await sequenceOf(node)) === n, { what });
    };
    for (let i = 1; i <= 3; i++) await postOk(roomUrl(a), 'poster', `before ${i}`);
    await atSequence(3, 'the first posts');
    const poll = async (node, cid, pos) => {
      const q = new URLSearchParams({ t: String(Date.now()), c: String(cid), p: String(pos), s: '0' });
      const r = await get(`${roomUrl(node)}comet?${q}`, { timeout: 20000 });
      assert.equal(r.status, 200, r.text);
      const j = JSON.parse(r.text);
      return { cid: j.cid, pos: j.pos, texts: j.content.map((e) => e[2]), stamps: j.content.map((e) => e[1]) };
    };
    // Two bots, each known to both nodes: b answers each from pos 0.
    const bots = [];
    for (const who of ['waiting', 'away']) {
      const login = await request(roomUrl(a) + 'apilogin', { method: 'POST', body: { who, s: '1' } });
      assert.equal(login.status, 200, login.text);
      const { cid } = readAlist(login.text);
      const all = await poll(b, cid, 0);
      assert.deepEqual([all.cid, all.texts], [cid, ['before 1', 'before 2', 'before 3']]);
      bots.push({ cid, stamps: all.stamps });
    }
    const [waiting, away] = bots;
    // One waits on a through the moderation, the other asks after it.
    const woken = poll(a, waiting.cid, 3);
    await sleep(300);

    // A moderation removes post 1; both nodes reload (pos 3 becomes 2).
    const [sec, usec] = waiting.stamps[0];
    const m = await runChaton(['moderate', '--config', config, '--room', SLUG, '--entry', entryId(sec, usec)],
      { timeout: 20000 });
    assert.equal(m.code, 0, m.stdout + m.stderr);

    // The waiting bot is started over by a: the new pos, nothing after it,
    // a new cid. At once, on b: nothing twice; it waits for the next post.
    const first = await woken;
    assert.deepEqual([first.pos, first.texts], [2, []], `started over from a's reload\n${logs(nodes)}`);
    assert.notEqual(first.cid, waiting.cid);
    const onB = poll(b, first.cid, first.pos);
    await atSequence(2, 'the reload');
    await postOk(roomUrl(a), 'poster', 'after 1');  // pos 3
    const second = await onB;
    assert.deepEqual([second.cid, second.pos, second.texts], [first.cid, 3, ['after 1']],
      `b sent nothing twice\n${logs(nodes)}`);
    await postOk(roomUrl(a), 'poster', 'after 2');  // pos 4
    await atSequence(4, 'the new posts');

    // The other, with its pos of before (3), on a: started over from a's
    // reload, under a new cid; then on b, with what a gave: nothing twice.
    const onA = await poll(a, away.cid, 3);
    assert.deepEqual([onA.pos, onA.texts], [4, ['after 1', 'after 2']]);
    assert.notEqual(onA.cid, away.cid);
    const next = poll(b, onA.cid, onA.pos);
    await sleep(300);
    await postOk(roomUrl(a), 'poster', 'after 3');
    const fromB = await next;
    assert.deepEqual([fromB.cid, fromB.pos, fromB.texts], [onA.cid, 5, ['after 3']],
      `b sent nothing twice\n${logs(nodes)}`);
  });

  // A node started after a moderation never heard of a cid given before
  // it: the database says in which numbering the cid was given, and the
  // client's pos of before is not taken as current there (it would skip a
  // post, since the moderation renumbered them).
  test('a JSON reader back with a cid from before a moderation is started over by a node that never knew it', T,
    async (t) => {
      const pg = await startPg(t);
      if (!pg) return;
      const comet = {
        soft_timeout_min: 30, soft_timeout_max: 30, hard_timeout_min: 60, hard_timeout_max: 60, client_timeout: 60,
      };
      const { config, nodes, startNode } =
        await startNodes(t, await pg.freshDatabase('nodes_numbering'), { count: 1, comet });
      const [a] = nodes;
      for (let i = 1; i <= 3; i++) await postOk(roomUrl(a), 'poster', `before ${i}`);
      const login = await request(roomUrl(a) + 'apilogin', { method: 'POST', body: { who: 'bot', s: '1' } });
      assert.equal(login.status, 200, login.text);
      const { cid } = readAlist(login.text);
      const poll = async (node, c, pos, timeout) => {
        const q = new URLSearchParams({ t: String(Date.now()), c: String(c), p: String(pos), s: '0' });
        const r = await get(`${roomUrl(node)}comet?${q}`, { timeout });
        assert.equal(r.status, 200, r.text);
        const j = JSON.parse(r.text);
        return { cid: j.cid, pos: j.pos, texts: j.content.map((e) => e[2]), stamps: j.content.map((e) => e[1]) };
      };
      const all = await poll(a, cid, 0, 20000);
      assert.deepEqual([all.cid, all.pos, all.texts], [cid, 3, ['before 1', 'before 2', 'before 3']]);

      const [sec, usec] = all.stamps[0];  // post 1 goes: pos 3 becomes 2
      const m = await runChaton(['moderate', '--config', config, '--room', SLUG, '--entry', entryId(sec, usec)],
        { timeout: 20000 });
      assert.equal(m.code, 0, m.stdout + m.stderr);
      const late = await startNode();
      nodes.push(late);
      await postOk(roomUrl(a), 'poster', 'after 1');  // pos 3 in the new numbering
      const sequenceOf = async (node) => JSON.parse((await get(`${roomUrl(node)}comet?p=0&s=0`)).text).pos;
      await waitFor(async () => (await sequenceOf(late)) === 3, { what: 'the new post on the late node' });

      // The bot asks the late node with its pos of before (3): an answer at
      // once, under a new cid, with the post it has not had.
      const answer = await Promise.race([poll(late, cid, 3, 20000), sleep(10000).then(() => 'waited')]);
      assert.notEqual(answer, 'waited', `taken as current: it waits, and 'after 1' is skipped\n${logs(nodes)}`);
      assert.notEqual(answer.cid, cid);
      assert.equal(answer.pos, 3);
      assert.ok(answer.texts.includes('after 1'), `started over with what it lacks: ${JSON.stringify(answer)}`);
    });

  test('a reader starting at p=0 gets the same live window on every node', T, async (t) => {
    const pg = await startPg(t);
    if (!pg) return;
    const { nodes, startNode } = await startNodes(t, await pg.freshDatabase('nodes_window'));
    const acks = [];
    for (let i = 0; i < 12; i++) {
      const text = `window post ${i}`;
      const ack = await postOk(roomUrl(nodes[i % NODES]), `poster${i % NODES}`, text);
      acks.push([ack.pos, `poster${i % NODES}`, text]);
    }
    assertGapless(acks);
    // A node started after the posts knows them only from the database.
    const late = await startNode();
    // The same posts in a file-store room: the window a file-store room keeps.
    const single = await startServer(t);
    for (const [, nick, text] of acks) await postOk(roomUrl(single), nick, text);

    const windowOf = async (node, p) => {
      const r = await get(`${roomUrl(node)}comet?p=${p}&s=0`);
      assert.equal(r.status, 200, r.text);
      const j = JSON.parse(r.text);
      return { pos: j.pos, posts: j.content.map((e) => [e[0], e[2]]), stamps: j.content.map((e) => e[1]) };
    };
    const expected = acks.map(([, nick, text]) => [nick, text]);
    const fileWindow = await windowOf(single, 0);
    assert.deepEqual(fileWindow.posts, expected, 'the file-store room keeps today\'s posts');
    let stamps = null;
    for (const [i, node] of [...nodes, late].entries()) {
      const w = await windowOf(node, 0);
      assert.equal(w.pos, acks.length, `node ${i}: pos`);
      assert.deepEqual(w.posts, fileWindow.posts, `node ${i}: the window from p=0 is a file-store room's`);
      stamps ??= w.stamps;
      assert.deepEqual(w.stamps, stamps, `node ${i}: the same times`);
      const tail = await windowOf(node, 7);
      assert.deepEqual(tail.posts, expected.slice(7), `node ${i}: from p=7`);
    }
  });
});
