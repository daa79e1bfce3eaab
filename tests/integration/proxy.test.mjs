// One Chaton behind Debian's nginx, configured as docs/DEPLOY.md says
// ("Behind a reverse proxy"; tests/integration/lib/nginx.mjs runs that very
// text). Clients reach nginx from different loopback addresses (127.0.0.2,
// 127.0.0.3, ...: the client socket is bound to them), so nginx's
// $remote_addr differs per client while every connection Chaton sees comes
// from nginx at 127.0.0.1. With `trusted_proxies = ["127.0.0.1"]` the post
// rate limit, the per-address connection cap, the blacklist and
// `chaton moderate --address` each apply to the real client and to it
// alone. Without it, Chaton warns once in its log that it ignores the
// proxy's X-Forwarded-For. Skipped without nginx (fails with CI=true).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import {
  get, makeTempDir, post, runChaton, startServer, waitFor, withTimeout,
} from './lib/server.mjs';
import { DEPLOY_DOC, requireNginx, startNginx } from './lib/nginx.mjs';

const T = { timeout: 60000 };
const ALICE = '127.0.0.2';
const BOB = '127.0.0.3';

// nginx from docs/DEPLOY.md in front of one server started with `site` and
// `limits`; null when skipped. The server starts first and nginx with it as
// its upstream: no reload, so no old nginx worker that may still take a
// connection and answer 502. (The server's public_url is then its own
// address; these tests follow no link.)
async function behindNginx(t, { site = { trusted_proxies: ['127.0.0.1'] }, limits = {} } = {}) {
  if (!requireNginx(t)) return null;
  const srv = await startServer(t, { site, limits });
  const proxy = await startNginx(t, { doc: DEPLOY_DOC, upstreams: [`127.0.0.1:${srv.port}`] });
  return { proxy, srv, room: `${proxy.url}/lobby/` };
}

const say = (room, from, text, headers = {}) => post(room, { nick: from, text }, { localAddress: from, headers });

// An event stream opened through nginx from `from`; resolves with its
// status once the response header is in, the stream kept open until the
// test ends.
function openStream(t, url, from) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, localAddress: from, headers: { accept: 'text/event-stream' } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    t.after(() => req.destroy());
    req.end();
  });
}

describe('behind nginx (docs/DEPLOY.md)', () => {
  test('the post rate limit counts each client by its own address, forged X-Forwarded-For or not', T, async (t) => {
    const s = await behindNginx(t, { limits: { post_rate: 0.01, post_burst: 2 } });
    if (!s) return;
    for (let i = 0; i < 2; i++) {
      const r = await say(s.room, ALICE, `a${i}`);
      assert.equal(r.status, 200, `${r.text}\n${s.proxy.errorLog()}\n${s.srv.output().stderr}`);
    }
    const over = await say(s.room, ALICE, 'a2', { 'x-forwarded-for': '198.51.100.9' });
    assert.equal(over.status, 429, `${ALICE} is over its burst of 2 (a forged header changes nothing): ${over.text}`);
    assert.match(over.text, /too fast/);
    for (let i = 0; i < 2; i++) {
      const r = await say(s.room, BOB, `b${i}`);
      assert.equal(r.status, 200, `${BOB} has a burst of its own: ${r.text}`);
    }
  });

  test('the connection cap counts each client by its own address', T, async (t) => {
    const s = await behindNginx(t, { limits: { max_connections_per_address: 2 } });
    if (!s) return;
    const events = `${s.room}events?p=0`;
    assert.equal(await openStream(t, events, ALICE), 200);
    assert.equal(await openStream(t, events, ALICE), 200);
    const third = await get(s.room, { localAddress: ALICE });
    assert.equal(third.status, 429, `${ALICE} holds 2 connections already: ${third.text}`);
    assert.match(third.text, /too many connections from your address/);
    assert.equal((await get(s.room, { localAddress: BOB })).status, 200, `${BOB} is not capped`);
    assert.equal(await openStream(t, events, BOB), 200);
    // nginx keeps its connections to Chaton alive: a connection that served
    // Bob counts against nobody once its response is written.
    for (let i = 0; i < 5; i++) assert.equal((await get(s.room, { localAddress: BOB })).status, 200);
  });

  test('the blacklist and moderate --address see the real client', T, async (t) => {
    const s = await behindNginx(t);
    if (!s) return;
    assert.equal((await say(s.room, ALICE, 'alice one')).status, 200);
    assert.equal((await say(s.room, BOB, 'bob one')).status, 200);
    assert.equal((await say(s.room, ALICE, 'alice two')).status, 200);

    const blacklist = path.join(s.srv.dir, 'data', 'lobby', 'data', 'blacklist.txt');
    fs.writeFileSync(blacklist, `${ALICE}\n`);
    const refused = await say(s.room, ALICE, 'alice three');
    assert.equal(refused.status, 403, refused.text);
    assert.equal((await say(s.room, BOB, 'bob two')).status, 200, `${BOB} is not blacklisted`);
    fs.writeFileSync(blacklist, '');

    const config = path.join(s.srv.dir, 'chaton.toml');
    const r = await runChaton(['moderate', '--config', config, '--room', 'lobby', '--address', ALICE]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^lobby: removed 2 posts/m);
    // The room's feed holds its recent posts.
    const feed = await waitFor(async () => {
      const p = await get(`${s.room}var/index.rdf`, { localAddress: BOB });
      return p.text.includes('alice') ? null : p.text;
    }, { ms: 5000, what: "the room without Alice's posts" });
    assert.match(feed, /bob one/);
    assert.match(feed, /bob two/);
  });

  test('without trusted_proxies the proxy\'s X-Forwarded-For is ignored, and the log says so once', T, async (t) => {
    const s = await behindNginx(t, { site: {} });
    if (!s) return;
    for (const [from, text] of [[ALICE, 'one'], [BOB, 'two']]) {
      const r = await say(s.room, from, text);
      assert.equal(r.status, 200, `${r.text}\n${s.proxy.errorLog()}\n${s.srv.output().stderr}`);
    }
    const warned = () => s.srv.output().stderr.split('\n').filter((l) => /X-Forwarded-For/.test(l));
    await withTimeout(waitFor(() => warned().length > 0, { ms: 3000, what: 'the warning' }), 5000, 'the warning');
    const lines = warned();
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /warning: .*127\.0\.0\.1.*trusted_proxies/);
  });
});

// The same server without nginx: a client's own X-Forwarded-For is ignored
// too, and says so once as well.
test('X-Forwarded-For straight from a client is ignored, with one warning', T, async (t) => {
  const srv = await startServer(t, { dir: makeTempDir(t) });
  for (let i = 0; i < 3; i++) {
    const r = await get(srv.roomUrl(), { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
    assert.equal(r.status, 200);
  }
  await waitFor(() => /X-Forwarded-For/.test(srv.output().stderr), { ms: 3000, what: 'the warning' });
  assert.equal(srv.output().stderr.split('\n').filter((l) => /X-Forwarded-For/.test(l)).length, 1);
});
