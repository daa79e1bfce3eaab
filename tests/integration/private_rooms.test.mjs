// Private rooms end to end (docs/PROTOCOL.md, "Private rooms"; config
// `htpasswd`): HTTP Basic authentication on every URL of the room — page,
// comet, SSE, WebSocket, archives, RSS, status files, post, apilogin, badge,
// search, assets — with the common htpasswd hashes; the password-change page
// writing bcrypt; the throttle on full credential checks; a public room beside
// it unaffected, and the room index showing a private room by name only.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { get, makeTempDir, post, request, startServer } from './lib/server.mjs';
import { RawWebSocket } from './lib/push.mjs';

const T = { timeout: 60000 };

// Made by `htpasswd -nbB alice 'pässword 1'` and `openssl passwd -6 'carol pw'`.
const HTPASSWD =
  '# users of the secret room\n' +
  'alice:$2y$05$4cAqpfiQeBqcu6UYchysm.46NOoU.Xn/9Dxcn541PGNsMAnVHQPF6\n' +
  'carol:$6$IRdhMS6JygzTPl7v$s2ZjmlzYa3vTyKppPG18lgsD1Lm7ixi9mAEJs04nv1yoNowWT/bt8VtyxZ1GFZ6ZnqMQz3gBPzKB/ruyOVagn0\n';

const basic = (user, password) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const ALICE = basic('alice', 'pässword 1');
const CAROL = basic('carol', 'carol pw');

// Every URL of a room, as [method, sub-path]; the hashed script is added
// once its name is known.
const ROOM_URLS = [
  ['GET', ''], ['GET', 'comet?p=0&s=0'], ['GET', 'a/'], ['GET', 'a/today'],
  ['GET', 'var/index.rdf'], ['GET', 'var/status.js'], ['GET', 'var/status.scm'], ['GET', 'var/seq'],
  ['GET', 'b'], ['GET', 'badge.html'], ['GET', 'badge.svg'], ['GET', 'search?q=hello'],
  ['GET', 'chaton.css'], ['GET', 'passwd'], ['POST', 'post'], ['POST', 'apilogin'],
];

describe('private rooms', () => {
  let server;
  let dir;
  let secret;
  let lobby;
  let jsName;
  const htpasswd = () => path.join(dir, 'secret.htpasswd');

  before(async () => {
    dir = makeTempDir(null, 'private-');
    fs.writeFileSync(path.join(dir, 'secret.htpasswd'), HTPASSWD, { mode: 0o640 });
    server = await startServer(null, {
      dir,
      rooms: [
        { slug: 'lobby', name: 'Lobby' },
        { slug: 'secret', name: 'Secret "room"', htpasswd: path.join(dir, 'secret.htpasswd') },
      ],
    });
    secret = server.roomUrl('secret');
    lobby = server.roomUrl('lobby');
    const page = await get(lobby);
    jsName = page.text.match(/chaton\.[0-9a-f]+\.js/)[0];
  });
  after(() => server?.kill9());

  test('every URL of the room asks for credentials, and wrong ones are refused', T, async () => {
    const noCredentials = [{}, { authorization: 'Basic !!!' }, { authorization: 'Bearer abc' },
      { authorization: `Basic ${Buffer.from('no colon').toString('base64')}` }];
    const wrongCredentials = [basic('alice', 'wrong'), basic('mallory', 'pässword 1')];
    const urls = [...ROOM_URLS, ['GET', jsName], ['GET', 'events?p=0']];
    // Wrong credentials cost a full check each, which is throttled: a few URLs.
    const cases = [
      ...urls.flatMap((u) => noCredentials.map((h) => [u, h])),
      ...urls.filter((_, i) => i % 5 === 0).flatMap((u) => wrongCredentials.map((h) => [u, h])),
    ];
    for (const [[method, sub], headers] of cases) {
      {
        const r = await request(secret + sub, { method, headers, body: method === 'POST' ? { nick: 'x', text: 'y', who: 'x' } : undefined });
        assert.equal(r.status, 401, `${method} ${sub} with ${JSON.stringify(headers)}: ${r.status} ${r.text}`);
        assert.match(r.headers['www-authenticate'], /^Basic realm="Secret room", charset="UTF-8"$/);
        assert.doesNotMatch(r.text, /hello from alice/);
      }
    }
    // The WebSocket upgrade too.
    const port = server.port;
    await assert.rejects(RawWebSocket.connect(port, '/secret/ws?p=0'), (e) => e.status === 401);
    await assert.rejects(RawWebSocket.connect(port, '/secret/ws?p=0', { headers: basic('alice', 'nope') }),
      (e) => e.status === 401);
  });

  test('with the right credentials (bcrypt, SHA-512 crypt) everything works', T, async () => {
    const posted = await post(secret, { nick: 'alice', text: 'hello from alice' }, { headers: ALICE });
    assert.equal(posted.status, 200, posted.text);
    for (const [method, sub] of [...ROOM_URLS.filter(([m]) => m === 'GET'), ['GET', jsName]]) {
      const r = await request(secret + sub, { method, headers: CAROL });
      assert.ok(r.status === 200 || r.status === 302, `GET ${sub}: ${r.status} ${r.text}`);
    }
    const comet = JSON.parse((await get(`${secret}comet?p=0&s=0`, { headers: CAROL })).text);
    assert.ok(comet.content.some((e) => e[2] === 'hello from alice'));
    const rss = await get(`${secret}var/index.rdf`, { headers: ALICE });
    assert.match(rss.text, /hello from alice/);
    const api = await post(secret, { who: 'bot', s: '0' }, { path: 'apilogin', headers: ALICE });
    assert.equal(api.status, 200, api.text);
    const ws = await RawWebSocket.connect(server.port, '/secret/ws?p=0', { headers: ALICE });
    ws.close?.();
    ws.sock?.destroy();
  });

  test('a public room beside it needs nothing, and the index hides private posts', T, async () => {
    assert.equal((await post(lobby, { nick: 'bob', text: 'public words' })).status, 200);
    assert.equal((await get(lobby)).status, 200);
    const index = await get(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.text, /public words/);
    assert.match(index.text, /Secret/);
    assert.doesNotMatch(index.text, /hello from alice/);
  });

  test('the index shows a private room by name only: no chatter count, no time of its last post', T, async () => {
    // The room has a post (above), and a chatter now.
    assert.equal((await post(secret, { who: 'bot', s: '0' }, { path: 'apilogin', headers: ALICE })).status, 200);
    const index = (await get(`${server.url}/`)).text;
    const cards = index.split('<li class="room-card">').slice(1);
    const card = cards.find((c) => c.includes('/secret/'));
    const open = cards.find((c) => c.includes('/lobby/'));
    assert.ok(card && open, index);
    assert.match(card, /Secret/);
    assert.match(card, /private/i);
    assert.doesNotMatch(card, /chatter|last post|no posts yet|ago/, card);
    assert.doesNotMatch(card, /a\/today|search|index\.rdf/, 'only the link to the room');
    // The public room keeps its details.
    assert.match(open, /chatter/);
    assert.match(open, /last post/);
  });

  test('a page of another site cannot post with the browser\'s credentials, nor stream the room over a WebSocket', T, async () => {
    const evil = 'https://evil.example';
    for (const [what, r] of [
      ['a form post', await post(secret, { nick: 'x', text: 'forged' }, { headers: { ...ALICE, origin: evil } })],
      ['a form post from a sandboxed page', await post(secret, { nick: 'x', text: 'forged' }, { headers: { ...ALICE, origin: 'null' } })],
      ['a password change', await request(`${secret}passwd`, { method: 'POST', headers: { ...ALICE, origin: evil },
        body: { old: 'pässword 1', new: 'taken over!', again: 'taken over!' } })],
      ['an API login', await post(secret, { who: 'x' }, { path: 'apilogin', headers: { ...ALICE, 'sec-fetch-site': 'cross-site' } })],
    ]) {
      assert.equal(r.status, 403, `${what}: ${r.status} ${r.text}`);
      assert.match(r.text, /another site/, what);
    }
    await assert.rejects(RawWebSocket.connect(server.port, '/secret/ws?p=0', { headers: { ...ALICE, Origin: evil } }),
      (e) => e.status === 403 && !/hello from alice/.test(e.body));
    const comet = JSON.parse((await get(`${secret}comet?p=0&s=0`, { headers: ALICE })).text);
    assert.ok(!comet.content.some((e) => e[2] === 'forged'), 'nothing was posted');
    assert.equal(fs.readFileSync(htpasswd(), 'utf8'), HTPASSWD, 'no password changed');

    // The room's own page (this origin) posts and connects as before.
    const own = await post(secret, { nick: 'alice', text: 'from the page' }, { headers: { ...ALICE, origin: server.url } });
    assert.equal(own.status, 200, own.text);
    const ws = await RawWebSocket.connect(server.port, '/secret/ws?p=0', { headers: { ...ALICE, Origin: server.url } });
    ws.sock.destroy();
  });

  test('the passwd page changes the password to a bcrypt hash', T, async () => {
    const form = await get(`${secret}passwd`, { headers: CAROL });
    assert.equal(form.status, 200);
    assert.match(form.text, /Logged in as <strong>carol<\/strong>/);
    assert.match(form.headers['content-security-policy'], /frame-ancestors 'none'/);

    const change = (fields, headers = CAROL) => request(`${secret}passwd`, { method: 'POST', headers, body: fields });
    let r = await change({ old: 'not it', new: 'carol new pw', again: 'carol new pw' });
    assert.equal(r.status, 403, r.text);
    r = await change({ old: 'carol pw', new: 'carol new pw', again: 'something else' });
    assert.equal(r.status, 400, r.text);
    r = await change({ old: 'carol pw', new: 'short', again: 'short' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /at least 8 characters/);
    assert.equal(fs.readFileSync(htpasswd(), 'utf8'), HTPASSWD);

    r = await change({ old: 'carol pw', new: 'carol new pw', again: 'carol new pw' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /password was changed/);
    const lines = fs.readFileSync(htpasswd(), 'utf8').split('\n');
    assert.equal(lines[0], '# users of the secret room');
    assert.equal(lines[1], HTPASSWD.split('\n')[1]);  // alice untouched
    assert.match(lines[2], /^carol:\$2y\$10\$/);
    assert.equal(fs.statSync(htpasswd()).mode & 0o777, 0o640);

    assert.equal((await get(secret, { headers: CAROL })).status, 401);
    assert.equal((await get(secret, { headers: basic('carol', 'carol new pw') })).status, 200);
  });

  test('full credential checks are throttled per address', T, async () => {
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      get(`${secret}var/seq`, { headers: basic('alice', `guess ${i}`) }).then((r) => r)));
    const throttled = statuses.filter((r) => r.status === 429);
    assert.ok(throttled.length > 0, `statuses: ${statuses.map((r) => r.status)}`);
    assert.ok(Number(throttled[0].headers['retry-after']) >= 1);
    assert.ok(statuses.every((r) => r.status === 401 || r.status === 429));
  });
});
