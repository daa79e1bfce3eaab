// The original Chaton protocol end to end (docs/PROTOCOL.md: "API login", "The
// comet long-poll", "Status", "Other"): API login, the comet long-poll loop of
// the original client library in all three reply formats, client ids and the
// chatter count, pings, restarts, the status files, and plain HTTP/1.0 and
// keep-alive over raw sockets.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  CometClient, entryId, get, makeTempDir, parseResponse, post, postOk, rawExchange, readAlist,
  readSexpr, request, sleep, startServer, tags, waitFor, withTimeout,
} from './lib/server.mjs';

const T = { timeout: 20000 };

// Resolves to 'pending' when `p` has not settled within `ms`.
async function settledWithin(p, ms) {
  const marker = Symbol('pending');
  const r = await Promise.race([p.then((v) => v, (e) => e), sleep(ms).then(() => marker)]);
  return r === marker ? 'pending' : r;
}

const htmlUnescape = (s) => s
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&#39;/g, "'").replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
  .replace(/&amp;/g, '&');

const versionOf = (srv) => srv.output().stdout.match(/^chaton (\S+) listening/)[1];

// The exact shape of an s=1 reply (docs/PROTOCOL.md, "The comet long-poll");
// returns the captured fields.
const SEXPR_REPLY = /^\(\(pos \. (\d+)\) \(nc \. (\d+)\) \(ver \. "([^"\\]*)"\) \(cid \. (-?\d+)\) \(content((?: .*)?)\)\)$/s;

describe('API login', () => {
  test('replies in both formats with absolute URLs, cid and the current pos', T, async (t) => {
    const srv = await startServer(t, {
      rooms: [{ slug: 'lobby', name: 'Test "Room" \\ 1', icon_url: 'http://example.org/icon.png' }],
    });
    const room = srv.roomUrl();
    await postOk(room, 'a', 'one');
    await postOk(room, 'a', 'two');

    const s1 = await post(room, { who: 'itest' }, { path: 'apilogin' });
    assert.equal(s1.status, 200);
    assert.match(s1.headers['content-type'], /^application\/x-sexpr/);
    assert.match(s1.text,
      /^\(\(post-uri \. "[^"]*"\) \(comet-uri \. "[^"]*"\) \(icon-uri \. "[^"]*"\) \(room-name \. "(?:[^"\\]|\\.)*"\) \(cid \. \d+\) \(pos \. 2\)\)$/);
    const a = readAlist(s1.text);
    assert.deepEqual(Object.keys(a), ['post-uri', 'comet-uri', 'icon-uri', 'room-name', 'cid', 'pos']);
    assert.equal(a['post-uri'], `${srv.url}/lobby/post`);
    assert.equal(a['comet-uri'], `${srv.url}/lobby/comet`);
    assert.equal(a['icon-uri'], 'http://example.org/icon.png');
    assert.equal(a['room-name'], 'Test "Room" \\ 1');
    assert.ok(Number.isInteger(a.cid) && a.cid >= 0);
    assert.equal(a.pos, 2);

    const explicit = await post(room, { who: 'itest', s: '1' }, { path: 'apilogin' });
    assert.deepEqual(Object.keys(readAlist(explicit.text)), Object.keys(a));

    const s0 = await post(room, { who: 'itest', s: '0' }, { path: 'apilogin' });
    assert.equal(s0.status, 200);
    assert.match(s0.headers['content-type'], /^application\/json/);
    const j = JSON.parse(s0.text);
    assert.deepEqual(Object.keys(j), ['post-uri', 'comet-uri', 'icon-uri', 'room-name', 'cid', 'pos']);
    assert.equal(j['post-uri'], a['post-uri']);
    assert.equal(j['room-name'], 'Test "Room" \\ 1');
    assert.equal(j.pos, 2);
    assert.notEqual(j.cid, a.cid, 'every login gets its own cid');

    const viaGet = await get(room + 'apilogin?who=x');
    assert.equal(viaGet.status, 405);
    assert.match(viaGet.headers.allow ?? '', /POST/);
    assert.equal((await request(room + 'apilogin', { method: 'PUT', body: 'who=x' })).status, 405);

    const noWho = await post(room, { s: '1' }, { path: 'apilogin' });
    assert.equal(noWho.status, 401);
    assert.match(noWho.text, /who/);
  });

  test('URLs handed out are built from the configured public_url', T, async (t) => {
    const srv = await startServer(t, { site: { public_url: 'https://chat.example.org/' } });
    const a = readAlist((await post(srv.roomUrl(), { who: 'x' }, { path: 'apilogin' })).text);
    assert.equal(a['post-uri'], 'https://chat.example.org/lobby/post');
    assert.equal(a['comet-uri'], 'https://chat.example.org/lobby/comet');
    const ack = await postOk(srv.roomUrl(), 'n', 't');
    assert.match(ack.permalink, /^https:\/\/chat\.example\.org\/lobby\/a\/\d{4}\/\d{2}\/\d{2}#entry-[0-9a-f]+-[0-9a-f]{2,}$/);
  });
});

describe('comet long-poll', () => {
  test('a chaton.client-style s=1 loop gets exactly the new post; latency printed', T, async (t) => {
    // Clients are kept 10 s, so a slow moment between requests never drops the talker from nc.
    const srv = await startServer(t, { comet: { client_timeout: 10 } });
    const room = srv.roomUrl();
    const watcher = new CometClient(room, 'watcher');
    const talker = new CometClient(room, 'talker');
    await watcher.login();
    await talker.login();
    const loginCid = watcher.cid;
    assert.equal(watcher.pos, 0);

    const latencies = [];
    for (let round = 1; round <= 5; round++) {
      const waiting = watcher.poll();
      assert.equal(await settledWithin(waiting, 150), 'pending', 'nothing new: the request waits');
      const text = `round ${round}: hello "world" \\ ok`;
      const t0 = performance.now();
      const ack = await talker.talk('bob', text);
      const reply = await withTimeout(waiting, 5000, 'comet delivery');
      latencies.push(performance.now() - t0);

      assert.match(reply.raw, SEXPR_REPLY);
      assert.match(reply.headers['content-type'], /^application\/x-sexpr; charset=utf-8/i);
      assert.equal(reply.headers['cache-control'], 'no-cache');
      assert.deepEqual(Object.keys(reply).filter((k) => !['raw', 'headers'].includes(k)),
        ['pos', 'nc', 'ver', 'cid', 'content']);
      assert.equal(reply.pos, round);
      assert.equal(ack.pos, round);
      assert.equal(reply.cid, loginCid, 'the login cid is kept');
      assert.equal(reply.nc, 2);
      assert.equal(reply.ver, versionOf(srv));
      assert.equal(reply.content.length, 1, 'exactly that post');
      const [nick, [sec, usec], got] = reply.content[0];
      assert.equal(nick, 'bob');
      assert.equal(got, text);
      assert.equal(entryId(sec, usec), ack.id);
      const d = new Date(sec * 1000);
      const ymd = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
      assert.equal(ack.permalink, `${room}a/${ymd}#${ack.id}`, 'permalink as in docs/PROTOCOL.md');
    }
    const sorted = [...latencies].sort((x, y) => x - y);
    console.log(`post-to-delivery latency (post sent -> waiting comet reply), 5 rounds: ${
      latencies.map((x) => x.toFixed(1)).join(', ')} ms; median ${sorted[2].toFixed(1)} ms`);

    // Posts made while the client is between requests come at once, together.
    const a1 = await talker.talk('bob', 'first');
    const a2 = await talker.talk('carol', 'second');
    const t0 = performance.now();
    const both = await watcher.poll();
    assert.ok(performance.now() - t0 < 500, 'answered at once');
    assert.equal(both.pos, 7);
    assert.deepEqual(both.content.map((p) => [p[0], entryId(...p[1]), p[2]]),
      [['bob', a1.id, 'first'], ['carol', a2.id, 'second']]);
  });

  test('all three formats have the exact shape, and (content) when empty', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const ver = versionOf(srv);
    const nick = '<b>Evil & "Co"</b>';
    const a1 = await postOk(room, nick, 'single line <i>x</i>');
    const a2 = await postOk(room, nick, 'line one\nline "two" \\ end\ttab');
    const expected = [
      [nick, 'single line <i>x</i>', a1.id],
      [nick, 'line one\nline "two" \\ end\ttab', a2.id],
    ];

    // s=1
    const s1 = await get(room + 'comet?t=1&c=&p=0&s=1');
    assert.equal(s1.status, 200);
    assert.match(s1.headers['content-type'], /^application\/x-sexpr; charset=utf-8$/i);
    assert.equal(s1.headers['cache-control'], 'no-cache');
    const m = s1.text.match(SEXPR_REPLY);
    assert.ok(m, `s=1 shape: ${s1.text}`);
    assert.equal(m[1], '2');
    assert.equal(m[3], ver);
    assert.match(s1.text, /\(content \("<b>Evil & \\"Co\\"<\/b>" \(\d+ \d+\) "single line <i>x<\/i>"\) \("<b>Evil & \\"Co\\"<\/b>" \(\d+ \d+\) "line one\\nline \\"two\\" \\\\ end\\ttab"\)\)\)$/);
    const r1 = readAlist(s1.text);
    assert.deepEqual(r1.content.map((p) => [p[0], p[2], entryId(...p[1])]), expected);

    // s=0
    const s0 = await get(room + 'comet?t=1&c=&p=0&s=0');
    assert.match(s0.headers['content-type'], /^application\/json; charset=utf-8$/i);
    assert.equal(s0.headers['cache-control'], 'no-cache');
    const j = JSON.parse(s0.text);
    assert.deepEqual(Object.keys(j), ['pos', 'nc', 'ver', 'cid', 'content']);
    assert.equal(j.pos, 2);
    assert.equal(j.ver, ver);
    assert.ok(Number.isInteger(j.nc) && Number.isInteger(j.cid));
    for (const p of j.content) {
      assert.equal(p.length, 3);
      assert.ok(Number.isInteger(p[1][0]) && Number.isInteger(p[1][1]) && p[1].length === 2);
    }
    assert.deepEqual(j.content.map((p) => [p[0], p[2], entryId(...p[1])]), expected);

    // web (no s)
    const w = await get(room + 'comet?t=1&c=&p=0');
    const web = JSON.parse(w.text);
    assert.deepEqual(Object.keys(web), ['pos', 'nc', 'ver', 'cid', 'content']);
    assert.equal(typeof web.content, 'string');
    const html = web.content;
    const escNick = '&lt;b&gt;Evil &amp; (?:&quot;|&#34;)Co(?:&quot;|&#34;)&lt;/b&gt;';
    assert.match(html, new RegExp(
      `^<div class="entry-header"><span class="chatter nick-c\\d+">${escNick}</span><span class="timestamp"><time datetime="\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z">\\d{4}/\\d{2}/\\d{2} \\d{2}:\\d{2}:\\d{2} UTC</time></span></div>`));
    assert.equal(html.match(/class="entry-header"/g).length, 1, 'a run of posts from one person has one header');
    // Permalinks: named after their post, out of the tab order (docs/PROTOCOL.md, "Rendering").
    const permalink = (a) => new RegExp(`<a class="permalink-anchor" id="anchor-${a.id}" href="${a.permalink}" target="_parent" `
      + `tabindex="-1" aria-label="Permalink to the post by ${escNick} at \\d{4}/\\d{2}/\\d{2} \\d{2}:\\d{2}:\\d{2} UTC">#</a>`);
    assert.match(html, permalink(a1));
    assert.match(html, permalink(a2));
    assert.ok(html.includes(`<div class="entry-single" id="${a1.id}"><span>single line &lt;i&gt;x&lt;/i&gt;</span></div>`), html);
    assert.match(html, new RegExp(`<pre class="entry-multi" id="${a2.id}">line one\nline (?:&quot;|&#34;)two(?:&quot;|&#34;) \\\\ end\ttab</pre>`));
    assert.deepEqual([...new Set(tags(html).map((x) => x.name))].sort(), ['a', 'div', 'pre', 'span', 'time']);

    // Empty replies: an unknown cid with p at the end gets a new cid at once.
    const e1 = await get(room + 'comet?t=2&c=999999999&p=2&s=1');
    assert.match(e1.text, /^\(\(pos \. 2\) \(nc \. \d+\) \(ver \. "[^"]*"\) \(cid \. \d+\) \(content\)\)$/);
    assert.notEqual(readAlist(e1.text).cid, 999999999);
    const e0 = JSON.parse((await get(room + 'comet?t=2&c=999999999&p=2&s=0')).text);
    assert.deepEqual(Object.keys(e0), ['pos', 'nc', 'ver', 'cid', 'content']);
    assert.deepEqual(e0.content, []);
    const ew = JSON.parse((await get(room + 'comet?t=2&c=999999999&p=2')).text);
    assert.equal(ew.content, '');
    assert.equal(ew.refresh, undefined);
  });

  test('loose_login=false: an unknown cid gets the "expired" reply', T, async (t) => {
    const srv = await startServer(t, { rooms: [{ slug: 'strict', loose_login: false }] });
    const room = srv.roomUrl('strict');
    await postOk(room, 'n', 'a post that must not be sent');
    const s1 = await get(room + 'comet?t=1&c=12345&p=0&s=1');
    assert.equal(s1.status, 200);
    assert.match(s1.text, /^\(\(pos \. 0\) \(nc \. \d+\) \(ver \. "[^"]*"\) \(cid \. -1\) \(content\)\)$/);
    const s0 = JSON.parse((await get(room + 'comet?t=1&c=12345&p=0&s=0')).text);
    assert.deepEqual([s0.pos, s0.cid, s0.content], [0, -1, []]);
    const w = JSON.parse((await get(room + 'comet?t=1&c=12345&p=0')).text);
    assert.deepEqual([w.pos, w.cid, w.content], [0, -1, '']);
    const none = readAlist((await get(room + 'comet?t=1&p=0&s=1')).text);
    assert.equal(none.cid, -1, 'no cid at all is expired too');

    // A cid from apilogin is accepted.
    const c = new CometClient(room, 'strict-client');
    await c.login();
    c.pos = 0;
    const r = await c.poll();
    assert.equal(r.cid, c.login_.cid);
    assert.equal(r.content.length, 1);
  });

  test('a duplicate waiting cid gets a new cid; the old request is closed without a reply', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const a = new CometClient(room, 'dup');
    await a.login();
    const url = a.cometUrl(1);
    const first = get(url, { timeout: 8000 });
    assert.equal(await settledWithin(first, 200), 'pending');
    const t0 = performance.now();
    const second = await get(url);
    assert.ok(performance.now() - t0 < 500, 'the duplicate is answered at once');
    const r = readAlist(second.text);
    assert.notEqual(r.cid, a.cid, 'a new cid is given');
    assert.deepEqual(r.content, []);
    assert.equal(r.nc, 1, 'the old cid was dropped');
    const outcome = await withTimeout(first.then((res) => ({ res }), (err) => ({ err })), 5000, 'old request');
    assert.ok(outcome.err, `the old request must be closed without a reply, got ${outcome.res?.status} ${outcome.res?.text}`);
    // The old cid is gone: using it again gives yet another new cid.
    const again = readAlist((await get(url)).text);
    assert.notEqual(again.cid, a.cid);
  });

  test('a waiting request is pinged with empty content at the hard timeout', T, async (t) => {
    const srv = await startServer(t, { comet: { hard_timeout_min: 1, hard_timeout_max: 1.5 } });
    const c = new CometClient(srv.roomUrl(), 'idle');
    await c.login();
    const t0 = performance.now();
    const r = await c.poll();
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 900 && elapsed < 3000, `ping after ${elapsed.toFixed(0)} ms, expected 1000-1500`);
    assert.match(r.raw, /\(content\)\)$/);
    assert.equal(r.pos, 0);
    assert.equal(r.cid, c.login_.cid);
  });

  test('a waiting request is pinged at a soft timeout when nc changed', T, async (t) => {
    const srv = await startServer(t, {
      comet: { soft_timeout_min: 0.3, soft_timeout_max: 0.5, hard_timeout_min: 4, hard_timeout_max: 5, client_timeout: 10 },
    });
    const room = srv.roomUrl();
    const a = new CometClient(room, 'a');
    await a.login();
    const t0 = performance.now();
    const waiting = a.poll();
    await sleep(100);
    await new CometClient(room, 'b').login(); // nc 1 -> 2
    const r = await withTimeout(waiting, 6000, 'soft ping');
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 250 && elapsed < 2000, `soft ping after ${elapsed.toFixed(0)} ms`);
    assert.equal(r.nc, 2);
    assert.deepEqual(r.content, []);
  });

  test('nc counts clients and drops idle ones after client_timeout', T, async (t) => {
    const srv = await startServer(t, { comet: { client_timeout: 1 } });
    const room = srv.roomUrl();
    const status = async () => JSON.parse((await get(room + 'var/status.js')).text)['num-chatters'];
    const a = new CometClient(room, 'a');
    const b = new CometClient(room, 'b');
    const c = new CometClient(room, 'c');
    await a.login();
    await b.login();
    await c.login();
    assert.equal(await status(), 3);

    // c keeps polling, a and b go silent.
    let stop = false;
    let lastNc = null;
    const loop = (async () => {
      while (!stop) {
        const r = await c.poll({ timeout: 5000 });
        lastNc = r.nc;
      }
    })();
    try {
      const t0 = performance.now();
      await waitFor(async () => (await status()) === 1, { ms: 6000, what: 'idle clients dropped' });
      const dropped = performance.now() - t0;
      assert.ok(dropped >= 700, `dropped after ${dropped.toFixed(0)} ms, before client_timeout`);
      await sleep(1500);
      assert.equal(await status(), 1, 'the polling client stays');
      const file = path.join(srv.dir, 'data', 'lobby', 'data', 'num-chatters');
      await waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() === '1',
        { ms: 3000, what: 'num-chatters file' });
    } finally {
      stop = true;
      await withTimeout(loop, 5000, 'poll loop').catch(() => {});
    }
    assert.equal(lastNc, 1);
  });

  test('a client that goes away while waiting is dropped after client_timeout', T, async (t) => {
    const srv = await startServer(t, { comet: { hard_timeout_min: 10, hard_timeout_max: 12, client_timeout: 1 } });
    const room = srv.roomUrl();
    const c = new CometClient(room, 'leaver');
    await c.login();
    // The request waits; the client closes its socket after 200 ms.
    const gone = await rawExchange(srv.port, `GET /lobby/comet?t=1&c=${c.cid}&p=0&s=1 HTTP/1.1\r\nHost: x\r\n\r\n`, { timeout: 200 });
    assert.equal(gone.data.length, 0, 'no reply while waiting');
    const t0 = performance.now();
    await waitFor(async () => JSON.parse((await get(room + 'var/status.js')).text)['num-chatters'] === 0,
      { ms: 5000, what: 'the departed client dropped' });
    assert.ok(performance.now() - t0 < 4000, 'long before the hard timeout');
  });

  // The waiting request gets an empty reply, as at a ping (docs/PROTOCOL.md,
  // "When the server stops"), so the client asks again.
  test('SIGTERM after posts and with a request waiting: the server stops at once with status 0', T, async (t) => {
    const srv = await startServer(t, { comet: { hard_timeout_min: 10, hard_timeout_max: 12 } });
    await postOk(srv.roomUrl(), 'n', 'one post');
    const c = new CometClient(srv.roomUrl(), 'x');
    await c.login();
    const waiting = c.poll().then((a) => (a.content.length === 0 ? 'empty reply' : 'news'), () => 'closed');
    assert.equal(await settledWithin(waiting, 150), 'pending');
    const t0 = performance.now();
    const exit = await srv.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, 'a clean exit within 3 s of SIGTERM');
    assert.ok(performance.now() - t0 < 3000, 'no wait for the long-poll');
    assert.equal(await withTimeout(waiting, 3000, 'waiting request'), 'empty reply');
  });

  test('pos survives a restart; old pos gets only newer posts; p beyond the end refreshes', T, async (t) => {
    const dir = makeTempDir(t);
    const first = await startServer(t, { dir });
    const room1 = first.roomUrl();
    const acks = [];
    for (const text of ['one', 'two', 'three']) acks.push(await postOk(room1, 'n', text));
    assert.deepEqual(acks.map((a) => a.pos), [1, 2, 3]);
    await first.stop(); // a clean exit is checked by the SIGTERM test
    assert.equal(fs.readFileSync(path.join(dir, 'data', 'lobby', 'data', 'sequence'), 'utf8').trim(), '3');

    const second = await startServer(t, { dir });
    const room = second.roomUrl();
    assert.equal((await get(room + 'var/seq')).text.trim(), '3');
    acks.push(await postOk(room, 'n', 'four'));
    assert.equal(acks[3].pos, 4);

    const only4 = readAlist((await get(room + 'comet?t=1&c=&p=3&s=1')).text);
    assert.equal(only4.pos, 4);
    assert.deepEqual(only4.content.map((p) => p[2]), ['four']);
    const from2 = JSON.parse((await get(room + 'comet?t=1&c=&p=2&s=0')).text);
    assert.deepEqual(from2.content.map((p) => [p[2], entryId(...p[1])]), [['three', acks[2].id], ['four', acks[3].id]]);

    const beyond = JSON.parse((await get(room + 'comet?t=1&c=&p=50')).text);
    assert.equal(beyond.refresh, true);
    assert.equal(beyond.pos, 4);
    for (const a of acks) assert.ok(beyond.content.includes(`id="${a.id}"`), `refresh carries ${a.id}`);
    const noP = readAlist((await get(room + 'comet?t=1&c=0&s=1')).text);
    assert.equal(noP.content.length, 4, 'absent p means 0');
    const beyondS1 = readAlist((await get(room + 'comet?t=1&c=&p=50&s=1')).text);
    assert.deepEqual(beyondS1.content.map((p) => p[2]), ['one', 'two', 'three', 'four']);
  });
});

describe('status files, index and robots', () => {
  test('var/seq, status.js, status.scm, index.rdf, /, robots.txt, page assets', T, async (t) => {
    const srv = await startServer(t, { rooms: [{ slug: 'lobby', name: 'The <Lobby>', description: 'Say <em>hello</em>.' }] });
    const room = srv.roomUrl();
    const before = Math.floor(Date.now() / 1000);
    const acks = [];
    for (const text of ['first', 'second', 'third & last']) acks.push(await postOk(room, 'n', text));
    await new CometClient(room, 'x').login();

    const seq = await get(room + 'var/seq');
    assert.equal(seq.status, 200);
    assert.match(seq.headers['content-type'], /^text\/plain/);
    assert.equal(seq.text.trim(), '3');

    const js = await get(room + 'var/status.js');
    const sj = JSON.parse(js.text);
    assert.deepEqual(Object.keys(sj), ['last-post', 'num-chatters', 'post-sequence']);
    assert.equal(sj['post-sequence'], 3);
    assert.equal(sj['num-chatters'], 1);
    assert.ok(sj['last-post'] >= before - 1 && sj['last-post'] <= Date.now() / 1000 + 1);

    const scm = await get(room + 'var/status.scm');
    assert.match(scm.text, /^\(\(last-post \. \d+\) \(num-chatters \. 1\) \(post-sequence \. 3\)\)$/);
    assert.equal(readAlist(scm.text)['last-post'], sj['last-post']);

    const rdf = await get(room + 'var/index.rdf');
    assert.equal(rdf.status, 200);
    assert.match(rdf.headers['content-type'], /xml/);
    assert.ok(rdf.text.startsWith('<?xml'), rdf.text.slice(0, 50));
    assert.ok(rdf.text.includes('<rss version="2.0"'));
    assert.match(rdf.text, /<\/rss>\s*$/);
    const items = rdf.text.match(/<item>[\s\S]*?<\/item>/g) ?? [];
    assert.equal(items.length, 3);
    assert.ok(items[0].includes('<title>n: third &amp; last</title>'), 'newest first');
    assert.ok(items[0].includes(acks[2].permalink));
    assert.equal((rdf.text.match(/<channel>/g) ?? []).length, 1);
    assert.ok(rdf.text.includes('<title>The &lt;Lobby&gt;</title>'));

    const robots = await get(`${srv.url}/robots.txt`);
    assert.equal(robots.status, 200);
    assert.match(robots.headers['content-type'], /^text\/plain/);
    assert.match(robots.text, /^User-agent: \*$/m);
    assert.match(robots.text, /^Disallow: /m);

    const index = await get(`${srv.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers['content-type'], /^text\/html/);
    assert.ok(index.text.includes(`href="${room}"`), 'the index links to the room');
    assert.ok(index.text.includes('The &lt;Lobby&gt;'));
    assert.ok(!index.text.includes('The <Lobby>'));

    const noSlash = await get(`${srv.url}/lobby`);
    assert.equal(noSlash.status, 301);
    assert.equal(noSlash.headers.location, room);  // absolute, like every URL handed out

    const page = await get(room);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes('Say <em>hello</em>.'), 'the description is the operator\'s HTML');
    const script = page.text.match(/<script src="([^"]*\/chaton\.[0-9a-f]+\.js)"/);
    assert.ok(script, 'the page loads chaton.<hash>.js');
    const jsAsset = await get(new URL(script[1], room).href);
    assert.equal(jsAsset.status, 200);
    assert.match(jsAsset.headers['content-type'], /javascript/);
    assert.ok(jsAsset.body.length > 100);
    const css = await get(room + 'chaton.css');
    assert.equal(css.status, 200);
    assert.match(css.headers['content-type'], /^text\/css/);
  });
});

describe('HTTP versions and connections', () => {
  test('HTTP/1.0 requests over a raw socket get valid replies', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    await postOk(room, 'n', 'hello');

    const seq = await rawExchange(srv.port, 'GET /lobby/var/seq HTTP/1.0\r\n\r\n');
    assert.ok(seq.closed, 'HTTP/1.0 without keep-alive: the server closes');
    const r = parseResponse(seq.data);
    assert.match(r.statusLine, /^HTTP\/1\.[01] 200 OK$/);
    assert.equal(r.body, '1');

    const body = 'who=raw10&s=1';
    const login = parseResponse((await rawExchange(srv.port,
      `POST /lobby/apilogin HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`)).data);
    assert.equal(login.status, 200);
    const a = readAlist(login.body);

    // A long-poll over HTTP/1.0, answered by a post.
    const pending = rawExchange(srv.port, `GET /lobby/comet?t=1&c=${a.cid}&p=1&s=1 HTTP/1.0\r\n\r\n`, { timeout: 8000 });
    await sleep(150);
    await postOk(room, 'n', 'for the 1.0 client');
    const lp = await pending;
    assert.ok(lp.closed);
    const reply = parseResponse(lp.data);
    assert.equal(reply.status, 200);
    assert.deepEqual(readAlist(reply.body).content.map((p) => p[2]), ['for the 1.0 client']);
  });

  test('keep-alive: two HTTP/1.1 requests on one socket', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const ack = await postOk(room, 'n', 'ka');
    const sock = (await import('node:net')).connect({ host: '127.0.0.1', port: srv.port });
    t.after(() => sock.destroy());
    let buf = Buffer.alloc(0);
    let closed = false;
    sock.on('data', (c) => { buf = Buffer.concat([buf, c]); });
    sock.on('close', () => { closed = true; });
    sock.on('error', () => {});
    await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });

    sock.write('GET /lobby/var/seq HTTP/1.1\r\nHost: x\r\n\r\n');
    const r1 = await waitFor(() => parseResponse(buf), { ms: 5000, every: 10, what: 'first response' });
    assert.equal(r1.status, 200);
    assert.equal(r1.body, '1');
    buf = r1.rest;
    assert.equal(closed, false, 'the connection stays open');

    sock.write(`GET /lobby/comet?t=1&c=&p=0&s=0 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const r2 = await waitFor(() => parseResponse(buf), { ms: 5000, every: 10, what: 'second response' });
    assert.equal(r2.status, 200);
    assert.equal(entryId(...JSON.parse(r2.body).content[0][1]), ack.id);
    assert.equal(closed, false);
    buf = r2.rest;

    // Pipelined: two requests in one write, two responses in order.
    sock.write('GET /lobby/var/seq HTTP/1.1\r\nHost: x\r\n\r\nGET /lobby/var/status.scm HTTP/1.1\r\nHost: x\r\n\r\n');
    const two = () => { const a = parseResponse(buf); const b = a && parseResponse(a.rest); return b && [a, b]; };
    const [p1, p2] = await waitFor(two, { ms: 5000, every: 10, what: 'pipelined responses' });
    assert.equal(p1.body, '1');
    assert.match(p2.body, /^\(\(last-post \. \d+\)/);

    // A request pipelined behind a waiting long-poll is answered after it.
    const c = new CometClient(room, 'pipe');
    await c.login();
    buf = Buffer.alloc(0);
    sock.write(`GET /lobby/comet?t=1&c=${c.cid}&p=1&s=1 HTTP/1.1\r\nHost: x\r\n\r\n`);
    await sleep(150);
    sock.write('GET /lobby/var/seq HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(150);
    assert.equal(buf.length, 0, 'the long-poll still waits');
    await postOk(room, 'n', 'wakes the poll');
    const [lp, after] = await waitFor(two, { ms: 5000, every: 10, what: 'long-poll reply, then the pipelined one' });
    assert.deepEqual(readAlist(lp.body).content.map((p) => p[2]), ['wakes the poll']);
    assert.equal(after.body, '2');
    assert.equal(closed, false);
  });

  test('HEAD gets the headers without a body, so keep-alive stays in sync', {
    ...T,
  }, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    await postOk(room, 'n', 'x');
    const { data } = await rawExchange(srv.port,
      'HEAD /lobby/var/seq HTTP/1.1\r\nHost: x\r\n\r\nGET /lobby/var/seq HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const text = data.toString('latin1');
    const firstEnd = text.indexOf('\r\n\r\n');
    assert.match(text.slice(0, firstEnd), /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(text.startsWith('HTTP/1.1 200 OK', firstEnd + 4),
      `the second response must follow the HEAD headers directly, got ${JSON.stringify(text.slice(firstEnd + 4, firstEnd + 24))}`);
    const head = await request(room + 'var/status.js', { method: 'HEAD', timeout: 3000 });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });
});

// Sanity of the reader itself, so a failure above is never the reader's.
test('S-expression reader', () => {
  assert.deepEqual(readAlist('((a . 1) (b . "x\\"y\\\\z\\n\\t\\x01;") (content))'),
    { a: 1, b: 'x"y\\z\n\t\x01', content: [] });
  assert.deepEqual(readSexpr('("n" (1 2) "t")'), ['n', [1, 2], 't']);
  assert.throws(() => readSexpr('("n" (1 2) "t'));
  assert.throws(() => readSexpr('(a) b'));
});
