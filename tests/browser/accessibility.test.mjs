// Accessibility of every page in a real browser (WCAG 2.2 AA, issue 16 item
// 4): axe-core (npm, pinned in package-lock.json) runs in Chromium on the
// room page, an archive day, the archive index, search results, the badge
// page, the room index and a private room's password page, each in light and
// dark, and must report no violation. A failure lists each violation's rule,
// impact and the nodes it found, so it can be fixed from the test output.
// Also: a private room's page links its password page, which is styled as
// the other pages are.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  connected, dayStart, launchBrowser, makeTempDir, openPage, postOk, roomDataDir, skipReason, solidPng,
  startServer, utcDate, waitFor, writeDay,
} from './lib/browser.mjs';

const require = createRequire(import.meta.url);
let axePath = null;
try {
  axePath = require.resolve('axe-core/axe.min.js');
} catch {
  axePath = null;
}
let axeSource = null;
const skip = skipReason || (!axePath && 'axe-core is not installed (bash scripts/setup.sh runs npm ci)');

const T = { timeout: 120000 };
const COMET = { soft_timeout_min: 1, soft_timeout_max: 2, hard_timeout_min: 4, hard_timeout_max: 5, client_timeout: 10 };
// WCAG 2.0, 2.1 and 2.2, levels A and AA.
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

// Made by `htpasswd -nbB alice 'pässword 1'`.
const HTPASSWD = 'alice:$2y$05$4cAqpfiQeBqcu6UYchysm.46NOoU.Xn/9Dxcn541PGNsMAnVHQPF6\n';
const ALICE = { username: 'alice', password: 'pässword 1' };

// Violations in the markup of the posts themselves (render/html.cpp), which
// the post-markup work of issue 16 (items 1-4: times, permalinks, alt text,
// reading order) replaces. Each entry is a rule and a CSS selector its node
// must match; everything else must be clean. Remove this list when that
// markup lands.
const KNOWN_POST_MARKUP = [];

const day = dayStart(2);
const archivedPosts = [
  { nick: 'shiro', sec: day + 36000, usec: 1, text: 'Gauche 0.9.15 is out: https://practical-scheme.net/gauche/' },
  { nick: 'kaz', sec: day + 36100, usec: 2, text: 'a picture: https://images.example/cat.png' },
  { nick: 'mimi', sec: day + 36200, usec: 3, text: 'line one\nline two' },
];

// The violations axe finds in the page as it is now, less the known ones.
// axe is evaluated through the DevTools protocol rather than added as a
// <script>: the pages' Content-Security-Policy (script-src 'self') stays
// in force, as it is for their readers.
async function axeViolations(page) {
  axeSource ??= fs.readFileSync(axePath, 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  }, WCAG_AA);
  const out = [];
  for (const v of violations) {
    const nodes = [];
    for (const n of v.nodes) {
      const known = await Promise.all(KNOWN_POST_MARKUP.filter((k) => k.rule === v.id).map((k) =>
        page.evaluate(([sel, sub]) => [...document.querySelectorAll(sub)].some((el) => el.matches(sel)),
          [k.selector, n.target])));
      if (!known.some(Boolean)) nodes.push(n);
    }
    if (nodes.length) out.push({ ...v, nodes });
  }
  return out;
}

function describeViolations(violations) {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n` +
    v.nodes.map((n) => `    ${n.target}\n      ${n.summary.replace(/\n/g, '\n      ')}`).join('\n')).join('\n');
}

describe('accessibility (axe-core, WCAG 2.2 AA)', { skip }, () => {
  let browser;
  let srv;
  let dir;
  let room;
  let secret;
  let png;

  before(async () => {
    browser = await launchBrowser();
    png = await solidPng(400, 200);
    dir = makeTempDir(null, 'browser-');
    writeDay(roomDataDir(dir), archivedPosts);
    fs.writeFileSync(path.join(dir, 'secret.htpasswd'), HTPASSWD, { mode: 0o640 });
    srv = await startServer(null, {
      dir,
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
  after(async () => {
    await browser?.close();
    await srv?.stop();
    if (dir && !process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function newPage(t, options) {
    const page = await openPage(browser, options);
    t.after(() => page.context().close());
    await page.route('https://images.example/**', (r) => r.fulfill({ contentType: 'image/png', body: png }));
    return page;
  }

  // [name, url (from the server's rooms), ready(page), context options]
  const PAGES = [
    ['the room page', () => room, async (page) => {
      await connected(page);
      await waitFor(async () => (await page.locator('#view-pane img.inline-image').count()) === 1,
        { what: 'the posts with their image' });
    }],
    ['an archive day', () => `${room}a/${utcDate(day).path}`],
    ['the archive index', () => `${room}a/`],
    ['search results', () => `${room}search?q=picture`, async (page) => {
      assert.ok(await page.locator('.hit').count() >= 2, 'the search has hits');
    }],
    ['the badge page', () => `${room}badge.html`],
    ['the room index', () => `${srv.url}/`],
    ['the password page of a private room', () => `${secret}passwd`, null, { httpCredentials: ALICE }],
    ['a private room\'s page', () => secret, connected, { httpCredentials: ALICE }],
  ];

  for (const colorScheme of ['light', 'dark']) {
    for (const [name, url, ready, options] of PAGES) {
      test(`${name}, ${colorScheme}: no violation`, T, async (t) => {
        const page = await newPage(t, { colorScheme, ...options });
        const res = await page.goto(url());
        assert.equal(res.status(), 200);
        await page.waitForLoadState('load');
        if (ready) await ready(page);
        const violations = await axeViolations(page);
        assert.equal(violations.length, 0, `axe-core found:\n${describeViolations(violations)}`);
        assert.deepEqual(page.problems, []);
      });
    }
  }
});
