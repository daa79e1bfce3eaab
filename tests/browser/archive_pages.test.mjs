// A long archive day in pages, in a real browser (docs/PROTOCOL.md,
// "Archive days in pages"): a permalink to a post on a later page lands on
// the page that holds it, scrolled to the post; the page links lead
// through the day. The day is written by hand in the storage format.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  browserFixture, dayStart, entryId, roomDataDir, skipReason, utcDate, writeDay,
} from './lib/browser.mjs';

const T = { timeout: 120000 };
const day = dayStart(2);
// 2500 posts, 20 s apart: three pages of at most 1000.
const posts = Array.from({ length: 2500 }, (_, i) => ({
  nick: i % 2 ? 'kaz' : 'shiro',
  sec: day + i * 20,
  usec: i % 100,
  text: `post number ${i}`,
}));

describe('an archive day in pages', { skip: skipReason }, () => {
  const fixture = browserFixture();
  let srv;

  before(async () => {
    writeDay(roomDataDir(fixture.tempDir()), posts);
    srv = await fixture.startServer();
  });

  test('a permalink to a post on a later page lands on that page, at the post', T, async (t) => {
    const page = await fixture.newPage(t);
    const p = posts[2222];
    const id = entryId(p.sec, p.usec);
    const dayUrl = `${srv.roomUrl()}a/${utcDate(day).path}`;
    await page.goto(`${dayUrl}#${id}`);
    await page.waitForURL(`${dayUrl}?page=3#${id}`);
    await page.locator(`#${id}`).waitFor();
    const s = await page.evaluate((eid) => {
      const el = document.getElementById(eid);
      const r = el.getBoundingClientRect();
      return { target: el.matches(':target'), inView: r.top >= 0 && r.bottom <= window.innerHeight };
    }, id);
    assert.deepEqual(s, { target: true, inView: true });
    assert.equal(await page.textContent(`#${id}`), 'post number 2222');

    // A post of the first page stays there; the page links go through the day.
    const first = entryId(posts[10].sec, posts[10].usec);
    await page.goto(`${dayUrl}#${first}`);
    await page.locator(`#${first}`).waitFor();
    assert.equal(page.url(), `${dayUrl}#${first}`);
    await page.click('nav.day-pages >> nth=0 >> a >> nth=0');  // to page 2
    await page.waitForURL(`${dayUrl}?page=2`);
    assert.equal(await page.locator('.day-posts [id^="entry-"]').count(), 1000);
    assert.deepEqual(page.problems, []);
  });
});
