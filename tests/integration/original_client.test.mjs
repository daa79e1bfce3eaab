// The original client library (chaton.client, Gauche Scheme) against this
// server, byte for byte: every request is written on a raw socket exactly
// as Gauche's rfc.http writes it. http-post with a list body sends
// multipart/form-data with a quoted boundary, a CRLF before the first
// delimiter and MIME headers on each part; http-get composes the query
// from (name value) pairs. The loop is the library's: apilogin (`who`
// only), then comet?t=..&c=cid&p=pos&s=1 again and again taking cid and
// pos from each reply, chaton-talk posting nick/text/cid to post-uri, and
// chaton-bye dropping the waiting connection. See docs/PROTOCOL.md.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';

import {
  get, parseResponse, postOk, rawExchange, readAlist, sleep, startServer, waitFor,
} from './lib/server.mjs';

const T = { timeout: 20000 };
const USER_AGENT = 'gauche.http/0.9.15';

// Gauche's mime-compose-message: "\r\n--B\r\n" before each part, the part's
// headers as rfc.http writes them, the value as it is, "\r\n--B--\r\n".
function gaucheMultipart(fields, boundary) {
  let body = '';
  for (const [name, value] of fields) {
    body += `\r\n--${boundary}\r\n`;
    body += 'Content-type: text/plain; charset=utf-8\r\n';
    body += 'Content-transfer-encoding: binary\r\n';
    // mime-compose-parameters quotes a value only when it is not a token.
    const quoted = /^[!#-'*+\-.0-9A-Z^-~]+$/.test(name) ? name : `"${name.replace(/["\\]/g, '\\$&')}"`;
    body += `content-disposition: form-data; name=${quoted}\r\n\r\n`;
    body += String(value);
  }
  body += `\r\n--${boundary}--\r\n`;
  return Buffer.from(body, 'utf8');
}

// A boundary the way mime-make-boundary makes one.
const makeBoundary = () => `boundary-${(BigInt(Date.now()) * 0x9e3779b97f4a7c15n).toString(36)}`;

// uri-ref '(scheme host+port path) of an absolute URI.
function uriRef(uri) {
  const m = uri.match(/^(https?):\/\/([^/]+)(\/[^?#]*)/);
  assert.ok(m, `not an absolute URI: ${uri}`);
  return { scheme: m[1], hostPort: m[2], path: m[3] };
}

function portOf(hostPort) {
  return Number(hostPort.match(/:(\d+)$/)[1]);
}

// (http-post host+port path params): the request exactly as Gauche sends
// it on a non-persistent connection (no Connection header).
function httpPost(uri, fields, { boundary = makeBoundary() } = {}) {
  const { hostPort, path } = uriRef(uri);
  const body = gaucheMultipart(fields, boundary);
  const head =
    `POST ${path} HTTP/1.1\r\n` +
    `content-length: ${body.length}\r\n` +
    'mime-version: 1.0\r\n' +
    `content-type: multipart/form-data; boundary="${boundary}"\r\n` +
    `host: ${hostPort}\r\n` +
    `user-agent: ${USER_AGENT}\r\n\r\n`;
  return exchange(hostPort, Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

// (http-get host+port (path (t ..) (c ..) (p ..) (s ..))).
function httpGet(uri, params, opts = {}) {
  const { hostPort, path } = uriRef(uri);
  const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
  const head = `GET ${path}?${query} HTTP/1.1\r\nhost: ${hostPort}\r\nuser-agent: ${USER_AGENT}\r\n\r\n`;
  return exchange(hostPort, Buffer.from(head, 'latin1'), opts);
}

async function exchange(hostPort, bytes, { timeout = 8000 } = {}) {
  const r = await rawExchange(portOf(hostPort), bytes, { timeout, until: (b) => parseResponse(b) !== null });
  const res = parseResponse(r.data);
  assert.ok(res, `no complete response: ${JSON.stringify(r.data.toString('latin1').slice(0, 300))}`);
  return res;
}

// The reply parsers of the library: read-from-string (S-expressions); for
// the JSON variant, JSON.parse.
const parsers = {
  1: (text) => readAlist(text),
  0: (text) => JSON.parse(text),
};

// chaton-connect, then the observer loop and chaton-talk, in format `s`
// (the library itself uses 1; 0 is the same loop over JSON).
async function runOriginalLoop(srv, s) {
  const room = srv.roomUrl();
  const login = await httpPost(`${room}apilogin`, s === 1 ? [['who', 'chaton-client-test']] : [['who', 'chaton-client-test'], ['s', 0]]);
  assert.equal(login.status, 200, login.body);
  assert.match(login.headers['content-type'], s === 1 ? /^application\/x-sexpr/ : /^application\/json/);
  const reply = parsers[s](login.body);
  for (const key of ['room-name', 'post-uri', 'comet-uri', 'icon-uri', 'cid', 'pos']) assert.ok(key in reply, key);
  assert.equal(reply['room-name'], 'Lobby');
  assert.equal(reply['post-uri'], `${srv.url}/lobby/post`);
  assert.equal(reply['comet-uri'], `${srv.url}/lobby/comet`);
  const client = { cid: reply.cid, pos: reply.pos, post: reply['post-uri'], comet: reply['comet-uri'] };

  const fetchOnce = async () => {
    const r = await httpGet(client.comet, [['t', Math.floor(Date.now() / 1000)], ['c', client.cid], ['p', client.pos], ['s', s]]);
    assert.equal(r.status, 200, r.body);
    const packet = parsers[s](r.body);
    if (packet.pos !== undefined) client.pos = packet.pos;
    if (packet.cid !== undefined) client.cid = packet.cid;
    return packet;
  };

  // The observer thread: fetch until a packet carries content.
  const messages = [];
  let stop = false;
  const observer = (async () => {
    while (!stop) {
      const packet = await fetchOnce();
      if (packet.content && packet.content.length) messages.push(...packet.content);
    }
  })();

  await sleep(200);
  const text = `hello from the original client (s=${s})\r\nsecond line`;
  const talk = await httpPost(client.post, [['nick', 'shiro'], ['text', text], ['cid', client.cid]]);
  assert.equal(talk.status, 200, talk.body);
  await waitFor(() => messages.length > 0, { ms: 8000, what: 'the post in a comet reply' });
  const [nick, [sec, usec], got] = messages[0];
  assert.equal(nick, 'shiro');
  assert.ok(Number.isInteger(sec) && Number.isInteger(usec));
  assert.equal(got, text.replace('\r\n', '\n'));
  stop = true;
  // chaton-bye: the observer thread is terminated; its waiting request is
  // dropped with the connection (rawExchange closes it on its timeout).
  await observer;
  return client;
}

describe('the original chaton.client library', () => {
  test('login, comet, post and bye over S-expressions, as Gauche sends them', T, async (t) => {
    const srv = await startServer(t);
    const client = await runOriginalLoop(srv, 1);
    assert.ok(client.pos >= 1);
  });

  test('the same loop over JSON', T, async (t) => {
    const srv = await startServer(t);
    const client = await runOriginalLoop(srv, 0);
    assert.ok(client.pos >= 1);
  });

  test('chaton-poster-<slug> takes multipart too; a malformed one is a 400 with the reason', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const ok = await httpPost(`${room}chaton-poster-lobby`, [['nick', 'n'], ['text', 'via the poster name']]);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).pos, 1);

    const { hostPort } = uriRef(room);
    const send = (contentType, body) => exchange(hostPort, Buffer.from(
      `POST /lobby/post HTTP/1.1\r\nhost: ${hostPort}\r\ncontent-type: ${contentType}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, 'utf8'));
    const part = 'Content-Disposition: form-data; name=nick\r\n\r\nn';
    for (const [type, body, why] of [
      ['multipart/form-data', `--b\r\n${part}\r\n--b--\r\n`, 'no boundary'],
      ['multipart/form-data; boundary="b"', `--b\r\n${part}\r\n`, 'no closing boundary'],
      ['multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data\r\n\r\nn\r\n--b--\r\n', 'no name'],
      ['multipart/form-data; boundary=c', `--b\r\n${part}\r\n--b--\r\n`, 'no boundary delimiter'],
    ]) {
      const r = await send(type, body);
      assert.equal(r.status, 400, `${type}: ${r.body}`);
      assert.match(r.body, new RegExp(why));
      assert.equal(r.body.trim().split('\n').length, 1);
    }
  });

  test('a multipart post over the size limit is refused like a URL-encoded one', T, async (t) => {
    const srv = await startServer(t, { limits: { text_limit: 10 } });
    const r = await httpPost(`${srv.roomUrl()}post`, [['nick', 'n'], ['text', 'x'.repeat(11)]]);
    assert.equal(r.status, 413, r.body);
  });
});

describe('what the original served besides the client protocol', () => {
  test('status.scm is text/plain and b is no-cache, with the original badge markup', T, async (t) => {
    const srv = await startServer(t, { rooms: [{ slug: 'lobby', name: 'Lobby', icon_url: 'http://example.org/i.png' }] });
    const room = srv.roomUrl();
    await postOk(room, 'n', 'hello');
    const scm = await get(room + 'var/status.scm');
    assert.equal(scm.status, 200);
    assert.match(scm.headers['content-type'], /^text\/plain; charset=utf-8$/i);
    assert.equal(readAlist(scm.text)['post-sequence'], 1);

    const b = await get(room + 'b');
    assert.equal(b.status, 200);
    assert.equal(b.headers['cache-control'], 'no-cache');
    assert.match(b.headers['content-type'], /^text\/javascript/);
    // The written markup: the script's string literal, evaluated on its own.
    const written = vm.runInNewContext(b.text.match(/document\.write\((".*")\);/)[1]);
    assert.match(written, /^<style type="text\/css">\.chaton-badge\{/);
    const markup = written.slice(written.indexOf('</style>') + '</style>'.length);
    assert.match(markup, new RegExp(
      '^<span class="chaton-badge"><a href="' + room + '"><img alt="\\[icon\\]" src="http://example.org/i.png" ' +
      'title="Start chatting in Lobby" width="32" height="32"></a><span class="chaton-room-name">' +
      '<a href="' + room + '" title="Start chatting in Lobby">Lobby</a></span>' +
      '<span class="chaton-last-update">\\d+ seconds? ago</span><span class="chaton-chatters">(No chatters|1 chatter)</span></span>$'));
    assert.equal((await get(room + 'badge.svg')).headers['cache-control'], 'no-cache');
  });

  test('a/today, a/yesterday and a redirect to absolute URLs', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const day = (d) => d.toISOString().slice(0, 10).replace(/-/g, '/');
    const today = await get(room + 'a/today');
    assert.equal(today.status, 302);
    const now = new Date();
    assert.ok([day(now), day(new Date(now.getTime() - 5000))].map((d) => `${room}a/${d}`).includes(today.headers.location),
      today.headers.location);
    const yesterday = await get(room + 'a/yesterday');
    assert.equal(yesterday.status, 302);
    assert.match(yesterday.headers.location, new RegExp(`^${room}a/\\d{4}/\\d{2}/\\d{2}$`));
    const a = await get(srv.url + '/lobby/a');
    assert.equal(a.status, 301);
    assert.equal(a.headers.location, `${room}a/`);
  });

  test('comet without p and s, the original viewer frame URL, redirects to the room page', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    for (const q of ['', '?t=1', '?c=5']) {
      const r = await get(room + 'comet' + q);
      assert.equal(r.status, 302, q);
      assert.equal(r.headers.location, room);
    }
    const page = await get(room);
    assert.equal(page.status, 200);
    assert.match(page.text, /data-comet=/);
    // With a format but no position, packets as before (p is 0).
    const s1 = readAlist((await get(room + 'comet?t=1&c=&s=1')).text);
    assert.equal(s1.pos, 0);
  });

  test('RSS items as the original wrote them', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    await postOk(room, 'shiro', 'one\ntwo');
    await postOk(room, 'kawai', '\u200bhi\ufeff there');
    const rdf = (await get(room + 'var/index.rdf')).text;
    const items = rdf.match(/<item>[\s\S]*?<\/item>/g);
    assert.equal(items.length, 2);
    assert.match(items[0], /<title>kawai: hi there<\/title>/);
    assert.match(items[1], /<title>shiro: one<\/title>/);
    assert.match(items[1], /<content:encoded><!\[CDATA\[<pre class="entry-multi" id="entry-[0-9a-f]+-[0-9a-f]+">shiro: one\ntwo<\/pre>\]\]>/);
    assert.match(items[0], /<description>&lt;div class=&quot;entry-single&quot;[^<]*&lt;span&gt;kawai: /);
  });
});
