// Takes the README's screenshots after a few posts: the room in light and
// dark mode and on a phone (360x740), an archive day and search results
// (1200x800 otherwise), in a fixed time zone and locale so that the local
// times they show do not depend on the machine. Run from the repository
// root after a build:
//
//   node tests/browser/lib/screenshots.mjs [OUT_DIR] [--all]
//
// OUT_DIR defaults to docs/. With --all it also takes phone-sized and
// dark-mode shots of every other page, for checking the design by eye.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  dayStart, launchBrowser, makePng, openPage, postOk, roomDataDir, skipReason, startServer,
  waitFor, writeDay,
} from './browser.mjs';

const args = process.argv.slice(2);
const all = args.includes('--all');
const out = path.resolve(args.find((a) => !a.startsWith('--')) ?? 'docs');
if (skipReason) {
  console.error(`cannot take screenshots: ${skipReason}`);
  process.exit(1);
}
fs.mkdirSync(out, { recursive: true });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaton-shots-'));
const yesterday = dayStart(1);
const conversation = [
  ['shiro', 9 * 3600 + 2, 'Good morning! Gauche 0.9.15 is out: https://practical-scheme.net/gauche/'],
  ['shiro', 9 * 3600 + 40, 'Release notes are on the site; the big one is the new string cursor API.'],
  ['kaz', 9 * 3600 + 300, 'Congratulations! Building it now.'],
  ['mimi', 9 * 3600 + 920, 'Does it still build on the Raspberry Pi?'],
  ['kaz', 9 * 3600 + 1010, '(use gauche.process)\n(run-process \'(make -j4) :wait #t)\nworks fine here on a Pi 4.'],
  ['mimi', 9 * 3600 + 1100, 'Thanks, trying that.'],
  ['shiro', 11 * 3600 + 5, 'Reminder: the archive of today is at a/today, and search covers every day.'],
];
writeDay(roomDataDir(dir), conversation.map(([nick, s, text], i) => ({ nick, sec: yesterday + s, usec: i * 1000, text })));
writeDay(roomDataDir(dir), [{ nick: 'kaz', sec: dayStart(3) + 50000, text: 'Anyone around?' },
  { nick: 'shiro', sec: dayStart(3) + 50100, text: 'Yes!' }]);
writeDay(roomDataDir(dir), Array.from({ length: 12 }, (_, i) => ({
  nick: i % 2 ? 'mimi' : 'kaz', sec: dayStart(6) + 40000 + i * 300, text: `Post number ${i + 1} of that day.`,
})));

const srv = await startServer(null, {
  dir,
  rooms: [{ slug: 'lobby', name: 'Lobby', description: 'The Gauche community room. Say hello!' }],
});
const room = srv.roomUrl();
const browser = await launchBrowser();
try {
  for (const [nick, text] of [
    ['shiro', 'Welcome to the new Chaton server.'],
    ['kaz', 'Live updates feel instant now.'],
    ['kaz', 'And the page works on my phone too.'],
    ['mimi', 'Photo from the meetup: https://images.example/meetup.png'],
    ['kaz', 'Nice! Multi-line posts keep their shape:\n  (define (greet name)\n    (format #t "Hello, ~a!~%" name))'],
    ['shiro', 'Hi visitor! Archives, search, RSS and the badge are linked at the top.'],
  ]) {
    await postOk(room, nick, text);
    await new Promise((r) => setTimeout(r, 1100));
  }

  // A sunset of sorts: a sky gradient, a sun, and hills.
  const png = await makePng(640, 360, (x, y) => {
    const sun = (x - 420) ** 2 + (y - 190) ** 2 < 60 ** 2;
    const hill = y > 250 + 30 * Math.sin(x / 70) || y > 290 + 20 * Math.cos(x / 45 + 1);
    if (hill) return [40 + y / 8, 90 + y / 10, 70];
    if (sun) return [255, 214, 120];
    const t = y / 360;
    return [Math.round(60 + 190 * t), Math.round(90 + 60 * t), Math.round(190 - 60 * t)];
  });
  const shoot = async (url, file, { viewport = { width: 1200, height: 800 }, colorScheme = 'light', prepare } = {}) => {
    const page = await openPage(browser, { viewport, colorScheme, timezoneId: 'Asia/Tokyo', locale: 'en-GB' });
    await page.route('https://images.example/**', (r) => r.fulfill({ contentType: 'image/png', body: png }));
    await page.goto(url);
    if (prepare) await prepare(page);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(out, file) });
    if (page.problems.length) console.error(`${file}: ${page.problems.join('; ')}`);
    await page.context().close();
    console.log(`wrote ${path.join(out, file)}`);
  };
  const roomReady = async (page) => {
    await page.fill('#nick', 'visitor');
    await waitFor(() => page.locator('#view-pane .entry-single, #view-pane .entry-multi').count().then((n) => n >= 5));
    await waitFor(() => page.textContent('#status-line').then((s) => s.startsWith('Connected')));
    await page.fill('#text', 'Hello everyone!');
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    await page.evaluate(() => { const v = document.getElementById('view-pane'); v.scrollTop = v.scrollHeight; });
  };
  const yesterdayPath = new Date(yesterday * 1000).toISOString().slice(0, 10).replaceAll('-', '/');
  const permalink = `${room}a/${yesterdayPath}#entry-${(yesterday + 9 * 3600 + 920).toString(16)}-${(3000).toString(16)}`;

  const phone = { width: 360, height: 740 };
  await shoot(room, 'screenshot-room.png', { prepare: roomReady });
  await shoot(room, 'screenshot-room-dark.png', { colorScheme: 'dark', prepare: roomReady });
  await shoot(room, 'screenshot-phone.png', { viewport: phone, prepare: roomReady });
  await shoot(permalink, 'screenshot-archive.png');
  await shoot(`${room}search?q=gauche`, 'screenshot-search.png');
  if (all) {
    await shoot(permalink, 'phone-archive.png', { viewport: phone });
    await shoot(permalink, 'dark-archive.png', { colorScheme: 'dark' });
    await shoot(`${room}a/`, 'months.png');
    await shoot(`${room}a/1999/01/01`, 'empty-day.png');
    await shoot(`${room}a/2024/13/01`, 'not-found.png');
    await shoot(`${room}search?q=gauche`, 'phone-search.png', { viewport: phone });
    await shoot(`${room}badge.html`, 'badge.png');
    await shoot(`${room}badge.html`, 'phone-badge.png', { viewport: phone });
    await shoot(`${room}badge.svg`, 'badge-svg.png', { viewport: { width: 400, height: 60 } });
    await shoot(`${srv.url}/`, 'index.png');
    await shoot(`${srv.url}/`, 'phone-index.png', { viewport: phone, colorScheme: 'dark' });
  }
} finally {
  await browser.close();
  await srv.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
