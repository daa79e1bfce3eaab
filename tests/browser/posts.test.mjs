// Who said what, and when, in a real browser (docs/PROTOCOL.md, "The room
// page", "Rendering"): times in the reader's time zone and locale (a fixed
// zone, locale and clock set in the browser context; across a change of
// summer time too) with day separators in the
// live view and the archive, UTC without JavaScript; a colour per nickname
// readable in light and dark; the marker where unread posts begin when the
// reader comes back to a hidden tab; mentions of the reader's nickname
// highlighted and, only once the reader allowed it, notified; permalinks
// named and out of the tab order, images with alt text, nick before time.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  browserFixture, enter, entryId, makeTempDir, postLine, postOk, roomDataDir, skipReason, solidPng, startServer,
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
// And the two days after, seen with the browser's clock fixed on the
// second of them: "Yesterday" and "Today" whenever the test runs.
const NEXT_POSTS = [
  { nick: 'mimi', sec: Date.UTC(2024, 2, 11, 1, 0, 0) / 1000, usec: 5, text: 'hello yesterday' },  // 10:00, 11 March
  { nick: 'mimi', sec: Date.UTC(2024, 2, 12, 1, 0, 0) / 1000, usec: 6, text: 'hello today' },      // 10:00, 12 March
];
const TOKYO_NOW = new Date(Date.UTC(2024, 2, 12, 3, 0, 0));  // 12:00, 12 March
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
  const { newPage: page } = browserFixture();

  // The old day's posts are still in the live log (current.dat), as
  // after a quiet spell: the live view shows them with today's.
  async function serverWithPosts(t, posts) {
    const dir = makeTempDir(t, 'posts-');
    fs.mkdirSync(path.join(roomDataDir(dir), 'data'), { recursive: true });
    fs.writeFileSync(path.join(roomDataDir(dir), 'data', 'current.dat'), posts.map(postLine).join(''));
    t.after(() => { if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true }); });
    return startServer(t, { dir, comet: COMET });
  }

  // Counts, in the page, the calls of querySelectorAll whose selector
  // mentions `what` (window.__scans).
  const countScans = (p, what) => p.context().addInitScript((w) => {
    window.__scans = 0;
    const real = Element.prototype.querySelectorAll;
    Element.prototype.querySelectorAll = function count(sel) {
      if (String(sel).includes(w)) window.__scans += 1;
      return real.call(this, sel);
    };
  }, what);
  const scans = (p) => p.evaluate(() => window.__scans);

  test('day labels follow the reader\'s midnight in a quiet room, and are not gone over on every packet', T, async (t) => {
    // 23:50 in Tokyo on Sunday 10 March 2024; the browser's clock at 23:59.
    const srv = await serverWithPosts(t, [{ nick: 'kaz', sec: Date.UTC(2024, 2, 10, 14, 50) / 1000, usec: 1, text: 'late' }]);
    const room = srv.roomUrl();
    const p = await page(t, TOKYO);
    await countScans(p, 'day-separator');
    await p.clock.install({ time: new Date(Date.UTC(2024, 2, 10, 14, 59)) });
    await enter(p, room, 'reader');
    const label = () => p.locator('#view-pane .day-separator').first().textContent();
    await p.locator('#view-pane .entry-single', { hasText: 'late' }).waitFor();
    assert.equal(await label(), 'Today');

    // Posts arrive the same day: the labels are not gone over again.
    const before = await scans(p);
    await postOk(room, 'mimi', 'one');
    await postOk(room, 'mimi', 'two');
    await p.locator('#view-pane .entry-single', { hasText: 'two' }).waitFor();
    assert.equal(await scans(p), before, 'no pass over the separators for packets of the same day');

    // Midnight passes with nothing said: "Today" becomes "Yesterday".
    await p.clock.fastForward('02:00');
    assert.equal(await label(), 'Yesterday');
    // A day later, as the reader comes back to the tab (timers of a
    // hidden tab may not have run): the date.
    await p.clock.setSystemTime(new Date(Date.UTC(2024, 2, 12, 3, 0)));
    await p.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    assert.equal(await label(), 'Sunday, 10 March 2024');
    assert.deepEqual(p.problems, []);
  });

  test('times in the reader\'s zone and locale, with day separators, in the live view and the archive; UTC without JavaScript', T, async (t) => {
    const srv = await serverWithPosts(t, [...OLD_POSTS, ...NEXT_POSTS]);
    const room = srv.roomUrl();
    const p = await page(t, TOKYO);
    await p.clock.setFixedTime(TOKYO_NOW);
    await enter(p, room, 'reader');
    await p.locator('#view-pane .entry-single', { hasText: 'hello today' }).waitFor();

    // Live: a separator before each local day, then "Yesterday" and "Today".
    const seps = await p.locator('#view-pane .day-separator').allTextContents();
    assert.deepEqual(seps, [...TOKYO_DAYS, 'Yesterday', 'Today'], JSON.stringify(seps));
    const times = await p.locator('#view-pane .timestamp time').allTextContents();
    assert.deepEqual(times, [...TOKYO_TIMES, '10:00', '10:00']);
    // Each separator comes right before the header of its day's first post;
    // shiro's run, cut by midnight, starts the new day with the nick again.
    const order = await p.$$eval('#view-pane > *', (els) => els.map((e) => `${e.className.split(' ')[0]} ${e.textContent}`));
    assert.deepEqual(order.slice(0, 10), [
      `day-separator ${TOKYO_DAYS[0]}`, 'entry-header shiro19:00', 'permalink-anchor #', 'entry-single good evening',
      'entry-header shiro23:59', 'permalink-anchor #', 'entry-single almost midnight',
      `day-separator ${TOKYO_DAYS[1]}`, 'entry-header shiro00:00', 'permalink-anchor #',
    ]);
    // Each header's time links the post it heads, the new day's copy too.
    const heads = await p.$$eval('#view-pane .entry-header a.time-link', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(heads.slice(0, 4).map((h) => h.split('#')[1]),
      [entryId(EVENING, 1), entryId(BEFORE, 2), entryId(AFTER, 3), entryId(LATE, 4)]);
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
    // Its day headings are UTC days, as the archive's.
    assert.match(await p.textContent('.utc-note'), /^Days are in UTC; times are in your time zone \(Asia\/Tokyo\)\.$/);
    assert.deepEqual(p.problems, []);

    // Without JavaScript: the UTC form, and no separators.
    const plain = await page(t, { ...TOKYO, javaScriptEnabled: false });
    await plain.goto(`${room}a/2024/03/09`);
    assert.deepEqual(await plain.locator('.day-posts .timestamp time').allTextContents(),
      ['2024/03/09 10:00:00 UTC', '2024/03/09 14:59:00 UTC', '2024/03/09 16:30:00 UTC']);
    assert.equal(await plain.locator('.day-separator').count(), 0);
    assert.equal(await plain.textContent('.utc-note'), 'Days are in UTC, and so are the times.');
    await plain.goto(`${room}search?q=still`);
    assert.equal(await plain.textContent('.utc-note'), 'Days are in UTC, and so are the times.');
  });

  // Summer time ends in Berlin at 01:00 UTC on 27 October 2024 (03:00
  // CEST becomes 02:00 CET): 02:30 comes twice, and the days still break
  // at local midnight, on either side of the change.
  test('local times and day separators across the end of summer time', T, async (t) => {
    const at = (h, m, d = 27) => Date.UTC(2024, 9, d, h, m) / 1000;
    const posts = [
      { nick: 'anna', sec: at(21, 30, 26), usec: 1, text: 'saturday night' },  // 23:30 CEST, 26th
      { nick: 'ben', sec: at(22, 30, 26), usec: 2, text: 'past midnight' },    // 00:30 CEST, 27th
      { nick: 'anna', sec: at(0, 30), usec: 3, text: 'first 02:30' },         // 02:30 CEST
      { nick: 'ben', sec: at(1, 30), usec: 4, text: 'second 02:30' },         // 02:30 CET
      { nick: 'anna', sec: at(22, 30), usec: 5, text: 'sunday night' },       // 23:30 CET, 27th
      { nick: 'ben', sec: at(23, 30), usec: 6, text: 'monday already' },      // 00:30 CET, 28th
    ];
    const srv = await serverWithPosts(t, posts);
    const room = srv.roomUrl();
    const p = await page(t, { timezoneId: 'Europe/Berlin', locale: 'en-GB' });
    await p.clock.setFixedTime(new Date(Date.UTC(2024, 9, 30, 12, 0)));
    await enter(p, room, 'reader');
    await p.locator('#view-pane .entry-single', { hasText: 'monday already' }).waitFor();
    assert.deepEqual(await p.locator('#view-pane .day-separator').allTextContents(),
      ['Saturday, 26 October 2024', 'Sunday, 27 October 2024', 'Monday, 28 October 2024']);
    assert.deepEqual(await p.locator('#view-pane .timestamp time').allTextContents(),
      ['23:30', '00:30', '02:30', '02:30', '23:30', '00:30']);
    // The two 02:30s are told apart by their full time.
    const titles = await p.locator('#view-pane .timestamp time').evaluateAll((ts) => ts.map((x) => x.title));
    assert.match(titles[2], /27 October 2024.*02:30:00 CEST$/);
    assert.match(titles[3], /27 October 2024.*02:30:00 CET$/);

    // The UTC day 2024/10/27 in Berlin: two local days.
    await p.goto(`${room}a/2024/10/27`);
    assert.deepEqual(await p.locator('.day-posts .day-separator').allTextContents(),
      ['Sunday, 27 October 2024', 'Monday, 28 October 2024']);
    assert.deepEqual(await p.locator('.day-posts .timestamp time').allTextContents(), ['02:30', '02:30', '23:30', '00:30']);
    assert.deepEqual(p.problems, []);
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

  test('typing a nickname looks for its mentions once, when the typing pauses', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const p = await page(t);
    await countScans(p, 'entry-single');
    await p.clock.install();
    for (let i = 0; i < 5; i++) await postOk(room, 'bob', `anna, look ${i}`);
    await enter(p, room);
    await waitFor(async () => (await p.locator('#view-pane .entry-single').count()) === 5);
    await p.clock.pauseAt(Date.now() + 60000);
    const before = await scans(p);
    await p.locator('#nick').pressSequentially('Anna');
    assert.equal(await scans(p), before, 'no pass over the posts per keystroke');
    assert.equal(await p.locator('#view-pane .mention').count(), 0);
    await p.clock.runFor(1000);
    assert.equal(await scans(p), before + 1, 'one pass once the typing pauses');
    assert.equal(await p.locator('#view-pane .entry-single.mention').count(), 5);
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

  test('a window without the focus counts unread posts and marks where they begin alike', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const p = await page(t);
    await enter(p, room, 'reader');
    await postOk(room, 'a', 'read before');
    await p.locator('#view-pane .entry-single', { hasText: 'read before' }).waitFor();
    const baseTitle = await p.title();
    // Visible, but another window has the focus.
    const setFocused = (focused) => p.evaluate((f) => {
      if (f) delete document.hasFocus;
      else document.hasFocus = () => false;
      window.dispatchEvent(new Event(f ? 'focus' : 'blur'));
    }, focused);
    await setFocused(false);
    await postOk(room, 'b', 'first unread');
    await postOk(room, 'c', 'second unread');
    await p.locator('#view-pane .entry-single', { hasText: 'second unread' }).waitFor();
    assert.equal(await p.title(), `[2] ${baseTitle}`);
    assert.equal(await p.locator('.unread-marker').count(), 1);
    assert.match(await p.$eval('.unread-marker', (m) => m.nextElementSibling.textContent), /^b/);
    // Back: the count goes, the marker stays where the unread posts began,
    // and moves with the next spell away.
    await setFocused(true);
    assert.equal(await p.title(), baseTitle);
    await postOk(room, 'd', 'seen live');
    await p.locator('#view-pane .entry-single', { hasText: 'seen live' }).waitFor();
    assert.match(await p.$eval('.unread-marker', (m) => m.nextElementSibling.textContent), /^b/);
    await setFocused(false);
    await postOk(room, 'e', 'later unread');
    await p.locator('#view-pane .entry-single', { hasText: 'later unread' }).waitFor();
    assert.equal(await p.title(), `[1] ${baseTitle}`);
    assert.equal(await p.locator('.unread-marker').count(), 1);
    assert.match(await p.$eval('.unread-marker', (m) => m.nextElementSibling.textContent), /^e/);
    assert.deepEqual(p.problems, []);
  });

  test('reading order nick, time, text; permalinks named, one tab stop per header; images with alt text; polite live region', T, async (t) => {
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
    // The header's time is a link to its post's permalink, named with the
    // nick and the local time it shows (and the full local date and time).
    const timeLinks = await p.$$eval('#view-pane .entry-header a.time-link', (as) => as.map((a) => ({
      href: a.getAttribute('href'), label: a.getAttribute('aria-label'), text: a.textContent, tabIndex: a.tabIndex,
    })));
    assert.equal(timeLinks.length, 1, 'one run of posts, one header');
    const first = await p.getAttribute('#view-pane a.permalink-anchor', 'href');
    assert.equal(timeLinks[0].href, first);
    assert.equal(timeLinks[0].tabIndex, 0);
    assert.match(timeLinks[0].text, /^\d\d:\d\d$/);
    assert.ok(timeLinks[0].label.startsWith(`Permalink to the post by olga at ${timeLinks[0].text} (`), timeLinks[0].label);
    // Each permalink: a name with the nick and the (local) time, tabindex -1.
    const links = await p.$$eval('#view-pane a.permalink-anchor', (as) => as.map((a) => [a.getAttribute('aria-label'), a.tabIndex]));
    assert.equal(links.length, 6);
    for (const [label, tabIndex] of links) {
      assert.match(label, /^Permalink to the post by olga at .*2\d{3}/);
      assert.equal(tabIndex, -1);
    }
    const name = await p.getByRole('link', { name: /^Permalink to the post by olga/ }).first().getAttribute('aria-label');
    assert.ok(name.includes('Japan') || name.includes('GMT+9') || name.includes('JST'), name);
    // Tab from the view goes through the header's time (one stop for the
    // run of six posts), the links in the texts (the image) and on to the
    // form, never through the per-post permalinks.
    await p.focus('#view-pane');
    const stops = [];
    for (let i = 0; i < 10 && stops.at(-1) !== 'nick'; i++) {
      await p.keyboard.press('Tab');
      stops.push(await p.evaluate(() => document.activeElement.id || document.activeElement.className));
    }
    assert.deepEqual(stops, ['time-link', 'link-image', 'nick']);
    // The image's alt text says who posted which file, not its URL.
    assert.equal(await p.getAttribute('#view-pane img.inline-image', 'alt'), 'Image posted by olga: cat.png');
    // The live region is polite and only adds.
    assert.equal(await p.getAttribute('#view-pane', 'aria-live'), 'polite');
    assert.equal(await p.getAttribute('#view-pane', 'aria-relevant'), 'additions');
    assert.deepEqual(p.problems, []);
  });
});
