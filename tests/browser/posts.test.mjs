// Who said what, and when, in a real browser (docs/PROTOCOL.md, "The room
// page", "Rendering"): times in the reader's time zone and locale (a fixed
// zone and locale set in the browser context) with day separators in the
// live view and the archive, UTC without JavaScript; a colour per nickname
// readable in light and dark; the marker where unread posts begin when the
// reader comes back to a hidden tab; mentions of the reader's nickname
// highlighted and, only once the reader allowed it, notified; permalinks
// named and out of the tab order, images with alt text, nick before time.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  enter, launchBrowser, makeTempDir, openPage, postLine, postOk, roomDataDir, skipReason, solidPng, startServer,
  waitFor,
} from './lib/browser.mjs';

const COMET = { soft_timeout_min: 1, soft_timeout_max: 2, hard_timeout_min: 4, hard_timeout_max: 5, client_timeout: 10 };
const T = { timeout: 120000 };

// One UTC day, 2024/03/09, whose last posts are past midnight in Tokyo
// (UTC+9), not in UTC; shiro's run of two posts (one header) crosses it.
const EVENING = Date.UTC(2024, 2, 9, 10, 0, 0) / 1000;  // 19:00 in Tokyo, 9 March
const BEFORE = Date.UTC(2024, 2, 9, 14, 59, 0) / 1000;  // 23:59
const AFTER = Date.UTC(2024, 2, 9, 15, 0, 30) / 1000;   // 00:00, 10 March
const LATE = Date.UTC(2024, 2, 9, 16, 30, 0) / 1000;    // 01:30
const OLD_POSTS = [
  { nick: 'shiro', sec: EVENING, usec: 1, text: 'good evening' },
  { nick: 'shiro', sec: BEFORE, usec: 2, text: 'almost midnight' },
  { nick: 'shiro', sec: AFTER, usec: 3, text: 'just past midnight' },
  { nick: 'kaz', sec: LATE, usec: 4, text: 'still up?' },
];
const TOKYO_DAYS = ['Saturday, 9 March 2024', 'Sunday, 10 March 2024'];
const TOKYO_TIMES = ['19:00', '23:59', '00:00', '01:30'];
const TOKYO = { timezoneId: 'Asia/Tokyo', locale: 'en-GB' };

// Emulates the Page Visibility API: the tab goes to the background or comes back.
const setHidden = (page, hidden) => page.evaluate((h) => {
  if (h) {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  } else {
    delete document.hidden;
    delete document.visibilityState;
  }
  document.dispatchEvent(new Event('visibilitychange'));
}, hidden);

// WCAG contrast of two CSS rgb() colours.
function contrast(a, b) {
  const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, bl] = rgb(c).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

// For each nickname element in `selector`: its colour, the background it is
// drawn on (the nearest opaque one), and its class.
const nickColours = (page, selector) => page.$$eval(selector, (els) => els.map((el) => {
  let bg = 'rgba(0, 0, 0, 0)';
  for (let n = el; n && /rgba\(.*, 0\)$|transparent/.test(bg); n = n.parentElement) bg = getComputedStyle(n).backgroundColor;
  return { nick: el.textContent, cls: el.className, color: getComputedStyle(el).color, bg };
}));

describe('who said what, and when', { skip: skipReason }, () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  async function page(t, options) {
    const p = await openPage(browser, options);
    t.after(() => p.context().close());
    return p;
  }

  // The old day's posts are still in the live log (current.dat), as
  // after a quiet spell: the live view shows them with today's.
  async function serverWithOldDay(t) {
    const dir = makeTempDir(t, 'posts-');
    fs.mkdirSync(path.join(roomDataDir(dir), 'data'), { recursive: true });
    fs.writeFileSync(path.join(roomDataDir(dir), 'data', 'current.dat'), OLD_POSTS.map(postLine).join(''));
    t.after(() => { if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true }); });
    return startServer(t, { dir, comet: COMET });
  }

  test('times in the reader\'s zone and locale, with day separators, in the live view and the archive; UTC without JavaScript', T, async (t) => {
    const srv = await serverWithOldDay(t);
    const room = srv.roomUrl();
    const p = await page(t, TOKYO);
    await enter(p, room, 'reader');
    await postOk(room, 'mimi', 'hello today');
    await p.locator('#view-pane .entry-single', { hasText: 'hello today' }).waitFor();

    // Live: a separator before each local day, the newest "Today".
    const seps = await p.locator('#view-pane .day-separator').allTextContents();
    assert.deepEqual(seps, [...TOKYO_DAYS, 'Today'], JSON.stringify(seps));
    const times = await p.locator('#view-pane .timestamp time').allTextContents();
    assert.deepEqual(times.slice(0, 4), TOKYO_TIMES);
    assert.match(times[4], /^\d\d:\d\d$/);
    // Each separator comes right before the header of its day's first post;
    // shiro's run, cut by midnight, starts the new day with the nick again.
    const order = await p.$$eval('#view-pane > *', (els) => els.map((e) => `${e.className.split(' ')[0]} ${e.textContent}`));
    assert.deepEqual(order.slice(0, 10), [
      `day-separator ${TOKYO_DAYS[0]}`, 'entry-header shiro19:00', 'permalink-anchor #', 'entry-single good evening',
      'entry-header shiro23:59', 'permalink-anchor #', 'entry-single almost midnight',
      `day-separator ${TOKYO_DAYS[1]}`, 'entry-header shiro00:00', 'permalink-anchor #',
    ]);
    // The machine-readable time stays UTC.
    const datetimes = await p.locator('#view-pane time').evaluateAll((ts) => ts.map((x) => x.getAttribute('datetime')));
    assert.deepEqual(datetimes.slice(0, 4), ['2024-03-09T10:00:00Z', '2024-03-09T14:59:00Z', '2024-03-09T15:00:30Z', '2024-03-09T16:30:00Z']);

    // The archive of the UTC day: the same two local days, and a note that days are UTC.
    await p.goto(`${room}a/2024/03/09`);
    assert.deepEqual(await p.locator('.day-posts .day-separator').allTextContents(), TOKYO_DAYS);
    assert.deepEqual(await p.locator('.day-posts .timestamp time').allTextContents(), TOKYO_TIMES);
    assert.match(await p.textContent('.utc-note'), /^Days are in UTC; times are in your time zone \(Asia\/Tokyo\)\.$/);

    // Search: the date where it changes, then only the time.
    await p.goto(`${room}search?q=still`);
    assert.equal(await p.locator('ol.hits .timestamp time').first().textContent(), '10 Mar 2024, 01:30');
    assert.deepEqual(p.problems, []);

    // Without JavaScript: the UTC form, and no separators.
    const plain = await page(t, { ...TOKYO, javaScriptEnabled: false });
    await plain.goto(`${room}a/2024/03/09`);
    assert.deepEqual(await plain.locator('.day-posts .timestamp time').allTextContents(),
      ['2024/03/09 10:00:00 UTC', '2024/03/09 14:59:00 UTC', '2024/03/09 16:30:00 UTC']);
    assert.equal(await plain.locator('.day-separator').count(), 0);
    assert.equal(await plain.textContent('.utc-note'), 'Days are in UTC, and so are the times.');
  });

  test('a colour per nickname, at least 4.5:1 in light and dark', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const nicks = Array.from({ length: 16 }, (_, i) => `nick${i}`);
    for (const n of nicks) await postOk(room, n, `I am ${n}`);
    await postOk(room, 'nick0', 'me again, a while later');
    for (const colorScheme of ['light', 'dark']) {
      const p = await page(t, { colorScheme });
      await enter(p, room);
      await waitFor(async () => (await p.locator('#view-pane .entry-single').count()) === 17);
      const shown = await nickColours(p, '#view-pane .chatter');
      for (const s of shown) {
        const c = contrast(s.color, s.bg);
        assert.ok(c >= 4.5, `${colorScheme}: ${s.nick} ${s.color} on ${s.bg} is ${c.toFixed(2)}:1`);
      }
      // The same nick, the same colour; several nicks, several colours.
      const byNick = new Map();
      for (const s of shown) {
        if (byNick.has(s.nick)) assert.equal(byNick.get(s.nick), s.color, s.nick);
        byNick.set(s.nick, s.color);
      }
      assert.ok(new Set(byNick.values()).size >= 6, `${new Set(byNick.values()).size} colours for 16 nicks`);
      // The whole palette, on the view and on a highlighted (mentioned) post's background.
      const palette = await p.evaluate(() => {
        const view = document.getElementById('view-pane');
        const probe = document.createElement('div');
        probe.className = 'entry-header';
        view.append(probe);
        const out = [];
        for (let i = 0; i < 12; i++) {
          const span = document.createElement('span');
          span.className = `chatter nick-c${i}`;
          span.textContent = 'x';
          probe.append(span);
          out.push(getComputedStyle(span).color);
        }
        const mention = document.createElement('div');
        mention.className = 'entry-single mention';
        view.append(mention);
        const bgs = [getComputedStyle(view.closest('.app')).backgroundColor, getComputedStyle(mention).backgroundColor];
        probe.remove();
        mention.remove();
        return { colours: out, bgs };
      });
      assert.equal(new Set(palette.colours).size, 12, `${colorScheme}: 12 distinct colours`);
      for (const colour of palette.colours) {
        for (const bg of palette.bgs) {
          const c = contrast(colour, bg);
          assert.ok(c >= 4.5, `${colorScheme}: ${colour} on ${bg} is ${c.toFixed(2)}:1`);
        }
      }
      assert.deepEqual(p.problems, []);
    }
  });

  test('a mention of the reader\'s nickname is highlighted, and notified only once allowed', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const p = await page(t);
    // Records notifications and permission requests instead of showing them.
    await p.context().addInitScript(() => {
      window.__notes = [];
      window.__asked = 0;
      const Real = window.Notification;
      class Recorder {
        constructor(title, options) { window.__notes.push({ title, body: options?.body }); }
        close() {}
        static get permission() { return Real.permission; }
        static requestPermission() { window.__asked += 1; return Real.requestPermission(); }
      }
      window.Notification = Recorder;
    });
    await enter(p, room, 'Anna');
    await postOk(room, 'bob', 'hi anna, look');
    await postOk(room, 'bob', 'Annabel is someone else');
    await postOk(room, 'bob', 'hello (ANNA)!');
    await postOk(room, 'Anna', 'I am Anna');
    await waitFor(async () => (await p.locator('#view-pane .entry-single').count()) === 4);
    const highlighted = await p.locator('#view-pane .entry-single.mention').allTextContents();
    assert.deepEqual(highlighted, ['hi anna, look', 'hello (ANNA)!']);
    const bg = await p.$eval('#view-pane .entry-single.mention', (e) => getComputedStyle(e).backgroundColor);
    assert.notEqual(bg, await p.$eval('#view-pane .entry-single:not(.mention)', (e) => getComputedStyle(e).backgroundColor));

    // Never asked on load; the control is there.
    assert.equal(await p.evaluate(() => window.__asked), 0);
    assert.equal(await p.isVisible('#notify-mentions'), true);
    assert.equal(await p.isChecked('#notify-mentions'), false);

    // Hidden, not allowed: highlighted, no notification.
    await setHidden(p, true);
    await postOk(room, 'bob', 'anna? (1)');
    await p.locator('#view-pane .entry-single.mention', { hasText: 'anna? (1)' }).waitFor();
    assert.deepEqual(await p.evaluate(() => window.__notes), []);
    await setHidden(p, false);

    // Allowed (the reader ticks the box, the browser grants it): a
    // notification for a mention while hidden, none while visible or without a mention.
    await p.context().grantPermissions(['notifications']);
    await p.check('#notify-mentions');
    assert.equal(await p.evaluate(() => window.__asked), 0, 'already granted: nothing to ask');
    await postOk(room, 'bob', 'anna, visible');
    await p.locator('#view-pane .entry-single', { hasText: 'anna, visible' }).waitFor();
    await setHidden(p, true);
    await postOk(room, 'bob', 'no mention here');
    await postOk(room, 'bob', 'ANNA come back');
    await waitFor(async () => (await p.evaluate(() => window.__notes.length)) === 1, { what: 'one notification' });
    assert.deepEqual(await p.evaluate(() => window.__notes), [{ title: 'bob mentioned you in Lobby', body: 'ANNA come back' }]);
    assert.deepEqual(p.problems, []);
  });

  test('asking for notifications happens only when the box is ticked, and a refusal unticks it', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const p = await page(t);
    await p.context().addInitScript(() => {
      window.__asked = 0;
      class Refuser {
        static get permission() { return 'default'; }
        static requestPermission() { window.__asked += 1; return Promise.resolve('denied'); }
      }
      window.Notification = Refuser;
    });
    await enter(p, srv.roomUrl(), 'zed');
    assert.equal(await p.evaluate(() => window.__asked), 0);
    await p.click('#notify-mentions');
    await waitFor(async () => (await p.evaluate(() => window.__asked)) === 1, { what: 'the permission asked' });
    await waitFor(async () => !(await p.isChecked('#notify-mentions')), { what: 'the box unticked' });
    assert.match(await p.textContent('#post-error'), /not allowed/);
  });

  test('coming back to a hidden tab shows where the unread posts begin', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const p = await page(t, { viewport: { width: 900, height: 600 } });
    await enter(p, room, 'reader');
    await postOk(room, 'a', 'read before');
    await p.locator('#view-pane .entry-single', { hasText: 'read before' }).waitFor();
    assert.equal(await p.locator('.unread-marker').count(), 0, 'no marker while reading');

    await setHidden(p, true);
    await postOk(room, 'b', 'first unread');
    await postOk(room, 'c', 'second unread');
    await p.locator('#view-pane .entry-single', { hasText: 'second unread' }).waitFor();
    await setHidden(p, false);
    // One marker, right before the first unread post (its header).
    assert.equal(await p.locator('.unread-marker').count(), 1);
    const next = await p.$eval('.unread-marker', (m) => [m.nextElementSibling.className, m.nextElementSibling.textContent]);
    assert.equal(next[0], 'entry-header');
    assert.match(next[1], /^b/);
    assert.equal(await p.textContent('.unread-marker'), 'New');
    assert.equal(await p.getAttribute('.unread-marker', 'aria-label'), 'Unread posts start here');

    // A post while visible does not move it; the next hidden spell does.
    await postOk(room, 'd', 'seen live');
    await p.locator('#view-pane .entry-single', { hasText: 'seen live' }).waitFor();
    assert.match(await p.$eval('.unread-marker', (m) => m.nextElementSibling.textContent), /^b/);
    await setHidden(p, true);
    await postOk(room, 'e', 'later unread');
    // Enough to scroll the marker out of sight (the view follows the newest post).
    for (let i = 0; i < 30; i++) await postOk(room, `f${i % 2}`, `filler ${i}`);
    await p.locator('#view-pane .entry-single', { hasText: 'filler 29' }).waitFor();
    const outOfSight = await p.$eval('.unread-marker', (m) => m.getBoundingClientRect().bottom < document.getElementById('view-pane').getBoundingClientRect().top);
    assert.ok(outOfSight, 'the marker scrolled away while hidden');
    await setHidden(p, false);
    assert.equal(await p.locator('.unread-marker').count(), 1);
    assert.match(await p.$eval('.unread-marker', (m) => m.nextElementSibling.textContent), /^e/);
    // Back on the tab, the view shows where the unread posts begin.
    const inView = await p.$eval('.unread-marker', (m) => {
      const r = m.getBoundingClientRect();
      const v = document.getElementById('view-pane').getBoundingClientRect();
      return r.top >= v.top - 1 && r.bottom <= v.bottom + 1;
    });
    assert.ok(inView, 'the marker is in view');

    // Posting says the reader has caught up: the marker goes.
    await p.fill('#text', 'caught up');
    await p.press('#text', 'Enter');
    await p.locator('#view-pane .entry-single', { hasText: 'caught up' }).waitFor();
    await waitFor(async () => (await p.locator('.unread-marker').count()) === 0, { what: 'the marker removed' });
    assert.deepEqual(p.problems, []);
  });

  test('reading order nick, time, text; permalinks named and not tab stops; images with alt text; polite live region', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const p = await page(t, TOKYO);
    const png = await solidPng(20, 20);
    await p.route('https://images.example/**', (r) => r.fulfill({ contentType: 'image/png', body: png }));
    for (let i = 0; i < 5; i++) await postOk(room, 'olga', `post ${i}`);
    await postOk(room, 'olga', 'a cat https://images.example/pics/cat.png');
    await enter(p, room, 'reader');
    await waitFor(async () => (await p.locator('#view-pane .entry-single').count()) === 6);

    const header = await p.$eval('#view-pane .entry-header', (h) => Array.from(h.children, (c) => c.className.split(' ')[0]));
    assert.deepEqual(header, ['chatter', 'timestamp']);
    // Each permalink: a name with the nick and the (local) time, tabindex -1.
    const links = await p.$$eval('#view-pane a.permalink-anchor', (as) => as.map((a) => [a.getAttribute('aria-label'), a.tabIndex]));
    assert.equal(links.length, 6);
    for (const [label, tabIndex] of links) {
      assert.match(label, /^Permalink to the post by olga at .*2\d{3}/);
      assert.equal(tabIndex, -1);
    }
    const name = await p.getByRole('link', { name: /^Permalink to the post by olga/ }).first().getAttribute('aria-label');
    assert.ok(name.includes('Japan') || name.includes('GMT+9') || name.includes('JST'), name);
    // Tab from the view goes through the links in the texts (the image)
    // and on to the form, never through the permalinks.
    await p.focus('#view-pane');
    const stops = [];
    for (let i = 0; i < 10 && stops.at(-1) !== 'nick'; i++) {
      await p.keyboard.press('Tab');
      stops.push(await p.evaluate(() => document.activeElement.id || document.activeElement.className));
    }
    assert.deepEqual(stops, ['link-image', 'nick']);
    // The image's alt text says who posted which file, not its URL.
    assert.equal(await p.getAttribute('#view-pane img.inline-image', 'alt'), 'Image posted by olga: cat.png');
    // The live region is polite and only adds.
    assert.equal(await p.getAttribute('#view-pane', 'aria-live'), 'polite');
    assert.equal(await p.getAttribute('#view-pane', 'aria-relevant'), 'additions');
    assert.deepEqual(p.problems, []);
  });
});
