// Posting (docs/PROTOCOL.md, "Posting", "Differences from the original";
// docs/STORAGE.md, "blacklist.txt"): normalisation of nick and text, refusals
// with clear HTTP errors, JSON bodies, the blacklist over IPv4 and IPv6, HTML
// escaping of hostile input, the chaton-poster-<slug> alias, and a barrage of
// bad requests that must leave the room's log untouched.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  datLines, entryId, get, post, postOk, rawExchange, parseResponse, readLogLine, request, sleep,
  startServer, tags, waitFor,
} from './lib/server.mjs';

const T = { timeout: 20000 };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const currentDat = (srv, slug = 'lobby') => path.join(srv.dir, 'data', slug, 'data', 'current.dat');
const blacklistFile = (srv, slug = 'lobby') => path.join(srv.dir, 'data', slug, 'data', 'blacklist.txt');

// The post the server stored under `pos`, as the s=0 comet reply gives it.
async function storedAt(room, pos) {
  const r = JSON.parse((await get(`${room}comet?t=1&c=&p=${pos - 1}&s=0`)).text);
  assert.equal(r.pos, pos);
  assert.equal(r.content.length, 1);
  const [nick, [sec, usec], text] = r.content[0];
  return { nick, sec, usec, text };
}

// A refusal: the status, a text/plain body of exactly one line.
function assertRefusal(res, status, about) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers['content-type'], /^text\/plain/);
  assert.match(res.text, /^[^\n]+\n?$/, `one-line message, got ${JSON.stringify(res.text)}`);
  if (about) assert.match(res.text, about);
}

describe('normalisation', () => {
  test('trims, removes control characters, keeps tab/newline, repairs UTF-8', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const cases = [
      // [form body (already encoded), expected nick, expected text]
      ['nick=%20%20alice%20%20&text=%20%20hello%20%20', 'alice', 'hello'],
      ['nick=bob&text=a%01b%7Fc%C2%85d%1Be', 'bob', 'abcde'],
      ['nick=bob&text=tab%09kept%0Anew%20line', 'bob', 'tab\tkept\nnew line'],
      ['nick=bob&text=crlf%0D%0Aand%0Dcr', 'bob', 'crlf\nand\ncr'],
      ['nick=multi%0Aline%09nick&text=x', 'multi line nick', 'x'],
      ['nick=nul&text=a%00b', 'nul', 'ab'],
      ['nick=utf8&text=a%FFb%C3%28c%C3', 'utf8', 'a?b?(c?'],
      ['nick=%E5%A4%AA%E9%83%8E&text=%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF+%F0%9F%8E%89', '太郎', 'こんにちは 🎉'],
      ['nick=plus&text=a+b%2Bc', 'plus', 'a b+c'],
    ];
    for (const [body, nick, text] of cases) {
      const r = await post(room, body, { headers: FORM });
      assert.equal(r.status, 200, `${body}: ${r.text}`);
      const ack = JSON.parse(r.text);
      const got = await storedAt(room, ack.pos);
      assert.deepEqual([got.nick, got.text], [nick, text], body);
      assert.equal(entryId(got.sec, got.usec), ack.id);
    }
    // The same in the log, with the client address as fourth element.
    const lines = datLines(currentDat(srv));
    assert.equal(lines.length, cases.length);
    lines.forEach((line, i) => {
      const p = readLogLine(line);
      assert.ok(p, `line ${i + 1} reads: ${line}`);
      assert.deepEqual([p.nick, p.text, p.ip], [cases[i][1], cases[i][2], '127.0.0.1']);
    });
    assert.match(lines[0], /^\("alice" \(\d+ \d+\) "hello" "127\.0\.0\.1"\)$/);
    assert.match(lines[2], /^\("bob" \(\d+ \d+\) "tab\\tkept\\nnew line" "127\.0\.0\.1"\)$/);
  });

  test('raw (not percent-encoded) bytes in a form body: invalid UTF-8 becomes ?, UTF-8 and spaces are kept', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const body = Buffer.concat([Buffer.from('nick=raw&text=a'), Buffer.from([0xff, 0xfe]), Buffer.from('b')]);
    let r = await post(room, body, { headers: FORM });
    assert.equal(r.status, 200, r.text);
    assert.equal((await storedAt(room, JSON.parse(r.text).pos)).text, 'a??b');
    // As `curl -d 'nick=太郎&text=hello world'` sends it.
    r = await post(room, Buffer.from('nick=太郎&text=hello world <b>"x"</b>'), { headers: FORM });
    assert.equal(r.status, 200, r.text);
    const got = await storedAt(room, JSON.parse(r.text).pos);
    assert.deepEqual([got.nick, got.text], ['太郎', 'hello world <b>"x"</b>']);
  });

  test('a "%" not followed by two hex digits in a form body is kept as it is', {
    ...T,
  }, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const r = await post(room, Buffer.from('nick=a&text=100% sure, 50%off'), { headers: FORM });
    assert.equal(r.status, 200, r.text);
    assert.equal((await storedAt(room, JSON.parse(r.text).pos)).text, '100% sure, 50%off');
  });

  test('JSON bodies are accepted like forms', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const a = await post(room, { nick: ' json ', text: 'from \u3042 JSON\r\n2nd' }, { json: true });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(Object.keys(JSON.parse(a.text)), ['pos', 'id', 'permalink']);
    let got = await storedAt(room, 1);
    assert.deepEqual([got.nick, got.text], ['json', 'from あ JSON\n2nd']);
    const b = await post(room, '{"nick":"j2","text":"charset \\u00e9"}',
      { headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(b.status, 200, b.text);
    got = await storedAt(room, 2);
    assert.equal(got.text, 'charset é');
    // Fields in the query string count too (docs/PROTOCOL.md).
    const q = await request(room + 'post?nick=qs&text=from%20the%20query', { method: 'POST', body: '', headers: FORM });
    assert.equal(q.status, 200, q.text);
    got = await storedAt(room, 3);
    assert.deepEqual([got.nick, got.text], ['qs', 'from the query']);
  });
});

describe('refusals', () => {
  test('400 empty, 413 over the limit, 405 wrong method, 413 body too large; nothing stored', T, async (t) => {
    const srv = await startServer(t, { limits: { text_limit: 20, nick_limit: 8, max_body_bytes: 4096 } });
    const room = srv.roomUrl();
    assertRefusal(await post(room, { nick: '', text: 'x' }), 400, /nick/i);
    assertRefusal(await post(room, { nick: ' \t\n ', text: 'x' }), 400, /nick/i);
    assertRefusal(await post(room, { text: 'x' }), 400, /nick/i);
    assertRefusal(await post(room, { nick: 'n', text: '' }), 400, /text/i);
    assertRefusal(await post(room, { nick: 'n', text: ' \r\n\t ' }), 400, /text/i);
    assertRefusal(await post(room, { nick: 'n', text: '\x01\x02' }), 400, /text/i);
    assertRefusal(await post(room, { nick: 'n' }), 400, /text/i);

    assert.equal((await post(room, { nick: 'n', text: 'x'.repeat(20) })).status, 200);
    assert.equal((await post(room, { nick: 'n', text: 'あ'.repeat(20) })).status, 200, 'counted in characters');
    assert.equal((await post(room, { nick: 'n', text: '🎉'.repeat(20) })).status, 200);
    assert.equal((await post(room, { nick: 'n', text: `  ${'y'.repeat(20)}  ` })).status, 200, 'limit after trimming');
    assertRefusal(await post(room, { nick: 'n', text: 'x'.repeat(21) }), 413, /20/);
    assertRefusal(await post(room, { nick: 'n', text: 'あ'.repeat(21) }), 413);
    assert.equal((await post(room, { nick: 'ninechars'.slice(0, 8), text: 'ok' })).status, 200);
    const longNick = await post(room, { nick: 'ninechars', text: 'x' });
    assert.ok([400, 413].includes(longNick.status), `long nick: ${longNick.status}`);
    assertRefusal(longNick, longNick.status, /nick/i);

    const viaGet = await get(room + 'post?nick=n&text=x');
    assertRefusal(viaGet, 405);
    assert.equal(viaGet.headers.allow, 'POST');
    assertRefusal(await request(room + 'post', { method: 'PUT', body: 'nick=n&text=x', headers: FORM }), 405);
    assertRefusal(await post(room, { nick: 'n', text: 'z'.repeat(5000) }), 413);

    assert.equal((await get(room + 'var/seq')).text.trim(), '5', 'only the five good posts were stored');
    assert.equal(datLines(currentDat(srv)).length, 5);
  });
});

describe('blacklist', { concurrency: 2 }, () => {
  test('IPv4: a range refuses 127.0.0.1 with 403 from the very next post, removing it lets posts in again', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    assert.equal((await post(room, { nick: 'n', text: 'before' })).status, 200);
    fs.writeFileSync(blacklistFile(srv), '# test ranges\nnot an address\n::1/128\n127.0.0.0/8   # loopback\n');
    const refused = await post(room, { nick: 'n', text: 'blocked' });
    assertRefusal(refused, 403);
    assert.equal((await post(room, { nick: '', text: '' })).status, 400, 'validation still comes first');
    fs.writeFileSync(blacklistFile(srv), '10.0.0.0/8\n2001:db8::/32\n');
    assert.equal((await post(room, { nick: 'n', text: 'after' })).status, 200);
    fs.writeFileSync(blacklistFile(srv), '127.0.0.1\n');
    assertRefusal(await post(room, { nick: 'n', text: 'single address' }), 403);
    fs.unlinkSync(blacklistFile(srv));
    assert.equal((await post(room, { nick: 'n', text: 'file gone' })).status, 200);

    const texts = datLines(currentDat(srv)).map((l) => readLogLine(l).text);
    assert.deepEqual(texts, ['before', 'after', 'file gone']);
    const log = path.join(srv.dir, 'data', 'lobby', 'logs', 'post.log');
    await waitFor(() => fs.existsSync(log) && /refused 127\.0\.0\.1/.test(fs.readFileSync(log, 'utf8')),
      { ms: 4000, what: 'the refusal logged in post.log' });
  });

  test('IPv6: a client on ::1 is refused by an IPv6 range', T, async (t) => {
    const srv = await startServer(t, { host: '::1' });
    const room = srv.roomUrl();
    assert.match(room, /^http:\/\/\[::1\]:\d+\/lobby\/$/);
    assert.equal((await post(room, { nick: 'v6', text: 'before' })).status, 200);
    fs.writeFileSync(blacklistFile(srv), '127.0.0.0/8\n::/127\n');
    assertRefusal(await post(room, { nick: 'v6', text: 'blocked' }), 403);
    fs.writeFileSync(blacklistFile(srv), '127.0.0.0/8\nfe80::/10\n');
    assert.equal((await post(room, { nick: 'v6', text: 'after' })).status, 200);
    const lines = datLines(currentDat(srv)).map(readLogLine);
    assert.deepEqual(lines.map((p) => [p.text, p.ip]), [['before', '::1'], ['after', '::1']]);
  });

  test('a blacklist that is there but cannot be read refuses every post with 503 until it can', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    fs.mkdirSync(blacklistFile(srv));  // a directory where the file should be
    assertRefusal(await post(room, { nick: 'n', text: 'while unreadable' }), 503, /the blacklist cannot be read/);
    fs.rmdirSync(blacklistFile(srv));
    fs.writeFileSync(blacklistFile(srv), '\uFEFF127.0.0.1\n');  // a byte order mark before the first entry
    assertRefusal(await post(room, { nick: 'n', text: 'listed' }), 403);
    fs.writeFileSync(blacklistFile(srv), '\uFEFF10.0.0.1\n');
    assert.equal((await post(room, { nick: 'n', text: 'readable again' })).status, 200);
    assert.deepEqual(datLines(currentDat(srv)).map((l) => readLogLine(l).text), ['readable again']);
    await waitFor(() => /blacklist .*cannot read/.test(srv.output().stderr), { ms: 4000, what: 'the reason on stderr' });
  });
});

describe('escaping', () => {
  test('hostile nick and text are escaped in the web format and the RSS feed', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const nick = '<script>alert(1)</script>';
    const texts = [
      '<img src=x onerror=alert(1)>',
      '"><svg onload=alert(1)>',
      "'><iframe src=javascript:alert(1)>",
      'see http://example.com/"onmouseover="alert(1)"x and https://example.org/a.png?"><script>b()</script>',
      'https://www.youtube.com/watch?v=dQw4w9WgXcQ"onload="alert(1)',
      'javascript:alert(1) &amp; &lt;b&gt;',
      'multi\n<script>alert(2)</script>',
    ];
    for (const text of texts) await postOk(room, nick, text);

    const web = JSON.parse((await get(room + 'comet?t=1&c=&p=0')).text).content;
    const allowed = new Set(['div', 'span', 'a', 'pre', 'img', 'iframe', 'time']);
    for (const tag of tags(web)) {
      assert.ok(allowed.has(tag.name), `unexpected <${tag.name}>: ${tag.raw}`);
      assert.doesNotMatch(tag.raw, /\son\w+\s*=/i, `event handler attribute in ${tag.raw}`);
      assert.doesNotMatch(tag.raw, /javascript:/i, tag.raw);
    }
    assert.ok(!/<script/i.test(web) && !/<svg/i.test(web));
    const chatters = [...web.matchAll(/<span class="chatter nick-c\d+">([^<]*)<\/span>/g)].map((m) => m[1]);
    assert.ok(chatters.length >= 1);
    for (const c of chatters) assert.equal(c, '&lt;script&gt;alert(1)&lt;/script&gt;');
    assert.ok(web.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(web.includes('javascript:alert(1) &amp;amp; &amp;lt;b&amp;gt;'), 'entities are escaped again, not passed through');

    // The JSON and S-expression formats carry the text unchanged.
    const json = JSON.parse((await get(room + 'comet?t=1&c=&p=0&s=0')).text);
    assert.deepEqual(json.content.map((p) => [p[0], p[2]]), texts.map((x) => [nick, x]));

    const rdf = (await get(room + 'var/index.rdf')).text;
    assert.ok(!/<script/i.test(rdf) && !/<svg/i.test(rdf) && !/<img src=x/i.test(rdf));
    for (const tag of tags(rdf)) assert.doesNotMatch(tag.raw, /\son\w+\s*=/i, `event handler in RSS: ${tag.raw}`);
  });
});

describe('URLs', () => {
  test('chaton-poster-<slug> is an alias of post', T, async (t) => {
    const srv = await startServer(t, { rooms: [{ slug: 'gauche' }, { slug: 'lobby' }] });
    const room = srv.roomUrl('gauche');
    const r = await post(room, { nick: 'old', text: 'via the old name' }, { path: 'chaton-poster-gauche' });
    assert.equal(r.status, 200, r.text);
    const ack = JSON.parse(r.text);
    assert.deepEqual(Object.keys(ack), ['pos', 'id', 'permalink']);
    assert.equal(ack.pos, 1);
    assert.equal((await storedAt(room, 1)).text, 'via the old name');
    assert.equal((await post(room, { nick: 'x', text: 'y' }, { path: 'chaton-poster-lobby' })).status, 404,
      'another room\'s poster name is not an alias here');
    assert.equal((await get(srv.roomUrl('lobby') + 'var/seq')).text.trim(), '0', 'the other room is untouched');
  });

  test('chaton-poster-<room name as the original installed it> is an alias of post', T, async (t) => {
    // The original named the poster after the room name, lower-cased, with
    // everything but letters, digits, '_' and '-' dropped.
    const srv = await startServer(t, { rooms: [{ slug: 'cl', name: 'Common Lisp-JP (日本)' }, { slug: 'lobby' }] });
    const room = srv.roomUrl('cl');
    const r = await post(room, { nick: 'old', text: 'via the original name' }, { path: 'chaton-poster-commonlisp-jp' });
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).pos, 1);
    assert.equal((await storedAt(room, 1)).text, 'via the original name');
    assert.equal((await post(room, { nick: 'x', text: 'y' }, { path: 'chaton-poster-CommonLisp-JP' })).status, 404);
    assert.equal((await post(srv.roomUrl('lobby'), { nick: 'x', text: 'y' }, { path: 'chaton-poster-commonlisp-jp' })).status,
      404, 'another room\'s original poster name is not an alias here');
  });
});

describe('bad input', () => {
  test('is refused with 4xx and leaves current.dat unchanged', T, async (t) => {
    const srv = await startServer(t, { limits: { text_limit: 100, max_body_bytes: 4096 } });
    const room = srv.roomUrl();
    await postOk(room, 'n', 'good one');
    await postOk(room, 'n', 'good two');
    const before = fs.readFileSync(currentDat(srv));
    const base = srv.url;

    const expect = async (status, promise, what) => {
      const r = await promise;
      assert.equal(r.status, status, `${what}: got ${r.status} ${r.text}`);
      if (status >= 400) assert.match(r.text, /^[^\n]+\n?$/, `${what}: one-line message`);
    };
    await expect(404, get(`${base}/nope/`), 'unknown room');
    await expect(404, post(`${base}/nope/`, { nick: 'n', text: 'x' }), 'post to an unknown room');
    await expect(404, get(room + 'no-such-page'), 'unknown page in a room');
    await expect(400, get(room + 'comet?t=1&c=abc&p=0&s=1'), 'c=abc');
    await expect(400, get(room + 'comet?t=1&c=&p=-1&s=1'), 'p=-1');
    await expect(400, get(room + 'comet?t=1&c=&p=abc&s=1'), 'p=abc');
    await expect(400, get(room + 'comet?t=1&c=1.5&p=0&s=1'), 'c=1.5');
    await expect(400, get(room + 'comet?t=1&c=&p=0&s=2'), 's=2');
    await expect(400, get(room + 'comet?t=1&c=&p=0&s=json'), 's=json');
    await expect(413, post(room, { nick: 'n', text: 'x'.repeat(5000) }), 'body over max_body_bytes');
    await expect(413, post(room, { nick: 'n', text: 'x'.repeat(101) }), 'text over text_limit');
    await expect(400, post(room, '{"nick":"n","text":', { headers: { 'content-type': 'application/json' } }), 'truncated JSON');
    await expect(400, post(room, '["n","x"]', { headers: { 'content-type': 'application/json' } }), 'JSON array');
    await expect(400, post(room, '{"nick":{"a":1},"text":"x"}', { headers: { 'content-type': 'application/json' } }), 'JSON object as nick');
    await expect(400, post(room, 'nick=n&text=x', { headers: { 'content-type': 'text/plain' } }), 'unsupported content type');
    await expect(405, request(room + 'post', { method: 'PUT', body: 'nick=n&text=x', headers: FORM }), 'PUT post');
    await expect(405, request(room + 'post', { method: 'DELETE' }), 'DELETE post');
    await expect(405, post(room, { nick: 'n', text: 'x' }, { path: 'comet' }), 'POST comet');
    await expect(405, post(room, { nick: 'n', text: 'x' }, { path: 'var/seq' }), 'POST var/seq');
    await expect(405, post(base + '/', { nick: 'n', text: 'x' }, { path: '' }), 'POST /');

    // Broken HTTP on raw sockets.
    const garbage = parseResponse((await rawExchange(srv.port, 'GARBAGE\r\n\r\n')).data);
    assert.equal(garbage?.status, 400);
    const hugeHeader = await rawExchange(srv.port, `GET /lobby/var/seq HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    const hh = parseResponse(hugeHeader.data);
    assert.ok(hh === null || hh.status === 431 || hh.status === 400, `huge header: ${hh?.status}`);
    // A body shorter than its Content-Length, then the client goes away.
    await rawExchange(srv.port, 'POST /lobby/post HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nnick=n&text=cut', { timeout: 300 });
    // A declared body over the limit is refused before it is read.
    const big = parseResponse((await rawExchange(srv.port, 'POST /lobby/post HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\nnick=n', { timeout: 3000 })).data);
    assert.equal(big?.status, 413);

    await sleep(200);
    assert.deepEqual(fs.readFileSync(currentDat(srv)), before, 'current.dat unchanged');
    assert.equal((await get(room + 'var/seq')).text.trim(), '2');
    assert.equal((await post(room, { nick: 'n', text: 'still works' })).status, 200);
  });
});
