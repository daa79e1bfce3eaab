// Accessibility of every page in a real browser, to WCAG 2.2 AA: axe-core
// (npm, pinned in package-lock.json) runs in Chromium on the room page, an
// archive day and month, the archive index, search results, the badge page,
// the room index, and a private room's page and password page (also as it
// refuses a change), each in light and in dark, and must report no
// violation; a failure lists each violation's rule, impact and nodes, so it
// can be fixed from the test output. What axe does not check is checked
// here too: the edges of text fields and their placeholders, and the focus
// outline of every tab stop. And a private room's page links its password
// page, which is framed and styled as the other pages (docs/PROTOCOL.md,
// "Private rooms").

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import {
  browserFixture, connected, dayStart, postOk, roomDataDir, skipReason, solidPng, utcDate, waitFor, writeDay,
} from './lib/browser.mjs';

const require = createRequire(import.meta.url);
let axePath = null;
try {
  axePath = require.resolve('axe-core/axe.min.js');
} catch {
  axePath = null;
}
let axeSource = null;
// Outside CI a missing axe-core skips its checks (and says so); in CI
// (CI=true, as for nginx and PostgreSQL) it fails them: package-lock.json pins it, so
// it is missing only when the install went wrong.
const AXE_MISSING = 'axe-core is not installed (bash scripts/setup.sh runs npm ci)';
const noAxe = !axePath && process.env.CI !== 'true' && AXE_MISSING;
if (noAxe && !skipReason) console.log(`# axe-core checks skipped: ${noAxe}`);

const T = { timeout: 120000 };
const PHONE = { width: 360, height: 740 };
const COMET = { soft_timeout_min: 1, soft_timeout_max: 2, hard_timeout_min: 4, hard_timeout_max: 5, client_timeout: 10 };
// WCAG 2.0, 2.1 and 2.2, levels A and AA.
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

// Made by `htpasswd -nbB alice 'pässword 1'`.
const HTPASSWD = 'alice:$2y$05$4cAqpfiQeBqcu6UYchysm.46NOoU.Xn/9Dxcn541PGNsMAnVHQPF6\n';
const ALICE = { username: 'alice', password: 'pässword 1' };

const day = dayStart(2);
const archivedPosts = [
  { nick: 'shiro', sec: day + 36000, usec: 1, text: 'Gauche 0.9.15 is out: https://practical-scheme.net/gauche/' },
  { nick: 'kaz', sec: day + 36100, usec: 2, text: 'a picture: https://images.example/cat.png' },
  { nick: 'mimi', sec: day + 36200, usec: 3, text: 'line one\nline two' },
];

// Submits the password form with a wrong current password, and waits for
// the page that says so.
async function refuseChange(page) {
  await page.fill('#old', 'not my password');
  await page.fill('#new', 'a new password');
  await page.fill('#again', 'a new password');
  await Promise.all([page.waitForResponse((r) => r.url().endsWith('/passwd') && r.status() === 403),
    page.click('form.passwd-form button[type=submit]')]);
  await page.locator('.form-error').waitFor();
  // The browser's console reports the 403 of the page itself.
  page.problems = page.problems.filter((p) => !/403/.test(p));
}

// The violations axe finds in the page as it is now.
// axe is evaluated through the DevTools protocol rather than added as a
// <script>: the pages' Content-Security-Policy (script-src 'self') stays
// in force, as it is for their readers.
async function axeViolations(page) {
  assert.ok(axePath, `${AXE_MISSING}, and CI needs its checks`);
  axeSource ??= fs.readFileSync(axePath, 'utf8');
  if (!await page.evaluate(() => 'axe' in window)) await page.evaluate(axeSource);
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  }, WCAG_AA);
}

function describeViolations(violations) {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n` +
    v.nodes.map((n) => `    ${n.target}\n      ${n.summary.replace(/\n/g, '\n      ')}`).join('\n')).join('\n');
}

describe('accessibility (axe-core, WCAG 2.2 AA)', { skip: skipReason }, () => {
  let srv;
  let room;
  let secret;
  let png;
  const fixture = browserFixture({
    preparePage: (page) => page.route('https://images.example/**', (r) => r.fulfill({ contentType: 'image/png', body: png })),
  });
  const { newPage } = fixture;

  before(async () => {
    png = await solidPng(400, 200);
    const dir = fixture.tempDir();
    writeDay(roomDataDir(dir), archivedPosts);
    fs.writeFileSync(path.join(dir, 'secret.htpasswd'), HTPASSWD, { mode: 0o640 });
    srv = await fixture.startServer({
      comet: COMET,
      rooms: [
        { slug: 'lobby', name: 'Lobby', description: 'Say <em>hello</em>.' },
        { slug: 'secret', name: 'Secret room', htpasswd: path.join(dir, 'secret.htpasswd') },
      ],
    });
    room = srv.roomUrl('lobby');
    secret = srv.roomUrl('secret');
    await postOk(room, 'alice', 'Hello everyone!');
    await postOk(room, 'bob', 'The docs are at https://example.com/docs?a=1&b=2 and a picture: https://images.example/dog.png');
    await postOk(room, 'alice', 'two lines:\nthe second one');
  });
  // [name, url (from the server's rooms), ready(page), context options, HTTP status]
  const PAGES = [
    ['the room page', () => room, async (page) => {
      await connected(page);
      await waitFor(async () => (await page.locator('#view-pane img.inline-image').count()) === 1,
        { what: 'the posts with their image' });
    }],
    ['an archive day', () => `${room}a/${utcDate(day).path}`],
    ['an archive month', () => `${room}a/${utcDate(day).path.slice(0, 7)}`],
    ['the archive index', () => `${room}a/`],
    ['the archives\' page for a date that is not one', () => `${room}a/2024/02/30`, null, {}, 404],
    ['search results', () => `${room}search?q=picture`, async (page) => {
      assert.ok(await page.locator('.hit').count() >= 2, 'the search has hits');
    }],
    // A nickname inside a search highlight (<mark>) keeps 4.5:1 too.
    ['search results matching a nickname', () => `${room}search?q=alice`, async (page) => {
      assert.ok(await page.locator('.hit .chatter mark').count() >= 1, 'a nickname is highlighted');
    }],
    ['the badge page', () => `${room}badge.html`],
    ['the room index', () => `${srv.url}/`],
    ['the password page of a private room', () => `${secret}passwd`, null, { httpCredentials: ALICE }],
    ['the password page saying why a change was refused', () => `${secret}passwd`, refuseChange,
      { httpCredentials: ALICE }],
    ['a private room\'s page', () => secret, connected, { httpCredentials: ALICE }],
    // Where targets are smallest and wrap (WCAG 2.5.8, 1.4.10).
    ['the room page on a phone', () => room, connected, { viewport: PHONE }],
    ['an archive day on a phone', () => `${room}a/${utcDate(day).path}`, null, { viewport: PHONE }],
  ];

  // Each page is loaded once, and checked in light, then in dark.
  for (const [name, url, ready, options, status = 200] of PAGES) {
    test(`${name}: no violation, light or dark`, { ...T, skip: noAxe }, async (t) => {
      const page = await newPage(t, { colorScheme: 'light', ...options });
      const res = await page.goto(url());
      assert.equal(res.status(), status);
      if (status !== 200) page.problems = page.problems.filter((p) => !p.includes(String(status)));
      await page.waitForLoadState('load');
      if (ready) await ready(page);
      for (const colorScheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme });
        assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), colorScheme === 'dark');
        const violations = await axeViolations(page);
        assert.equal(violations.length, 0, `${colorScheme}: axe-core found:\n${describeViolations(violations)}`);

        // What axe does not check. WCAG 1.4.11: the edge of a text field
        // shows where to type, so it needs 3:1 against the colours on both
        // sides of it; WCAG 1.4.3: a placeholder is text, 4.5:1 on the field.
        const fields = await page.evaluate(inspect, 'fields');
        assert.deepEqual(fields.filter((f) => f.edge < 3 || f.inside < 3 || (f.placeholder && f.placeholder < 4.5)),
          [], `${colorScheme}: text fields`);
        // WCAG 2.4.7 and 1.4.11: whatever takes the keyboard focus shows
        // an outline of 3:1 against what is around it.
        await page.keyboard.press('Tab');  // from here on the focus is shown as for the keyboard
        const stops = await page.evaluate(inspect, 'focus');
        assert.ok(stops.length >= 2, `${stops.length} tab stops`);
        assert.deepEqual(stops.filter((f) => f.width < 2 || f.contrast < 3), [], `${colorScheme}: focus indicators`);
      }
      assert.deepEqual(page.problems, []);
    });
  }

  // WCAG 1.3.1: the room page's landmarks say what each part is: the
  // header, the messages, and where to write one (no "content info").
  test('the room page\'s landmarks: its header, the messages, and posting', T, async (t) => {
    const page = await newPage(t);
    await page.goto(room);
    await connected(page);
    const where = 'header, main, footer, section, nav, aside, form[aria-label], [role=banner], [role=main], '
      + '[role=contentinfo], [role=region], [role=navigation], [role=complementary], [role=search], [role=log]';
    const landmarks = await page.evaluate((sel) => [...document.body.querySelectorAll(sel)]
      .map((el) => `${el.localName}${el.getAttribute('role') ? `[role=${el.getAttribute('role')}]` : ''}`
        + `${el.getAttribute('aria-label') ? ` "${el.getAttribute('aria-label')}"` : ''}`), where);
    assert.deepEqual(landmarks, ['header', 'nav "Room"', 'main', 'div[role=log] "Messages"', 'section "Post a message"']);
    const snapshot = await page.locator('body').ariaSnapshot();
    assert.match(snapshot, /^- banner:/m);
    assert.match(snapshot, /^- main:\n {2}- log "Messages"/m);
    assert.match(snapshot, /^- region "Post a message":/m);
    assert.doesNotMatch(snapshot, /contentinfo/);
  });

  // WCAG 2.4.4, 1.3.1: a day of the month navigator is named by its number
  // and its count of posts, kept apart by more than layout ("28, 3 posts",
  // not "283 posts" where the flex boundary is not a word break).
  test('the days of the month navigator are named by day and count', T, async (t) => {
    const page = await newPage(t);
    await page.goto(`${room}a/${utcDate(day).path}`);
    const link = page.locator(`.calendar a[href$="a/${utcDate(day).path}"]`);
    assert.equal(await link.evaluate((a) => a.textContent), `${utcDate(day).d}, 3 posts`);
    assert.match(await link.ariaSnapshot(), new RegExp(`^- link "${utcDate(day).d} ?, 3 posts"`));
  });

  // WCAG 4.1.3: a Copy button moves the focus to what it selected, and says
  // what it did in a status message that screen readers speak.
  test('the badge page\'s Copy buttons tell screen readers what they did', T, async (t) => {
    const page = await newPage(t);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto(`${room}badge.html`);
    const status = page.getByRole('status');
    assert.equal(await status.textContent(), '');
    await page.getByRole('button', { name: 'Copy' }).nth(2).click();
    await waitFor(async () => (await status.textContent()) !== '', { what: 'a status message' });
    assert.equal(await status.textContent(), 'Copied: Markdown');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'snippet-md');
    assert.deepEqual(page.problems, []);
  });

  // ---- the password page of a private room

  test('a private room\'s page links its password page, which is styled as the others and says what went wrong', T, async (t) => {
    const page = await newPage(t, { httpCredentials: ALICE });
    await page.goto(secret);
    await connected(page);
    const link = page.getByRole('link', { name: 'Change password (signed in as alice)' });
    assert.equal(await link.evaluate((a) => a.closest('nav').getAttribute('aria-label')), 'Room');
    await link.click();
    await page.waitForURL(`${secret}passwd`);
    assert.equal(await page.title(), 'Secret room > Change password');

    // The room's hashed stylesheet, as on the room page; its fields look
    // like the other pages' fields.
    const sheet = await page.locator('link[rel=stylesheet]').getAttribute('href');
    assert.match(sheet, /\/secret\/chaton\.[0-9a-f]{12}\.css$/);
    const roomPage = await newPage(t, { httpCredentials: ALICE });
    await roomPage.goto(secret);
    assert.equal(await roomPage.locator('link[rel=stylesheet]').getAttribute('href'), sheet);
    const look = (p, sel) => p.locator(sel).evaluate((el) => {
      document.activeElement?.blur();
      const cs = getComputedStyle(el);
      return { border: cs.borderTopColor, radius: cs.borderTopLeftRadius, background: cs.backgroundColor };
    });
    assert.deepEqual(await look(page, '#old'), await look(roomPage, '#nick'));
    assert.deepEqual(await look(page, 'button[type=submit]'), await look(roomPage, '#send'));
    assert.equal(await page.locator('form.passwd-form').evaluate((f) => getComputedStyle(f).backgroundColor),
      await roomPage.locator('.app').evaluate((a) => getComputedStyle(a).backgroundColor));

    // Every field by its label; the rule for a new password is their description.
    for (const label of ['Current password', 'New password', 'New password again'])
      assert.equal(await page.getByLabel(label, { exact: true }).getAttribute('type'), 'password', label);
    for (const label of ['New password', 'New password again']) {
      assert.match(await page.getByLabel(label, { exact: true }).evaluate((el) =>
        document.getElementById(el.getAttribute('aria-describedby')).textContent), /^At least 8 characters/, label);
    }

    // A refusal says that nothing changed, and why, as an alert in the error colour.
    await refuseChange(page);
    const error = page.getByRole('alert');
    assert.equal(await error.textContent(),
      'Your password was not changed: the user name or the current password is wrong.');
    assert.equal(await error.evaluate((e) => getComputedStyle(e).color),
      await page.evaluate(() => {
        const probe = document.createElement('span');
        probe.style.color = 'var(--error)';
        document.body.append(probe);
        return getComputedStyle(probe).color;
      }));
    assert.equal(await page.locator('form.passwd-form').getAttribute('aria-describedby'), 'passwd-error');
    assert.deepEqual(page.problems, []);
    assert.deepEqual(roomPage.problems, []);

    // A public room has no password page to link.
    const lobby = await newPage(t);
    await lobby.goto(room);
    assert.equal(await lobby.locator('a[href$="passwd"]').count(), 0);
  });
});

// ---- in the page: colours

// Runs in the page (one function, so that page.evaluate sends it whole):
// 'fields': for each visible text field, the contrast of its edge with the
// background around it and inside it, and of its placeholder (if any) with
// the field; 'focus': each element that takes the focus from the keyboard,
// focused in turn, with the width of its outline and the outline's
// contrast with the background around it.
function inspect(what) {
  const rgba = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const v = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const lum = ([r, g, b]) => [r, g, b].map((x) => x / 255)
    .map((x) => (x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4))
    .reduce((acc, x, i) => acc + x * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
  };
  // The opaque background of an element or, where it has none, of the
  // nearest ancestor that has one; with `around`, of the nearest one whose
  // box holds that rectangle.
  const behind = (el, around = null) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      const r = e.getBoundingClientRect();
      const holds = !around || e === document.documentElement || (r.left <= around.left && r.top <= around.top
        && r.right >= around.right && r.bottom >= around.bottom);
      if (c[3] > 0 && holds) return c;
    }
    return [255, 255, 255, 1];
  };

  if (what === 'fields') {
    return [...document.querySelectorAll('input[type=text], input[type=search], input[type=password], textarea')]
      .filter((el) => el.getClientRects().length)
      .map((el) => {
        const edge = rgba(getComputedStyle(el).borderTopColor);
        const inside = behind(el);
        return {
          field: el.id,
          edge: ratio(edge, behind(el.parentElement)),
          inside: ratio(edge, inside),
          placeholder: el.placeholder ? ratio(rgba(getComputedStyle(el, '::placeholder').color), inside) : null,
        };
      });
  }
  const focusable = 'a[href], button, input, textarea, select, [tabindex]';
  return [...document.querySelectorAll(focusable)]
    .filter((el) => el.tabIndex >= 0 && !el.disabled && !el.closest('[hidden], [inert]')
      && (el.getClientRects().length || el.classList.contains('skip-link')))
    .map((el) => {
      el.focus();
      const cs = getComputedStyle(el);
      const path = [];
      for (let e = el; e && e !== document.body; e = e.parentElement) {
        const n = [...e.parentElement.children].indexOf(e) + 1;
        path.unshift(e.id ? `#${e.id}` : `${e.localName}:nth-child(${n})`);
      }
      const width = cs.outlineStyle === 'none' ? 0 : parseFloat(cs.outlineWidth);
      // The outline is drawn around the box, `outline-offset` away from it.
      const r = el.getBoundingClientRect();
      const out = width + parseFloat(cs.outlineOffset);
      const ring = { left: r.left - out, top: r.top - out, right: r.right + out, bottom: r.bottom + out };
      return {
        path: path.join(' > '),
        text: el.textContent.trim().slice(0, 40),
        focused: document.activeElement === el,
        width,
        contrast: ratio(rgba(cs.outlineColor), out > 0 ? behind(el.parentElement, ring) : behind(el)),
      };
    });
}
