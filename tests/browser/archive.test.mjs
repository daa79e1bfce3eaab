// Archives, search, RSS, badge and the room index in a real browser
// (docs/PROTOCOL.md, "Archives", "Search", "RSS", "Badge", "Other"): permalinks
// open the day at the post, a/today and a/yesterday redirect, the day pages
// navigate without JavaScript, search finds words in any order, newest first,
// paged; the RSS feed is linked; the badge works as a script embed, as an image
// and as a page of snippets.
//
// Archived days are written by hand in the storage format (docs/STORAGE.md)
// before the server starts.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  browserFixture, dayStart, entryId, get, postOk, roomDataDir, serveHtml, skipReason, utcDate, waitFor, writeDay,
} from './lib/browser.mjs';

const T = { timeout: 120000 };
const COMET = { soft_timeout_min: 1, soft_timeout_max: 2, hard_timeout_min: 4, hard_timeout_max: 5, client_timeout: 10 };
const HOSTILE_ROOM = '<img src=x onerror="window.__pwned=1">Evil "room" & co';

// Three days ago: 60 posts, ten minutes apart. Yesterday: a short chat.
const day3 = dayStart(3);
const day1 = dayStart(1);
const oldPosts = Array.from({ length: 60 }, (_, i) => ({
  nick: i % 2 ? 'kaz' : 'shiro',
  sec: day3 + 3600 + i * 600,
  usec: i * 7,
  text: `Apple pie number ${i + 1}`,
}));
const yesterdayPosts = [
  { nick: 'shiro', sec: day1 + 36000, usec: 1, text: 'Gauche 0.9.15 is out' },
  { nick: 'kaz', sec: day1 + 36100, usec: 2, text: 'PIE for everyone? (no apples)' },
  { nick: 'mimi', sec: day1 + 36200, usec: 3, text: 'line one\nline two' },
];

describe('archives, search, RSS and badge', { skip: skipReason }, () => {
  const fixture = browserFixture();
  const { newPage } = fixture;
  let srv;
  let room;

  before(async () => {
    const dir = fixture.tempDir();
    writeDay(roomDataDir(dir), oldPosts);
    writeDay(roomDataDir(dir), yesterdayPosts);
    srv = await fixture.startServer({
      comet: COMET,
      rooms: [
        { slug: 'lobby', name: 'Lobby', description: 'Say <em>hello</em>.' },
        { slug: 'evil', name: HOSTILE_ROOM, description: 'Careful.' },
      ],
    });
    room = srv.roomUrl('lobby');
  });
  // Whether the element is inside the window, and is the :target.
  const targetInView = (page, id) => page.evaluate((eid) => {
    const el = document.getElementById(eid);
    if (!el) return { found: false };
    const r = el.getBoundingClientRect();
    return {
      found: true,
      target: el.matches(':target'),
      inView: r.top >= 0 && r.bottom <= window.innerHeight,
      scrolled: window.scrollY > 0,
      background: getComputedStyle(el).backgroundColor,
    };
  }, id);

  test('a permalink opens the archive day scrolled to its post, highlighted', T, async (t) => {
    const page = await newPage(t);
    const p = oldPosts[44];
    const id = entryId(p.sec, p.usec);
    await page.goto(`${room}a/${utcDate(day3).path}#${id}`);
    const s = await targetInView(page, id);
    assert.equal(s.found, true);
    assert.equal(s.target, true);
    assert.equal(s.inView, true, 'the post is on screen');
    assert.equal(s.scrolled, true, 'the page scrolled down to it');
    assert.notEqual(s.background, 'rgba(0, 0, 0, 0)', 'the post is highlighted');
    assert.equal(await page.textContent(`#${id}`), 'Apple pie number 45');
    assert.deepEqual(page.problems, []);
  });

  test('the permalink of a live post opens today\'s archive at it', T, async (t) => {
    const page = await newPage(t);
    await page.goto(room);
    await page.fill('#nick', 'linker');
    await page.fill('#text', 'remember this one');
    await page.press('#text', 'Enter');
    const entry = page.locator('#view-pane .entry-single', { hasText: 'remember this one' });
    await entry.waitFor();
    const id = await entry.getAttribute('id');
    await page.click(`#anchor-${id}`);
    await page.waitForURL(/\/a\/\d{4}\/\d{2}\/\d{2}#entry-/);
    assert.ok(page.url().startsWith(`${room}a/${utcDate(Date.now() / 1000).path}#${id}`), page.url());
    const s = await targetInView(page, id);
    assert.equal(s.target, true);
    assert.equal(s.inView, true);
    assert.deepEqual(page.problems, []);
  });

  test('a/today and a/yesterday redirect to the dated day', T, async (t) => {
    const page = await newPage(t);
    const today = utcDate(Date.now() / 1000).path;
    const res = await page.goto(`${room}a/today`);
    assert.equal(page.url(), `${room}a/${today}`);
    assert.equal(res.status(), 200);
    assert.equal(await page.title(), `Lobby > Archives > ${today}`);
    assert.equal((await res.request().redirectedFrom().response()).status(), 302);

    await page.goto(`${room}a/yesterday`);
    assert.equal(page.url(), `${room}a/${utcDate(day1).path}`);
    assert.deepEqual(await page.locator('.day-posts .chatter').allTextContents(), ['shiro', 'kaz', 'mimi']);
    assert.equal(await page.locator('.day-posts pre.entry-multi').textContent(), 'line one\nline two');
  });

  test('day pages navigate without JavaScript: previous/next day, month navigator, months', T, async (t) => {
    const page = await newPage(t, { javaScriptEnabled: false });
    const d3 = utcDate(day3);
    const d1 = utcDate(day1);
    await page.goto(`${room}a/${d1.path}`);
    // No inline script: only the room's script, which shows the times in
    // the reader's zone (here, disabled, the page is whole without it).
    assert.deepEqual(await page.$$eval('script', (ss) => ss.map((s) => [Boolean(s.src), s.textContent])), [[true, '']]);
    // The previous day with posts is three days ago (the days between are empty).
    await page.click('.day-nav >> nth=0 >> a.prev-day');
    assert.equal(page.url(), `${room}a/${d3.path}`);
    assert.equal(await page.locator('.day-posts .entry-single').count(), 60);
    assert.equal(await page.locator('.day-nav >> nth=0 >> a.prev-day').count(), 0, 'no earlier day');
    await page.click('.day-nav >> nth=0 >> a.next-day');
    assert.equal(page.url(), `${room}a/${d1.path}`);

    // A day between has no posts but the same navigation, and says so.
    const between = utcDate(dayStart(2)).path;
    const res = await page.goto(`${room}a/${between}`);
    assert.equal(res.status(), 200);
    assert.equal(await page.textContent('.empty'), 'No posts on this day.');
    assert.equal(await page.getAttribute('.day-nav >> nth=0 >> a.prev-day', 'href'), `${room}a/${d3.path}`);
    assert.equal(await page.getAttribute('.day-nav >> nth=0 >> a.next-day', 'href'), `${room}a/${d1.path}`);

    // The month navigator counts each day's posts and links them.
    await page.goto(`${room}a/${d3.path}`);
    const cell = page.locator(`.calendar a[href="${room}a/${d3.path}"]`);
    assert.equal(await cell.locator('.day-count').textContent(), '60 posts');
    assert.equal(await cell.getAttribute('aria-current'), 'date');
    if (d3.m === d1.m) {
      assert.match(await page.locator(`.calendar a[href="${room}a/${d1.path}"] .day-count`).textContent(), /^\d+ posts?$/);
    }
    await page.click('.month-head h2 a');
    assert.equal(page.url(), `${room}a/${d3.y}/${String(d3.m).padStart(2, '0')}`);
    await page.click('.crumbs a >> text=Archives');
    assert.equal(page.url(), `${room}a/`);
    assert.ok(await page.locator('.month-list a').count() >= 1);
    await page.click('.page-footer >> text=Back to the chat room');
    assert.equal(page.url(), room);
  });

  test('a malformed date gets a friendly 404 page', T, async (t) => {
    const page = await newPage(t);
    for (const bad of ['2024/02/30', '2024/13/01', 'last-week', '2024/1/1']) {
      const res = await page.goto(`${room}a/${bad}`);
      assert.equal(res.status(), 404, bad);
      assert.equal(await page.textContent('main h2'), 'There is no archive page here');
      assert.equal(await page.locator('a', { hasText: 'Today' }).count(), 1);
    }
  });

  test('search: words in any order, any case, newest first, paged, highlighted, with permalinks', T, async (t) => {
    const page = await newPage(t);
    await page.goto(room);
    await page.click('nav.room-links >> text=Search');
    await page.fill('#q', 'PIE apple');
    await page.press('#q', 'Enter');
    await page.waitForURL(/search\?q=PIE\+apple|search\?q=PIE%20apple/);
    const hits = page.locator('ol.hits > li');
    assert.equal(await hits.count(), 20);
    // Newest first: yesterday's "PIE ... apples", then the old day from the end.
    assert.match(await hits.nth(0).locator('.entry-single').textContent(), /PIE for everyone\? \(no apples\)/);
    assert.equal(await hits.nth(1).locator('.entry-single').textContent(), 'Apple pie number 60');
    assert.deepEqual(await hits.nth(1).locator('mark').allTextContents(), ['Apple', 'pie']);
    assert.equal(await hits.nth(1).locator('.chatter').textContent(), 'kaz');
    // Its time, machine-readable in UTC; the text is the reader's local time.
    assert.match(await hits.nth(1).locator('.timestamp time').getAttribute('datetime'),
      new RegExp(`^${utcDate(day3).path.replaceAll('/', '-')}T\\d\\d:\\d\\d:\\d\\dZ$`));
    // The day of each group links to the archive.
    assert.equal(await page.locator('.hit-day a').first().getAttribute('href'), `${room}a/${utcDate(day1).path}`);

    await page.click('.pager a[rel=next]');
    assert.equal(await hits.count(), 20);
    assert.equal(await hits.nth(0).locator('.entry-single').textContent(), 'Apple pie number 41');
    await page.click('.pager a[rel=next]');
    assert.equal(await hits.count(), 21 - 1);
    assert.equal(await hits.last().locator('.entry-single').textContent(), 'Apple pie number 2');
    await page.click('.pager a[rel=next]');
    assert.equal(await hits.count(), 1);
    assert.equal(await page.locator('.pager a[rel=next]').count(), 0, 'the last page');

    // A hit's permalink opens the day at the post.
    const anchor = hits.first().locator('a.permalink-anchor');
    const id = (await anchor.getAttribute('id')).replace(/^anchor-/, '');
    await anchor.click();
    await page.waitForURL(/#entry-/);
    assert.equal((await targetInView(page, id)).target, true);

    // Nothing found, and a hostile query shown as text.
    await page.goto(`${room}search?q=${encodeURIComponent('<script>alert(1)</script> zebra')}`);
    assert.equal(await page.textContent('.search-summary'), 'No posts match <script>alert(1)</script> zebra.');
    assert.equal(await page.inputValue('#q'), '<script>alert(1)</script> zebra');
    assert.deepEqual(page.problems, []);
  });

  test('RSS is linked from the room page', T, async (t) => {
    const page = await newPage(t);
    await page.goto(room);
    const alt = await page.getAttribute('link[rel=alternate][type="application/rss+xml"]', 'href');
    assert.equal(alt, `${room}var/index.rdf`);
    assert.equal(await page.getAttribute('nav.room-links a >> text=RSS', 'href'), alt);
    const rss = await get(alt);
    assert.equal(rss.status, 200);
    assert.match(rss.text, /<rss version="2.0"/);
  });

  test('badge: the page with snippets, the image, and the script embed on another site', T, async (t) => {
    await postOk(room, 'shiro', 'badge me');
    const page = await newPage(t);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto(room);
    await page.click('nav.room-links >> text=Badge');
    assert.equal(page.url(), `${room}badge.html`);
    assert.equal(await page.inputValue('#snippet-script'), `<script src="${room}b"></script>`);
    assert.match(await page.inputValue('#snippet-md'), /^\[!\[Lobby on Chaton\]\(.*badge\.svg\)\]\(.*\/lobby\/\)$/);
    await page.click('button[data-copy="snippet-script"]');
    await waitFor(async () => (await page.textContent('button[data-copy="snippet-script"]')) !== 'Copy');
    assert.equal(await page.textContent('button[data-copy="snippet-script"]'), 'Copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `<script src="${room}b"></script>`);
    const img = page.locator(`img[src="${room}badge.svg"]`);
    await waitFor(() => img.evaluate((el) => el.complete && el.naturalWidth > 50), { what: 'the SVG badge loads' });

    // `b` on someone else's page, as existing embeds use it; the room name is hostile.
    const embed = await newPage(t);
    const evil = srv.roomUrl('evil');
    await embed.goto(await serveHtml(t, `<!DOCTYPE html><title>embed</title><p id="before">before</p>
      <script src="${room}b"></script><script src="${evil}b"></script><p id="after">after</p>`));
    const badges = embed.locator('.chaton-badge');
    assert.equal(await badges.count(), 2);
    assert.equal(await badges.nth(0).locator('.chaton-room-name a').textContent(), 'Lobby');
    assert.equal(await badges.nth(0).locator('.chaton-room-name a').getAttribute('href'), room);
    assert.equal(await badges.nth(0).locator('.chaton-room-name a').getAttribute('title'), 'Start chatting in Lobby');
    assert.match(await badges.nth(0).textContent(), /(\d+ (second|minute)s? ago)/);
    assert.match(await badges.nth(0).locator('.chaton-chatters').textContent(), /^(No chatters|1 chatter|\d+ chatters)$/);
    assert.equal(await badges.nth(1).locator('.chaton-room-name a').textContent(), HOSTILE_ROOM);
    assert.equal(await badges.nth(1).locator('.chaton-last-update').textContent(), 'no known updates');
    assert.equal(await embed.locator('.chaton-badge img').count(), 0);
    assert.equal(await embed.evaluate(() => window.__pwned), undefined);
    assert.equal(await embed.textContent('#after'), 'after');
    assert.deepEqual(embed.problems, []);

    const svg = await get(`${evil}badge.svg`);
    assert.equal(svg.status, 200);
    assert.match(svg.headers['content-type'], /^image\/svg\+xml/);
    assert.ok(svg.text.includes('<title>&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;Evil &quot;room&quot; &amp; co: '), svg.text);
    assert.ok(!svg.text.includes('<img'));
  });

  test('the room index lists every room with its description, chatters and last post', T, async (t) => {
    const page = await newPage(t);
    await page.goto(`${srv.url}/`);
    const cards = page.locator('.room-card');
    assert.equal(await cards.count(), 2);
    const lobby = cards.filter({ hasText: 'Say hello.' });
    assert.equal(await lobby.locator('h2 a').getAttribute('href'), room);
    assert.equal(await lobby.locator('.room-description em').textContent(), 'hello');
    assert.match(await lobby.locator('.chatters').textContent(), /^(No chatters|1 chatter|\d+ chatters) now$/);
    assert.match(await lobby.locator('.last-post').textContent(), /^last post \d+ (second|minute)s? ago$/);
    const evil = cards.filter({ hasText: 'Careful.' });
    assert.equal(await evil.locator('h2 a').textContent(), HOSTILE_ROOM);
    assert.equal(await evil.locator('.last-post').textContent(), 'no posts yet');
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(page.problems, []);
  });
});
