// Security headers on every response: nosniff and a Referrer-Policy
// everywhere; pages get the page CSP, and only the room page and the badge
// page may be framed — by this site, plus the origins in [site]
// frame_ancestors. Everything else (archives, search, the index, JSON,
// feeds, errors) may not be framed and runs nothing.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { get, request, startServer } from './lib/server.mjs';

const T = { timeout: 30000 };

function frameAncestors(res) {
  const csp = res.headers['content-security-policy'] ?? '';
  return csp.match(/frame-ancestors ([^;]*)/)?.[1];
}

describe('security headers', () => {
  test('nosniff and Referrer-Policy everywhere; only the room page and badge.html may be framed, by this site', T, async (t) => {
    const srv = await startServer(t);
    const room = srv.roomUrl();
    const urls = ['', 'a/', 'a/today', 'search?q=x', 'badge.html', 'var/index.rdf', 'var/status.js',
      'var/seq', 'comet?p=0&s=0', 'chaton.css', 'no-such-page'].map((u) => room + u);
    urls.push(`${srv.url}/`, `${srv.url}/robots.txt`, `${srv.url}/nowhere`);
    for (const url of urls) {
      const r = await get(url);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(r.headers['referrer-policy'], 'strict-origin-when-cross-origin', url);
      const embeddable = url === room || url.endsWith('/badge.html');
      if (embeddable) {
        assert.equal(frameAncestors(r), "'self'", url);
        assert.equal(r.headers['x-frame-options'], 'SAMEORIGIN', url);
      } else {
        assert.equal(frameAncestors(r), "'none'", url);
        assert.equal(r.headers['x-frame-options'], 'DENY', url);
      }
      if ((r.headers['content-type'] ?? '').startsWith('text/html')) {
        assert.match(r.headers['content-security-policy'], /script-src 'self'/, url);
        assert.doesNotMatch(r.headers['content-security-policy'], /unsafe-inline|unsafe-eval/, url);
      } else {
        assert.match(r.headers['content-security-policy'], /^default-src 'none'/, url);
      }
    }
    const post = await request(`${room}post`, { method: 'POST', body: { nick: '', text: '' } });
    assert.equal(post.status, 400);
    assert.equal(frameAncestors(post), "'none'");
  });

  test('[site] frame_ancestors lets the listed origins frame the room page and the badge only', T, async (t) => {
    const srv = await startServer(t, { site: { frame_ancestors: ['https://blog.example.org', 'https://*.example.net'] } });
    const room = srv.roomUrl();
    for (const url of [room, `${room}badge.html`]) {
      const r = await get(url);
      assert.equal(frameAncestors(r), "'self' https://blog.example.org https://*.example.net", url);
      assert.equal(r.headers['x-frame-options'], undefined, url);
    }
    for (const url of [`${room}a/`, `${room}search?q=x`, `${srv.url}/`]) {
      const r = await get(url);
      assert.equal(frameAncestors(r), "'none'", url);
      assert.equal(r.headers['x-frame-options'], 'DENY', url);
    }
  });

  test('a frame_ancestors entry that is not an origin stops the server at start, naming the key', T, async (t) => {
    await assert.rejects(startServer(t, { site: { frame_ancestors: ["https://a.org; script-src 'unsafe-inline'"] } }),
      /frame_ancestors/);
  });
});
