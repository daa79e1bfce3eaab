// Hostile clients against the real binary (docs/SECURITY.md): slow and idle
// connections and the request timeout, long-polls that must outlive it,
// oversized and malformed requests on raw sockets, bytes no form should
// carry, the connection caps, cross-site requests (Origin), one address
// inflating the chatters count, X-Forwarded-For from a peer nobody trusts,
// and a full disk. After each case the server must still answer a normal
// request. Limits are set small so every case runs in seconds.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import {
  CometClient, datLines, get, parseResponse, post, postOk, rawExchange, readLogLine, request, sleep,
  startServer, waitFor, withTimeout,
} from './lib/server.mjs';
import { RawWebSocket, openSse } from './lib/push.mjs';

const T = { timeout: 30000 };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

// request_timeout is short so that slow and idle clients are cut quickly;
// the bounds below are generous because the machine may be loaded.
const REQUEST_TIMEOUT = 1.5;
const SMALL_LIMITS = {
  request_timeout: REQUEST_TIMEOUT,
  max_header_bytes: 2048,
  max_body_bytes: 4096,
};

const currentDat = (srv, slug = 'lobby') => path.join(srv.dir, 'data', slug, 'data', 'current.dat');
const blacklistFile = (srv, slug = 'lobby') => path.join(srv.dir, 'data', slug, 'data', 'blacklist.txt');

// The server still serves an ordinary request, and has not died.
async function assertHealthy(srv, expectSeq) {
  const r = await get(srv.roomUrl() + 'var/seq', { timeout: 10000 });
  assert.equal(r.status, 200, `a normal request after the hostile one: ${r.status} ${r.text}`);
  if (expectSeq !== undefined) assert.equal(r.text.trim(), String(expectSeq));
  assert.equal(srv.proc.exitCode, null, 'the server is still running');
  assert.equal(srv.proc.signalCode, null, 'the server is still running');
}

// A refusal as docs/PROTOCOL.md describes errors: the status, and a
// text/plain body of one line.
function assertRefusal(res, statuses, about) {
  assert.ok(res, 'a response came back');
  // A raw-socket response (parseResponse) has a string body; request() a Buffer and text.
  const body = typeof res.body === 'string' ? res.body : res.text;
  const allowed = [].concat(statuses);
  assert.ok(allowed.includes(res.status), `expected ${allowed.join(' or ')}, got ${res.status}: ${body}`);
  assert.match(res.headers['content-type'], /^text\/plain/);
  assert.match(body, /^[^\n]+\n?$/, `one-line message, got ${JSON.stringify(body)}`);
  if (about) assert.match(body, about);
}

// A raw TCP connection that records what comes back and when it closes.
// `localAddress` picks the client address on the loopback network.
function connect(port, { localAddress } = {}) {
  const sock = net.connect({ host: '127.0.0.1', port, localAddress });
  const chunks = [];
  const c = {
    sock,
    closedAt: null,
    data: () => Buffer.concat(chunks),
    response: () => parseResponse(Buffer.concat(chunks)),
  };
  c.connected = new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  c.closed = new Promise((resolve) => {
    sock.on('close', () => {
      c.closedAt = Date.now();
      resolve(true);
    });
  });
  sock.on('error', () => {});  // a reset shows as a close
  sock.on('data', (d) => chunks.push(d));
  return c;
}

// Sends `head` and then `body` in pieces as fast as the socket takes them,
// without waiting for the server, and stops sending once an answer starts
// to arrive, as an HTTP client does; resolves with what came back once the
// server closed (or after `timeout`).
function sendAndCollect(port, head, bodyChunks, { timeout = 10000 } = {}) {
  const c = connect(port);
  c.connected.then(async () => {
    c.sock.write(head);
    for (const chunk of bodyChunks) {
      if (c.closedAt || c.sock.destroyed || c.data().length) break;
      if (!c.sock.write(chunk)) {
        await Promise.race([new Promise((r) => c.sock.once('drain', r)), c.closed, sleep(500)]);
      }
    }
  }).catch(() => {});
  return withTimeout(c.closed, timeout, 'the server to close the connection').then(() => c);
}

// ---------------------------------------------------------------- slow clients

describe('slow and idle clients', () => {
  test('slowloris: a request whose headers trickle in is cut at request_timeout; others are served meanwhile', T, async (t) => {
    const srv = await startServer(t, { limits: SMALL_LIMITS });
    const slow = connect(srv.port);
    t.after(() => slow.sock.destroy());
    await slow.connected;
    const start = Date.now();
    slow.sock.write('GET /lobby/var/seq HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    // One byte every 100 ms: every read completes well within the timeout,
    // so only a deadline for the whole request stops this client.
    const trickle = setInterval(() => { if (!slow.closedAt) slow.sock.write('a'); }, 100);
    t.after(() => clearInterval(trickle));

    let served = 0;
    while (!slow.closedAt && Date.now() - start < 15000) {
      const r = await get(srv.roomUrl() + 'var/seq');
      assert.equal(r.status, 200);
      served++;
      await sleep(100);
    }
    await withTimeout(slow.closed, 1000, 'the slow client to be cut');
    clearInterval(trickle);
    const lasted = (slow.closedAt - start) / 1000;
    t.diagnostic(`the slow client was cut after ${lasted.toFixed(2)} s; ${served} normal requests served meanwhile`);
    assert.ok(lasted >= REQUEST_TIMEOUT * 0.9, `cut after ${lasted} s, before request_timeout`);
    assert.ok(served >= 1, 'other clients were served while the slow one dribbled');
    assert.ok(!slow.data().toString('latin1').startsWith('HTTP/1.1 200'), 'the incomplete request was not answered');
    await assertHealthy(srv);
  });

  test('a connection that opens and sends nothing is closed after request_timeout', T, async (t) => {
    const srv = await startServer(t, { limits: SMALL_LIMITS });
    const idle = connect(srv.port);
    t.after(() => idle.sock.destroy());
    await idle.connected;
    const start = Date.now();
    await withTimeout(idle.closed, 15000, 'the silent connection to be closed');
    const lasted = (idle.closedAt - start) / 1000;
    assert.ok(lasted >= REQUEST_TIMEOUT * 0.9, `closed after ${lasted} s`);
    assert.equal(idle.data().length, 0, 'nothing was sent to it');
    await assertHealthy(srv);
  });

  test('an idle keep-alive connection is closed after request_timeout once its response is sent', T, async (t) => {
    const srv = await startServer(t, { limits: SMALL_LIMITS });
    const c = connect(srv.port);
    t.after(() => c.sock.destroy());
    await c.connected;
    c.sock.write('GET /lobby/var/seq HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const first = await waitFor(() => c.response(), { ms: 5000, every: 10, what: 'the first response' });
    const answered = Date.now();
    assert.equal(first.status, 200);
    assert.notEqual(first.headers.connection, 'close', 'the connection is kept alive');
    // Within the timeout the connection takes a second request.
    c.sock.write('GET /lobby/var/seq HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const second = await waitFor(() => { const r = c.response(); return r && parseResponse(r.rest); },
      { ms: 5000, every: 10, what: 'the second response' });
    assert.equal(second.status, 200);
    const idleFrom = Date.now();
    await withTimeout(c.closed, 15000, 'the idle keep-alive connection to be closed');
    const idleFor = (c.closedAt - idleFrom) / 1000;
    t.diagnostic(`closed ${idleFor.toFixed(2)} s after the last response (${((c.closedAt - answered) / 1000).toFixed(2)} s after the first)`);
    assert.ok(idleFor >= REQUEST_TIMEOUT * 0.9, `closed after ${idleFor} s idle`);
    await assertHealthy(srv);
  });

  test('a waiting long-poll outlives request_timeout: pinged at a soft timeout when nc changes, answered empty at the hard timeout', T, async (t) => {
    // Every comet timer is longer than request_timeout (1 s here).
    const srv = await startServer(t, {
      limits: { ...SMALL_LIMITS, request_timeout: 1 },
      comet: { soft_timeout_min: 1.8, soft_timeout_max: 2, hard_timeout_min: 3.5, hard_timeout_max: 4, client_timeout: 60 },
    });
    const room = srv.roomUrl();
    const a = new CometClient(room, 'waiter');
    await a.login();

    // A soft timeout answers with an empty "ping" because nc changed (a
    // second client arrived while the request waited).
    let start = Date.now();
    const waiting = a.poll({ timeout: 15000 });
    await sleep(300);
    const b = new CometClient(room, 'newcomer');
    await b.login();
    let reply = await waiting;
    let waited = (Date.now() - start) / 1000;
    t.diagnostic(`soft-timeout ping after ${waited.toFixed(2)} s, nc ${reply.nc}`);
    assert.deepEqual(reply.content, [], 'a ping carries no posts');
    assert.equal(reply.nc, 2);
    assert.ok(waited >= 1.8 * 0.9, `answered after ${waited} s, before the soft timeout`);

    // Nothing changes now: the soft timeouts pass silently and the hard
    // timeout answers, long after request_timeout.
    start = Date.now();
    reply = await a.poll({ timeout: 15000 });
    waited = (Date.now() - start) / 1000;
    t.diagnostic(`hard-timeout reply after ${waited.toFixed(2)} s`);
    assert.deepEqual(reply.content, []);
    assert.ok(waited >= 3.5 * 0.9, `answered after ${waited} s, before the hard timeout`);

    // The long-poll still delivers a post after all that waiting.
    const next = a.poll({ timeout: 15000 });
    await sleep(1500);
    await postOk(room, 'poster', 'after the wait');
    reply = await next;
    assert.deepEqual(reply.content.map((e) => e[2]), ['after the wait']);
    await assertHealthy(srv, 1);
  });

  test('a quiet Server-Sent Events stream outlives request_timeout', T, async (t) => {
    const srv = await startServer(t, {
      limits: { ...SMALL_LIMITS, request_timeout: 1 },
      comet: { soft_timeout_min: 0.5, soft_timeout_max: 0.8, hard_timeout_min: 1, hard_timeout_max: 1.5 },
    });
    const room = srv.roomUrl();
    const stream = await openSse(`${room}events?p=0`);
    t.after(() => stream.close());
    await stream.next();  // the opening packet
    await sleep(3500);
    assert.equal(stream.ended, false, 'the stream is still open');
    await postOk(room, 'poster', 'live after quiet');
    for (;;) {
      const e = await stream.next(10000);
      if (e.data.content.length) {
        assert.equal(e.data.content[0][2], 'live after quiet');
        break;
      }
    }
    await assertHealthy(srv, 1);
  });
});

// ---------------------------------------------------------------- oversized requests

describe('oversized requests', () => {
  test('a request line longer than max_header_bytes gets 431 (or 414), nothing is stored', T, async (t) => {
    const srv = await startServer(t, { limits: SMALL_LIMITS });
    const room = srv.roomUrl();
    await postOk(room, 'n', 'before');
    for (const size of [3000, 64 * 1024, 1024 * 1024]) {
      const c = await sendAndCollect(srv.port,
        `POST /lobby/post?nick=n&text=${'x'.repeat(size)} HTTP/1.1\r\nHost: 127.0.0.1\r\n`, ['\r\n']);
      const r = c.response();
      assertRefusal(r, [414, 431], /too (large|long)/);
      assert.equal(r.headers.connection, 'close', `${size}: the connection is closed after the refusal`);
    }
    assert.equal(datLines(currentDat(srv)).length, 1);
    await assertHealthy(srv, 1);
  });

  test('headers larger than max_header_bytes get 431', T, async (t) => {
    const srv = await startServer(t, { limits: SMALL_LIMITS });
    // Many small headers, and one huge one sent in pieces.
    let head = 'GET /lobby/var/seq HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    for (let i = 0; i < 100; i++) head += `X-Filler-${i}: ${'v'.repeat(30)}\r\n`;
    let c = await sendAndCollect(srv.port, head, ['\r\n']);
    assertRefusal(c.response(), 431, /headers too large/);

    const piece = `${'h'.repeat(8192)}`;
    c = await sendAndCollect(srv.port, 'GET /lobby/var/seq HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ',
      [...Array(128).fill(piece), '\r\n\r\n']);
    assertRefusal(c.response(), 431, /headers too large/);
    await assertHealthy(srv, 0);
  });

  test('a body over max_body_bytes is refused with 413 while the client is still sending it; nothing is stored', T, async (t) => {
    const srv = await startServer(t, { limits: SMALL_LIMITS });
    const room = srv.roomUrl();
    await postOk(room, 'n', 'before');
    const before = fs.readFileSync(currentDat(srv));

    // A declared length over the limit, and the client sends it all.
    const size = 4 * 1024 * 1024;
    const body = Buffer.concat([Buffer.from('nick=big&text='), Buffer.alloc(size, 'y')]);
    const chunks = [];
    for (let i = 0; i < body.length; i += 65536) chunks.push(body.subarray(i, i + 65536));
    let c = await sendAndCollect(srv.port,
      `POST /lobby/post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
      chunks);
    assertRefusal(c.response(), 413, /body too large/);

    // Chunked: no length announced, the body grows past the limit.
    const chunked = ['nick=big&text=', ...Array(64).fill('z'.repeat(1024))]
      .map((s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`);
    c = await sendAndCollect(srv.port,
      'POST /lobby/post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n',
      [...chunked, '0\r\n\r\n']);
    assertRefusal(c.response(), 413, /body too large/);

    // A chunked body within the limit is fine.
    const ok = ['nick=chunk', 'ed&text=small'].map((s) => `${s.length.toString(16)}\r\n${s}\r\n`).join('') + '0\r\n\r\n';
    const r = parseResponse((await rawExchange(srv.port,
      `POST /lobby/post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${ok}`)).data);
    assert.equal(r?.status, 200, r?.body);

    const lines = datLines(currentDat(srv));
    assert.deepEqual(fs.readFileSync(currentDat(srv)).subarray(0, before.length), before);
    assert.deepEqual(lines.map((l) => readLogLine(l).text), ['before', 'small']);
    await assertHealthy(srv, 2);
  });
});

// ---------------------------------------------------------------- malformed requests

describe('malformed requests', () => {
  test('a malformed request line, a bad version, bad headers or binary garbage get 400 and a closed connection', T, async (t) => {
    const srv = await startServer(t, { limits: SMALL_LIMITS });
    await postOk(srv.roomUrl(), 'n', 'before');
    const before = fs.readFileSync(currentDat(srv));
    const cases = [
      ['no target', 'GET\r\n\r\n'],
      ['no version', 'GET /lobby/var/seq\r\n\r\n'],
      ['HTTP/9.9', 'GET /lobby/var/seq HTTP/9.9\r\nHost: x\r\n\r\n'],
      ['HTTP/1.1 with junk after it', 'GET /lobby/var/seq HTTP/1.1 junk\r\nHost: x\r\n\r\n'],
      ['lower-case version', 'GET /lobby/var/seq http/1.1\r\nHost: x\r\n\r\n'],
      ['a space in the method', 'G ET /lobby/var/seq HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['header without a colon', 'GET /lobby/var/seq HTTP/1.1\r\nHost x\r\n\r\n'],
      ['space before the colon', 'GET /lobby/var/seq HTTP/1.1\r\nHost : x\r\n\r\n'],
      ['NUL in a header value', 'GET /lobby/var/seq HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n'],
      ['NUL in the target', 'GET /lobby/var/seq\0 HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['Content-Length not a number', 'POST /lobby/post HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nnick=n&text=x'],
      ['two different Content-Lengths', 'POST /lobby/post HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nContent-Length: 3\r\n\r\nnick=n&text=x'],
      ['a bad chunk size', 'POST /lobby/post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnick=n&text=x\r\n0\r\n\r\n'],
      ['binary garbage', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])],
      ['a bare LF line, then garbage', '\x7fELF\n\n\n\n'],
    ];
    for (const [what, bytes] of cases) {
      const { data, closed } = await rawExchange(srv.port, bytes, { timeout: 5000 });
      const r = parseResponse(data);
      assert.ok(r, `${what}: a response, got ${JSON.stringify(data.toString('latin1'))}`);
      assertRefusal(r, 400);
      assert.ok(closed, `${what}: the server closed the connection`);
    }
    assert.deepEqual(fs.readFileSync(currentDat(srv)), before, 'nothing was stored');
    await assertHealthy(srv, 1);
  });

  test('a Content-Length with Transfer-Encoding (request smuggling) is not taken as two requests', T, async (t) => {
    const srv = await startServer(t, { limits: SMALL_LIMITS });
    // The chunked body ends at "0"; what follows would be a second request
    // to a server that believed Content-Length instead.
    const smuggled = 'POST /lobby/post HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
      'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' +
      'POST /lobby/post HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 22\r\n\r\nnick=evil&text=smuggle';
    const { data, closed } = await rawExchange(srv.port, smuggled, { timeout: 5000 });
    const first = parseResponse(data);
    assert.ok(first, `a response, got ${JSON.stringify(data.toString('latin1'))}`);
    t.diagnostic(`answered ${first.statusLine}: ${first.body.trim()}`);
    assert.equal(first.status, 400, 'the ambiguous request is refused');
    assert.equal(first.rest.length, 0, 'one answer only');
    assert.ok(closed, 'the connection is closed');
    await sleep(200);
    assert.ok(!fs.existsSync(currentDat(srv)) || datLines(currentDat(srv)).length === 0, 'nothing was stored');
    await assertHealthy(srv, 0);
  });

  test('a Transfer-Encoding that does not end in chunked, or a missing or doubled Host, is refused before the body is read', T, async (t) => {
    const srv = await startServer(t, { limits: SMALL_LIMITS });
    // Read as a request without a body, each of these would leave its body
    // to be taken as the next request: a post nobody sent.
    const hidden = 'POST /lobby/post HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
      'Content-Length: 22\r\n\r\nnick=evil&text=smuggle';
    const head = (headers) => 'POST /lobby/post HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
      `${headers}\r\n\r\n`;
    const cases = [
      // [what, the request, the status, the reason]
      ['Transfer-Encoding: xchunked', head('Host: x\r\nTransfer-Encoding: xchunked') + hidden, 400, /end in chunked/],
      ['Transfer-Encoding: identity', head('Host: x\r\nTransfer-Encoding: identity') + hidden, 400, /end in chunked/],
      ['Transfer-Encoding: chunked, identity', head('Host: x\r\nTransfer-Encoding: chunked, identity') + hidden, 400, /end in chunked/],
      ['a quoted "chunked"', head('Host: x\r\nTransfer-Encoding: "chunked"') + hidden, 400, /end in chunked/],
      ['chunked twice', head('Host: x\r\nTransfer-Encoding: chunked, chunked') + '0\r\n\r\n' + hidden, 400, /twice/],
      ['gzip, chunked (a coding the server cannot undo)', head('Host: x\r\nTransfer-Encoding: gzip, chunked') +
        `${(22).toString(16)}\r\nnick=gzip&text=ignored\r\n0\r\n\r\n` + hidden, 501, /'gzip' is not supported/],
      ['gzip and chunked in two fields', head('Host: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked') +
        '0\r\n\r\n' + hidden, 501, /'gzip' is not supported/],
      ['Transfer-Encoding in HTTP/1.0', head('Host: x\r\nTransfer-Encoding: chunked').replace('HTTP/1.1', 'HTTP/1.0') +
        '0\r\n\r\n' + hidden, 400, /HTTP\/1.0/],
      ['HTTP/1.1 without Host', head('Content-Length: 0') + hidden, 400, /needs a Host/],
      ['two Host headers', head('Host: x\r\nHost: y\r\nContent-Length: 0') + hidden, 400, /more than one Host/],
    ];
    for (const [what, request, status, reason] of cases) {
      const { data, closed } = await rawExchange(srv.port, request, { timeout: 5000 });
      const res = parseResponse(data);
      t.diagnostic(`${what}: ${res?.statusLine} ${res?.body.trim()}`);
      assertRefusal(res, status, reason);
      assert.equal(res.rest.length, 0, `${what}: one answer only`);
      assert.equal(res.headers.connection, 'close', `${what}: the answer says the connection ends`);
      assert.ok(closed, `${what}: the connection is closed`);
    }
    await sleep(200);
    assert.ok(!fs.existsSync(currentDat(srv)) || datLines(currentDat(srv)).length === 0, 'nothing was stored');
    // HTTP/1.0 needs no Host; chunked alone is read as before (above).
    const old = parseResponse((await rawExchange(srv.port, 'GET /lobby/var/seq HTTP/1.0\r\n\r\n')).data);
    assert.equal(old?.status, 200, 'an HTTP/1.0 request without Host is served');
    await assertHealthy(srv, 0);
  });
});

// ---------------------------------------------------------------- hostile text

describe('bytes no form should carry', () => {
  test('NUL and invalid UTF-8 in nick and text, raw, percent-encoded or in JSON, are repaired and never stored raw', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const form = (buf) => post(room, buf, { headers: FORM });
    const json = (text) => post(room, text, { headers: { 'content-type': 'application/json' } });
    const cases = [
      // [what, the request, the nick and text stored, or null when refused with 400]
      ['percent-encoded NUL and bad UTF-8 in the nick', form('nick=a%00b%FF%C3c&text=t1'), ['ab??c', 't1']],
      ['raw NUL bytes and bad UTF-8 in a form', form(Buffer.concat([
        Buffer.from('nick=r'), Buffer.from([0x00, 0xc0, 0xaf]), Buffer.from('aw&text=x'), Buffer.from([0x00, 0xed, 0xa0, 0x80]), Buffer.from('y'),
      ])), ['r??aw', 'x???y']],
      ['overlong and surrogate encodings', form('nick=o&text=%C0%AF%E0%80%AF%ED%A0%80z'), ['o', '????????z']],
      ['a nick made of NULs only', form('nick=%00%00&text=x'), null],
      ['JSON \\u0000 escapes', json('{"nick":"j\\u0000s","text":"a\\u0000b"}'), ['js', 'ab']],
      // Not JSON (RFC 8259 wants UTF-8 and paired surrogates): refused.
      ['a lone surrogate in JSON', json('{"nick":"lone","text":"a\\ud800b"}'), null],
      ['raw bad UTF-8 inside a JSON string', json(Buffer.concat([Buffer.from('{"nick":"rj","text":"a'), Buffer.from([0xff]), Buffer.from('b"}')])), null],
    ];
    for (const [what, pending, expected] of cases) {
      const r = await pending;
      t.diagnostic(`${what}: ${r.status} ${r.status === 200 ? '' : r.text.trim()}`);
      if (expected === null) {
        assertRefusal(r, 400);
        continue;
      }
      assert.equal(r.status, 200, `${what}: ${r.status} ${r.text}`);
      const ack = JSON.parse(r.text);
      const got = JSON.parse((await get(`${room}comet?t=1&c=&p=${ack.pos - 1}&s=0`)).text).content[0];
      assert.deepEqual([got[0], got[2]], expected, what);
    }
    assert.equal((await get(room + 'var/seq')).text.trim(), '4', 'only the four repaired posts were stored');
    // The log holds valid UTF-8, one readable line per post, no raw control bytes.
    const bytes = fs.readFileSync(currentDat(srv));
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    assert.ok(!/[\x00-\x09\x0b-\x1f\x7f]/.test(text), 'no raw control bytes in current.dat');
    for (const line of datLines(currentDat(srv))) assert.ok(readLogLine(line), `readable: ${line}`);
    await assertHealthy(srv);
  });
});

// ---------------------------------------------------------------- connection caps

describe('connection caps', () => {
  test('over the per-address cap a connection gets 429, over the global cap 503; closing gives the places back', T, async (t) => {
    const srv = await startServer(t, {
      limits: { request_timeout: 20, max_connections: 4, max_connections_per_address: 2 },
    });
    const open = [];
    t.after(() => open.forEach((c) => c.sock.destroy()));
    const hold = async (localAddress) => {
      const c = connect(srv.port, { localAddress });
      open.push(c);
      await c.connected;
      return c;
    };
    // A refused connection is answered at once, whether it sent its
    // request already or not.
    const refusal = async (c) => {
      await withTimeout(c.closed, 10000, 'the refused connection to be closed');
      return c.response();
    };

    // The server has admitted a held connection once a request on it is
    // answered (a refused one is answered at once with a refusal and closed);
    // keep-alive leaves it open and counted.
    const admitted = async (c) => {
      c.sock.write('GET /lobby/var/seq HTTP/1.1\r\nHost: x\r\n\r\n');
      const r = await waitFor(() => c.response() ?? c.closedAt, { ms: 10000, every: 10, what: 'an answer on a held connection' });
      assert.equal(r.status, 200, `a held connection is served, got ${JSON.stringify(c.data().toString('latin1'))}`);
    };

    await admitted(await hold('127.0.0.1'));
    await admitted(await hold('127.0.0.1'));
    const tooMany = await refusal(await hold('127.0.0.1'));
    assertRefusal(tooMany, 429, /too many connections from your address/);
    // The same for a client that sends a post at once (an HTTP client does).
    const eager = await hold('127.0.0.1');
    eager.sock.write(`POST /lobby/post HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000\r\n\r\nnick=e&text=${'e'.repeat(1987)}`);
    assertRefusal(await refusal(eager), 429, /too many connections from your address/);

    const other1 = await hold('127.0.0.2');
    await admitted(other1);
    await admitted(await hold('127.0.0.2'));
    assert.equal(other1.closedAt, null, 'another address still gets in under the global cap');
    const full = await refusal(await hold('127.0.0.3'));
    assertRefusal(full, 503, /full/);
    assert.equal(full.headers['retry-after'], '5');

    // Held connections still work (their request is answered).
    other1.sock.write('GET /lobby/var/seq HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await withTimeout(other1.closed, 10000, 'the held connection to be answered');
    assert.equal(parseResponse(other1.response().rest)?.status, 200);  // the answer after the first

    // Closing the others gives the places back.
    for (const c of open) c.sock.destroy();
    await waitFor(async () => (await get(srv.roomUrl() + 'var/seq').catch(() => null))?.status === 200,
      { ms: 5000, what: 'a place to free up' });
    await assertHealthy(srv);
  });
});

// ---------------------------------------------------------------- forwarded addresses

describe('cross-site requests', () => {
  test('a form post, another method or a WebSocket from another site gets 403; this site, listed origins, reads and clients without Origin go on', T, async (t) => {
    const srv = await startServer(t, { site: { allowed_origins: ['https://friend.example'] } });
    const room = srv.roomUrl();
    const own = `http://127.0.0.1:${srv.port}`;
    const evil = 'https://evil.example';
    const form = (headers, fields = { nick: 'n', text: 'x' }) => post(room, fields, { headers });
    const refused = [
      ['another site', () => form({ origin: evil })],
      ['Origin: null (a sandboxed page, a data: URL)', () => form({ origin: 'null' })],
      ['this host on another port', () => form({ origin: `http://127.0.0.1:${srv.port + 1}` })],
      ['a malformed Origin', () => form({ origin: 'evil' })],
      ['a browser that says cross-site and sends no Origin', () => form({ 'sec-fetch-site': 'cross-site' })],
      ['this origin, but the browser says cross-site', () => form({ origin: own, 'sec-fetch-site': 'cross-site' })],
      ['a JSON post', () => post(room, { nick: 'n', text: 'x' }, { json: true, headers: { origin: evil } })],
      ['an API login', () => post(room, { who: 'x' }, { path: 'apilogin', headers: { origin: evil } })],
      ['another method (PUT)', () => request(room + 'post', { method: 'PUT', headers: { origin: evil }, body: 'nick=n&text=x' })],
      ['the index (DELETE)', () => request(`${srv.url}/`, { method: 'DELETE', headers: { origin: evil } })],
    ];
    for (const [what, send] of refused) {
      const r = await send();
      t.diagnostic(`${what}: ${r.status} ${r.text.trim()}`);
      assertRefusal(r, 403, /another site/);
    }
    await assert.rejects(RawWebSocket.connect(srv.port, '/lobby/ws?p=0', { headers: { Origin: evil } }),
      (e) => e.status === 403 && /another site/.test(e.body));
    assert.ok(!fs.existsSync(currentDat(srv)) || datLines(currentDat(srv)).length === 0, 'nothing was stored');

    const allowed = [
      ['no Origin (curl, bots, the client library)', {}],
      ['this origin', { origin: own, 'sec-fetch-site': 'same-origin' }],
      ['this origin with a trailing /', { origin: `http://127.0.0.1:${srv.port}/` }],
      ['the Host the browser used', { origin: `http://localhost:${srv.port}`, host: `localhost:${srv.port}` }],
      ['a listed origin, cross-site', { origin: 'https://friend.example', 'sec-fetch-site': 'cross-site' }],
      ['a listed origin with its default port', { origin: 'https://FRIEND.example:443' }],
    ];
    for (const [what, headers] of allowed) {
      const r = await form(headers, { nick: 'n', text: what });
      assert.equal(r.status, 200, `${what}: ${r.status} ${r.text}`);
    }
    // Reading is not refused (other sites embed the badge and status).
    assert.equal((await get(room + 'var/status.js', { headers: { origin: evil, 'sec-fetch-site': 'cross-site' } })).status, 200);
    for (const headers of [{ Origin: own }, { Origin: 'https://friend.example' }, {}]) {
      const ws = await RawWebSocket.connect(srv.port, '/lobby/ws?p=0', { headers });
      ws.sock.destroy();
    }
    await assertHealthy(srv, allowed.length);
  });
});

describe('chatters count', () => {
  test('one address asking for cid after cid counts for a few chatters only; every client is still served', T, async (t) => {
    // Loopback is exempt by default, like a local bot; here it is an ordinary client.
    const srv = await startServer(t, { limits: { rate_limit_exempt: [] } });
    const room = srv.roomUrl();
    const cids = new Set();
    for (let i = 0; i < 40; i++) {
      const r = await post(room, { who: `bot${i}`, s: '0' }, { path: 'apilogin' });
      assert.equal(r.status, 200, r.text);
      cids.add(JSON.parse(r.text).cid);
    }
    for (let i = 0; i < 10; i++) {
      const r = await get(room + 'comet?c=&p=0&s=0');
      assert.equal(r.status, 200, r.text);
      cids.add(JSON.parse(r.text).cid);
    }
    assert.equal(cids.size, 50, 'each got its own cid');
    const nc = JSON.parse((await get(room + 'var/status.js')).text)['num-chatters'];
    t.diagnostic(`num-chatters after 50 new cids from one address: ${nc}`);
    assert.ok(nc >= 1 && nc <= 16, `num-chatters ${nc}`);
  });
});

describe('X-Forwarded-For', () => {
  test('from a peer that is not a trusted proxy it is ignored: blacklist, rate limit and stored address use the real one', T, async (t) => {
    const srv = await startServer(t, {
      limits: { post_rate: 0.01, post_burst: 2, rate_limit_exempt: [] },
    });
    const room = srv.roomUrl();
    const forged = (i) => ({ 'x-forwarded-for': `203.0.113.${i}, 198.51.100.${i}` });
    // The rate limit counts the real address, whatever the header says.
    assert.equal((await post(room, { nick: 'f', text: 'one' }, { headers: forged(1) })).status, 200);
    assert.equal((await post(room, { nick: 'f', text: 'two' }, { headers: forged(2) })).status, 200);
    const limited = await post(room, { nick: 'f', text: 'three' }, { headers: forged(3) });
    assertRefusal(limited, 429, /too fast/);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    // The stored address is the peer's.
    const ips = datLines(currentDat(srv)).map((l) => readLogLine(l).ip);
    assert.deepEqual(ips, ['127.0.0.1', '127.0.0.1']);
    await assertHealthy(srv, 2);
  });

  test('a blacklisted client cannot post by naming another address', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    fs.writeFileSync(blacklistFile(srv), '127.0.0.1\n');
    // The blacklist file is checked on every post (docs/SECURITY.md), so the
    // edit applies to the very next one: no pause needed.
    for (const xff of ['10.1.2.3', '10.1.2.3, 127.0.0.1', 'unknown', '::ffff:10.0.0.1']) {
      assertRefusal(await post(room, { nick: 'x', text: 'hidden' }, { headers: { 'x-forwarded-for': xff } }), 403);
    }
    await assertHealthy(srv, 0);
  });

  test('from a trusted proxy it names the client (the positive control)', T, async (t) => {
    const srv = await startServer(t, {
      site: { trusted_proxies: ['127.0.0.1'] },
      limits: { post_rate: 0.01, post_burst: 1, rate_limit_exempt: [] },
    });
    const room = srv.roomUrl();
    fs.writeFileSync(blacklistFile(srv), '192.0.2.66\n');  // applies to the next post
    assert.equal((await post(room, { nick: 'p', text: 'via proxy' }, { headers: { 'x-forwarded-for': '198.51.100.7' } })).status, 200);
    // Each client behind the proxy has its own bucket.
    assert.equal((await post(room, { nick: 'p', text: 'other client' }, { headers: { 'x-forwarded-for': '198.51.100.8' } })).status, 200);
    assertRefusal(await post(room, { nick: 'p', text: 'again' }, { headers: { 'x-forwarded-for': '198.51.100.7' } }), 429);
    assertRefusal(await post(room, { nick: 'p', text: 'banned' }, { headers: { 'x-forwarded-for': '192.0.2.66' } }), 403);
    const ips = datLines(currentDat(srv)).map((l) => readLogLine(l).ip);
    assert.deepEqual(ips, ['198.51.100.7', '198.51.100.8']);
    await assertHealthy(srv, 2);
  });
});

// ---------------------------------------------------------------- disk full

// Lowers (or lifts) the running server's file-size limit (RLIMIT_FSIZE):
// past it write() fails with EFBIG, as on a full disk. Only the soft limit
// moves ("N:"), so lifting it again needs no privilege.
function setFileSizeLimit(pid, limit) {
  execFileSync('prlimit', [`--pid=${pid}`, `--fsize=${limit}:`], { stdio: 'pipe' });
}

const hasPrlimit = (() => {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

describe('disk full', () => {
  test('posting while the disk is full answers 503 with a reason, damages nothing, and resumes when space returns', {
    ...T, skip: hasPrlimit ? false : 'prlimit (util-linux) is not installed',
  }, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    t.after(() => { try { setFileSizeLimit(srv.proc.pid, 'unlimited'); } catch { /* gone */ } });
    const acked = [];
    for (const text of ['one', 'two', 'three']) acked.push({ text, ...(await postOk(room, 'alice', text)) });
    const file = currentDat(srv);
    const before = fs.readFileSync(file);

    // Room for a few bytes only: a post's line starts, and cannot finish.
    setFileSizeLimit(srv.proc.pid, before.length + 10);
    const refused = [];
    for (const text of ['four', 'five']) refused.push(await post(room, { nick: 'bob', text: `${text} ${'z'.repeat(100)}` }));
    // Several at once (one batch, or several).
    refused.push(...await Promise.all([1, 2, 3].map((i) => post(room, { nick: 'carol', text: `burst ${i}` }))));
    for (const r of refused) {
      assertRefusal(r, 503, /cannot store posts right now \(disk full\); try again later/);
      assert.ok(!r.text.includes(srv.dir), 'the reason does not show server paths');
    }
    // Nothing of the failed posts remains, nothing stored is damaged.
    assert.deepEqual(fs.readFileSync(file), before, 'current.dat is exactly as before');
    const lines = datLines(file).map(readLogLine);
    assert.ok(lines.every(Boolean), 'every line parses');
    assert.deepEqual(lines.map((p) => p.text), acked.map((a) => a.text), 'every acknowledged post exactly once');
    assert.equal((await get(room + 'var/seq')).text.trim(), '3', 'the sequence did not move');
    const window = JSON.parse((await get(`${room}comet?t=1&c=&p=0&s=0`)).text);
    assert.equal(window.pos, 3);
    assert.deepEqual(window.content.map((e) => e[2]), ['one', 'two', 'three'], 'readers see no failed post');
    await waitFor(() => /cannot store posts: .*current\.dat: File too large/.test(srv.output().stderr),
      { ms: 5000, what: 'the reason in the server log' });
    // Other requests are served meanwhile.
    await assertHealthy(srv, 3);

    // Space returns: posting resumes where it was.
    setFileSizeLimit(srv.proc.pid, 'unlimited');
    const after = await postOk(room, 'alice', 'four, at last');
    assert.equal(after.pos, 4);
    const texts = datLines(file).map((l) => readLogLine(l).text);
    assert.deepEqual(texts, ['one', 'two', 'three', 'four, at last']);
    const live = JSON.parse((await get(`${room}comet?t=1&c=&p=3&s=0`)).text);
    assert.deepEqual(live.content.map((e) => e[2]), ['four, at last']);

    // And after a restart everything is where it was acknowledged.
    await srv.stop();
    const again = await startServer(t, { dir: srv.dir });
    const all = JSON.parse((await get(`${again.roomUrl()}comet?t=1&c=&p=0&s=0`)).text);
    assert.equal(all.pos, 4);
    assert.deepEqual(all.content.map((e) => e[2]), ['one', 'two', 'three', 'four, at last']);
    await again.stop();
  });
});
