// Helpers for the browser tests: Debian's Chromium driven by playwright-core,
// a real `chaton serve` on a free port with a temporary data directory and
// config (tests/integration/lib/server.mjs), and archive days written by
// hand in the storage format of docs/STORAGE.md.
//
// Chromium runs headless without a sandbox, with a fresh profile (Playwright
// makes a new temporary user-data-dir for every launch), and with its
// background networking switched off: without those flags it keeps trying
// to reach Google's services, which this machine's closed network refuses.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before } from 'node:test';

import { makeTempDir, startServer, waitFor } from '../../integration/lib/server.mjs';

export {
  startServer, makeTempDir, postOk, post, get, waitFor, sleep, withTimeout,
} from '../../integration/lib/server.mjs';

export const CHROMIUM = process.env.CHATON_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let playwright = null;
try {
  playwright = await import('playwright-core');
} catch {
  playwright = null;
}

// Why the browser tests cannot run here, or false when they can.
export const skipReason = !fs.existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (bash scripts/setup.sh installs it)`
  : !playwright
    ? 'playwright-core is not installed (bash scripts/setup.sh runs npm ci)'
    : false;
if (skipReason) console.log(`# browser tests skipped: ${skipReason}`);

export async function launchBrowser() {
  return playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_ARGS,
    timeout: 60000,
  });
}

// A fresh context (its own cookies and storage) with a page in it.
// `viewport` defaults to a desktop window. Every page error and console
// error is collected in page.problems, so a test can assert there were none.
export async function openPage(browser, { viewport = { width: 1200, height: 800 }, ...options } = {}) {
  const context = await browser.newContext({ viewport, ...options });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('dialog', (d) => {
    page.problems.push(`dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return page;
}

// The browser of a describe block, called in the block's callback: Chromium
// is launched before the block's tests and closed after them, with the
// block's server and temporary directory when its setup made them with
// fixture.startServer() and fixture.tempDir() (the directory stays with
// KEEP_TMP=1).
//
// fixture.newPage(t, options) opens a page (openPage: the options go to its
// browser context, as viewport, timezoneId, locale, colorScheme,
// permissions or httpCredentials) that is closed after test `t`;
// `preparePage(page)`, when given, readies each new page before the test
// has it. fixture.newPages(t, n, options) opens `n` such pages.
export function browserFixture({ preparePage } = {}) {
  const fixture = {
    browser: null,
    srv: null,
    dir: null,
    tempDir() {
      fixture.dir ??= makeTempDir(null, 'browser-');
      return fixture.dir;
    },
    async startServer(options = {}) {
      fixture.srv = await startServer(null, { dir: fixture.tempDir(), ...options });
      return fixture.srv;
    },
    async newPage(t, options) {
      const page = await openPage(fixture.browser, options);
      t.after(() => page.context().close());
      if (preparePage) await preparePage(page);
      return page;
    },
    async newPages(t, n, options) {
      const list = [];
      for (let i = 0; i < n; i++) list.push(await fixture.newPage(t, options));
      return list;
    },
  };
  before(async () => { fixture.browser = await launchBrowser(); });
  after(async () => {
    await fixture.browser?.close();
    await fixture.srv?.stop();
    if (fixture.dir && !process.env.KEEP_TMP) fs.rmSync(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}

// Serves `html` on its own loopback port and returns its URL with the host
// name "localhost": another site than the server's 127.0.0.1, as a page that
// embeds the badge would be. (A page faked with page.route() would not do:
// Chromium's local network access rules keep a page of unknown address from
// loading scripts from 127.0.0.1.) Closed after the test.
export async function serveHtml(t, html) {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  }));
  return `http://localhost:${server.address().port}/embed.html`;
}

// ---------------------------------------------------------------- data

const pad = (n, w = 2) => String(n).padStart(w, '0');

// A string in the line format (docs/STORAGE.md).
function lispString(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')};`;
    else out += ch;
  }
  return `${out}"`;
}

export function postLine({ nick, sec, usec = 0, text, ip = '127.0.0.1' }) {
  return `(${lispString(nick)} (${sec} ${usec}) ${lispString(text)} ${lispString(ip)})\n`;
}

// The UTC date of a unix time as { y, m, d } and as "YYYY/MM/DD".
export function utcDate(sec) {
  const t = new Date(sec * 1000);
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth() + 1;
  const d = t.getUTCDate();
  return { y, m, d, path: `${y}/${pad(m)}/${pad(d)}` };
}

// Writes DATADIR/data/YYYY/MM/DD.dat and DD.cnt for the day of the posts
// (all on one UTC day). `roomDataDir` is the room's DATADIR.
export function writeDay(roomDataDir, posts) {
  const { y, m, d } = utcDate(posts[0].sec);
  const dir = path.join(roomDataDir, 'data', String(y), pad(m));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${pad(d)}.dat`), posts.map(postLine).join(''));
  fs.writeFileSync(path.join(dir, `${pad(d)}.cnt`), String(posts.length));
}

// "entry-<sec hex>-<usec hex, 2 digits at least>", as permalinks end.
export const entryId = (sec, usec) => `entry-${sec.toString(16)}-${usec.toString(16).padStart(2, '0')}`;

// Midnight UTC of the day `daysAgo` days before today.
export function dayStart(daysAgo) {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - daysAgo) / 1000;
}

// A room's data dir under a server's temp dir (startServer puts data_dir in <dir>/data).
export const roomDataDir = (dir, slug = 'lobby') => path.join(dir, 'data', slug);

// Whether the page scrolls sideways (the document is wider than the window).
export function sidewaysOverflow(page) {
  return page.evaluate(() => {
    const el = document.scrollingElement || document.documentElement;
    return Math.max(el.scrollWidth, document.body.scrollWidth) - window.innerWidth;
  });
}

// A PNG of the given size; `paint(x, y)` gives each pixel's [r, g, b].
export async function makePng(width, height, paint) {
  const zlib = await import('node:zlib');
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;  // bit depth
  ihdr[9] = 2;  // RGB
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    for (let x = 0; x < width; x++) raw.set(paint(x, y), row + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// A PNG of one colour.
export const solidPng = (width, height, rgb = [70, 130, 200]) => makePng(width, height, () => rgb);

// Resolves once the page's status line says it is connected to the room.
export const connected = (page) => waitFor(
  async () => /^Connected \(\d+ users? chatting\)$/.test(await page.textContent('#status-line')),
  { ms: 20000, what: 'the status line says Connected' },
);

// Opens the room at `room` in `page`, waits until it is connected, and types
// `nick` (when given) as the nickname.
export async function enter(page, room, nick) {
  await page.goto(room);
  await connected(page);
  if (nick) await page.fill('#nick', nick);
}
