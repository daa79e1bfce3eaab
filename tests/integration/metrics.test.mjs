// Monitoring end to end (docs/DEPLOY.md, "Monitoring"): /metrics in the
// Prometheus text format, whose figures follow readers of each transport,
// posts, refusals and the rate limiter; /healthz, 200 while every room's
// store can take posts and 503 naming the room when one cannot; both
// refused (403) to a peer outside [site] metrics_allow, and to any request
// that came through a proxy (X-Forwarded-For).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { get, post, postOk, startServer, waitFor } from './lib/server.mjs';
import { RawWebSocket, openSse } from './lib/push.mjs';

const T = { timeout: 30000 };

// The samples of a text exposition: { 'name{labels}': value }, checking on
// the way that every sample's family was declared with # HELP and # TYPE.
function parseMetrics(text) {
  const samples = {};
  const types = {};
  const helps = new Set();
  for (const line of text.split('\n')) {
    if (!line) continue;
    let m = line.match(/^# HELP (\S+) .+$/);
    if (m) { helps.add(m[1]); continue; }
    m = line.match(/^# TYPE (\S+) (counter|gauge|histogram)$/);
    if (m) { types[m[1]] = m[2]; continue; }
    m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/);
    assert.ok(m, `not a sample line: ${line}`);
    const family = Object.keys(types).find((f) => m[1] === f || (types[f] === 'histogram' &&
      [`${f}_bucket`, `${f}_sum`, `${f}_count`].includes(m[1])));
    assert.ok(family && helps.has(family), `${m[1]} has no # HELP and # TYPE before it`);
    if (types[family] === 'counter') assert.ok(m[1].endsWith('_total'), `counter ${m[1]} must end in _total`);
    samples[m[1] + (m[2] ?? '')] = Number(m[3]);
  }
  return { samples, types };
}

async function scrape(server, opts = {}) {
  const r = await get(`${server.url}/metrics`, opts);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  return parseMetrics(r.text);
}

// Waits until every `want` sample satisfies its predicate (a number: equal).
async function until(server, want, what) {
  let last;
  try {
    await waitFor(async () => {
      last = (await scrape(server)).samples;
      return Object.entries(want).every(([k, v]) => (typeof v === 'function' ? v(last[k] ?? 0) : (last[k] ?? 0) === v));
    }, { ms: 10000, every: 50, what });
  } catch (e) {
    const shown = Object.fromEntries(Object.keys(want).map((k) => [k, last?.[k]]));
    throw new Error(`${e.message}: ${JSON.stringify(shown)}`);
  }
  return last;
}

const readers = (transport) => `chaton_readers{room="lobby",transport="${transport}"}`;
const delivered = (transport) => `chaton_posts_delivered_total{room="lobby",transport="${transport}"}`;
const rejected = (reason) => `chaton_post_rejections_total{room="lobby",reason="${reason}"}`;

describe('/metrics', () => {
  test('follows readers of each transport, posts, refusals and the rate limiter', T, async (t) => {
    const server = await startServer(t, {
      // A long-poll waits until a post comes (no timeout within the test).
      comet: { soft_timeout_min: 20, soft_timeout_max: 25, hard_timeout_min: 25, hard_timeout_max: 28 },
      // Two posts, then 429: loopback is not exempt here.
      limits: { post_rate: 0.001, post_burst: 2, rate_limit_exempt: [], text_limit: 50 },
    });
    const room = server.roomUrl();

    const before = await scrape(server);
    assert.equal(before.types.chaton_readers, 'gauge');
    assert.equal(before.types.chaton_post_commit_seconds, 'histogram');
    assert.equal(before.types.chaton_store_sync_seconds, 'histogram');
    assert.equal(before.samples[readers('sse')], 0);
    assert.equal(before.samples['chaton_posts_total{room="lobby"}'], 0);
    assert.equal(before.samples['chaton_post_commit_seconds_bucket{room="lobby",le="+Inf"}'], 0);

    // One reader of each transport. (A short wait for the first packet: an
    // unanswered wait's timer keeps the test process alive that long.)
    const sse = await openSse(`${room}events?p=0`);
    await sse.next(3000);
    const ws = await RawWebSocket.connect(server.port, '/lobby/ws?p=0');
    await ws.next(3000);
    const login = JSON.parse((await get(`${room}comet?c=&p=0&s=0`)).text);  // a new cid comes back at once
    const poll = get(`${room}comet?c=${login.cid}&p=0&s=0`, { timeout: 20000 });
    await until(server, { [readers('long_poll')]: 1, [readers('sse')]: 1, [readers('websocket')]: 1 },
      'a reader of each transport');
    const open = (await scrape(server)).samples.chaton_open_connections;
    assert.ok(open >= 3, `open connections: ${open}`);

    // Refused by the room's rules: counted, no token taken.
    assert.equal((await post(room, { nick: '', text: 'no nick' })).status, 400);
    assert.equal((await post(room, { nick: 'alice', text: 'x'.repeat(51) })).status, 413);
    await postOk(room, 'alice', 'one');
    await postOk(room, 'alice', 'two');
    assert.equal((await post(room, { nick: 'alice', text: 'three' })).status, 429);

    const after = await until(server, {
      'chaton_posts_total{room="lobby"}': 2,
      [rejected('invalid')]: 1,
      [rejected('too_large')]: 1,
      [rejected('rate_limited')]: 1,
      [rejected('store_failure')]: 0,
      'chaton_rate_limited_requests_total{limit="post_rate"}': 1,
      'chaton_post_commit_seconds_count{room="lobby"}': 2,
      'chaton_store_sync_seconds_count{room="lobby"}': (n) => n >= 1 && n <= 2,
      [delivered('sse')]: 2,
      [delivered('websocket')]: 2,
      [delivered('long_poll')]: (n) => n >= 1,
      [readers('long_poll')]: 0,  // answered with the first post
    }, 'the posts and refusals counted');
    assert.equal((await poll).status, 200);
    assert.ok(after['chaton_post_commit_seconds_sum{room="lobby"}'] > 0);
    assert.equal(after['chaton_post_commit_seconds_bucket{room="lobby",le="+Inf"}'], 2);

    sse.close();
    ws.end();
    await until(server, { [readers('sse')]: 0, [readers('websocket')]: 0 }, 'the readers gone');
  });

  test('answers 403 to a peer outside metrics_allow, whatever X-Forwarded-For says', T, async (t) => {
    const server = await startServer(t, {
      site: { metrics_allow: ['127.0.0.1'], trusted_proxies: ['127.0.0.0/8'] },
    });
    for (const p of ['/metrics', '/healthz']) {
      const allowed = await get(server.url + p, { localAddress: '127.0.0.1' });
      assert.equal(allowed.status, 200, `${p} from 127.0.0.1`);
      const other = await get(server.url + p, { localAddress: '127.0.0.2' });
      assert.equal(other.status, 403, `${p} from 127.0.0.2`);
      assert.match(other.text, /metrics_allow/);
      // A trusted proxy naming an allowed client is still the peer checked.
      const forwarded = await get(server.url + p, {
        localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '127.0.0.1' },
      });
      assert.equal(forwarded.status, 403, `${p} from 127.0.0.2 for 127.0.0.1`);
      // Nothing that came through a proxy, even an allowed one on loopback:
      // a reverse proxy there would otherwise publish them (docs/DEPLOY.md).
      const proxied = await get(server.url + p, {
        localAddress: '127.0.0.1', headers: { 'X-Forwarded-For': '127.0.0.1' },
      });
      assert.equal(proxied.status, 403, `${p} through a proxy on 127.0.0.1`);
    }
  });
});

describe('/healthz', () => {
  test('says 503 and names the room while its data directory cannot take a file', T, async (t) => {
    const server = await startServer(t, {
      rooms: [{ slug: 'lobby', name: 'Lobby' }, { slug: 'other', name: 'Other' }],
    });
    const ok = await get(`${server.url}/healthz`);
    assert.equal(ok.status, 200);
    assert.equal(ok.text, 'ok\n');

    // The room's data directory replaced by a file: nothing can be created
    // in it, by root either.
    const data = path.join(server.dir, 'data', 'lobby', 'data');
    fs.renameSync(data, `${data}.away`);
    fs.writeFileSync(data, 'not a directory\n');
    const bad = await get(`${server.url}/healthz`);
    assert.equal(bad.status, 503);
    assert.match(bad.text, /^room lobby: /);
    assert.doesNotMatch(bad.text, /room other/);

    fs.rmSync(data);
    fs.renameSync(`${data}.away`, data);
    assert.equal((await get(`${server.url}/healthz`)).status, 200);
  });
});
