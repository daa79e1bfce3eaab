// HTTP caching and compression against the real binary (docs/PROTOCOL.md,
// "HTTP caching and compression"): ETag and 304 on archive days, the
// archive index, RSS and status files; content-hashed assets served
// immutable; gzip when the client accepts it, inflating to the very body
// sent without it; never on the live long-poll.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { get, makeTempDir, postOk, request, startServer, waitFor } from './lib/server.mjs';

const T = { timeout: 30000 };
const PAST_DAY = '2024/11/20';

// A past day of 60 posts, written before the server starts.
function writePastDay(dir) {
  const day = path.join(dir, 'data', 'lobby', 'data', '2024', '11');
  fs.mkdirSync(day, { recursive: true });
  const start = Date.UTC(2024, 10, 20, 1) / 1000;
  const lines = Array.from({ length: 60 }, (_, i) =>
    `("alice" (${start + i * 600} ${i}) ${JSON.stringify(`archived post number ${i}, a line of some length`)} "192.0.2.9")\n`);
  fs.writeFileSync(path.join(day, '20.dat'), lines.join(''));
  fs.writeFileSync(path.join(day, '20.cnt'), String(lines.length));
}

async function server(t) {
  const dir = makeTempDir(t);
  writePastDay(dir);
  const srv = await startServer(t, { dir });
  return { srv, room: srv.roomUrl() };
}

test('a past archive day: ETag and a long max-age; If-None-Match with it is 304 with no body', T, async (t) => {
  const { room } = await server(t);
  const url = `${room}a/${PAST_DAY}`;
  const first = await get(url);
  assert.equal(first.status, 200);
  assert.match(first.text, /archived post number 59/);
  const etag = first.headers.etag;
  assert.match(etag ?? '', /^W\/"[0-9a-f]{32}"$/);
  assert.equal(first.headers['cache-control'], 'public, max-age=86400');

  const again = await get(url, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.etag, etag);
  const head = await request(url, { method: 'HEAD', headers: { 'if-none-match': etag } });
  assert.equal(head.status, 304);

  const other = await get(url, { headers: { 'if-none-match': 'W/"00000000000000000000000000000000"' } });
  assert.equal(other.status, 200);
  assert.equal(other.text, first.text);

  // Today's page and the index of months change: short-lived, still validated.
  const index = await get(`${room}a/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers['cache-control'], 'public, max-age=30');
  assert.equal((await get(`${room}a/`, { headers: { 'if-none-match': index.headers.etag } })).status, 304);
});

test('RSS and status files: ETag (and Last-Modified for RSS), 304 until a new post', T, async (t) => {
  const { room } = await server(t);
  await postOk(room, 'bob', 'a live post');
  // Last-Modified comes once the post's second is over (PROTOCOL.md).
  const rss = await waitFor(async () => {
    const r = await get(`${room}var/index.rdf`);
    return r.headers['last-modified'] ? r : null;
  }, { what: 'the feed\'s Last-Modified', ms: 5000 });
  assert.equal(rss.status, 200);
  assert.ok(rss.headers.etag);
  assert.ok(rss.headers['last-modified']);
  assert.equal(rss.headers['cache-control'], 'no-cache');
  assert.equal((await get(`${room}var/index.rdf`, { headers: { 'if-none-match': rss.headers.etag } })).status, 304);
  assert.equal((await get(`${room}var/index.rdf`, { headers: { 'if-modified-since': rss.headers['last-modified'] } })).status, 304);

  const status = await get(`${room}var/status.js`);
  assert.equal(status.status, 200);
  const notModified = await get(`${room}var/status.js`, { headers: { 'if-none-match': status.headers.etag } });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers['access-control-allow-origin'], '*');

  await postOk(room, 'bob', 'another post');
  assert.equal((await get(`${room}var/index.rdf`, { headers: { 'if-none-match': rss.headers.etag } })).status, 200);
  assert.equal((await get(`${room}var/status.js`, { headers: { 'if-none-match': status.headers.etag } })).status, 200);
});

test('the room page links content-hashed assets, served immutable', T, async (t) => {
  const { room } = await server(t);
  const page = await get(room);
  const css = page.text.match(/href="([^"]*chaton\.[0-9a-f]{12}\.css)"/);
  const js = page.text.match(/src="([^"]*chaton\.[0-9a-f]{12}\.js)"/);
  assert.ok(css, 'the stylesheet has a hashed name');
  assert.ok(js, 'the script has a hashed name');
  for (const url of [css[1], js[1]]) {
    const r = await get(url);
    assert.equal(r.status, 200, url);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', url);
    assert.ok(r.headers.etag, url);
  }
  // The stylesheet's unhashed name still answers, briefly cached.
  const plain = await get(`${room}chaton.css`);
  assert.equal(plain.headers['cache-control'], 'public, max-age=300');
  assert.equal(plain.text, (await get(css[1])).text);
});

test('gzip when accepted inflates to the identity body; identity otherwise; never on the long-poll', T, async (t) => {
  const { room } = await server(t);
  const page = await get(room);
  const js = page.text.match(/src="([^"]*chaton\.[0-9a-f]{12}\.js)"/)[1];
  for (const url of [`${room}a/${PAST_DAY}`, room, js, `${room}var/index.rdf`]) {
    const identity = await get(url);
    assert.equal(identity.headers['content-encoding'], undefined, url);
    assert.equal(identity.headers.vary, 'Accept-Encoding', url);
    if (identity.body.length < 1024) continue;  // a tiny body goes as it is
    const gz = await get(url, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(gz.status, 200, url);
    assert.equal(gz.headers['content-encoding'], 'gzip', url);
    assert.equal(gz.headers.vary, 'Accept-Encoding', url);
    assert.ok(gz.body.length < identity.body.length, url);
    assert.deepEqual(zlib.gunzipSync(gz.body), identity.body, url);
    assert.equal(Number(gz.headers['content-length']), gz.body.length, url);
  }
  const refused = await get(`${room}a/${PAST_DAY}`, { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
  assert.equal(refused.headers['content-encoding'], undefined);

  // The live long-poll: a catch-up of many posts still goes uncompressed.
  for (let i = 0; i < 40; i++) await postOk(room, 'bob', `live post ${i}, long enough to make a kilobyte`);
  const comet = await get(`${room}comet?p=0&s=1`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(comet.status, 200);
  assert.ok(comet.body.length >= 1024);
  assert.equal(comet.headers['content-encoding'], undefined);
});
