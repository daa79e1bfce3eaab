// The room page in a real browser (docs/PROTOCOL.md, "The room page",
// "Rendering", "Posting"): two people chatting live, Return and Shift+Return,
// the form while a post is in flight and after a refusal, hostile input shown
// as text, links and shrunk images, the remembered nickname, the unread count
// in the title, and a phone-sized window without sideways scrolling.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  browserFixture, connected, enter, postOk, sidewaysOverflow, skipReason, solidPng, startServer, waitFor,
} from './lib/browser.mjs';

// Quicker pings than the original's, so the chatter count settles fast;
// clients are kept 10 s, longer than the page's pause between polls.
const COMET = { soft_timeout_min: 1, soft_timeout_max: 2, hard_timeout_min: 4, hard_timeout_max: 5, client_timeout: 10 };
const T = { timeout: 120000 };
const PHONE = { width: 360, height: 740 };

const entries = (page) => page.locator('#view-pane .entry-single, #view-pane .entry-multi');

describe('the room page', { skip: skipReason }, () => {
  const { newPages: pages } = browserFixture();

  test('two people chat live, and the status line counts them', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const [alice, bob] = await pages(t, 2);
    await enter(alice, room, 'alice');
    await enter(bob, room, 'bob');

    await alice.fill('#text', 'Hi Bob!');
    await alice.press('#text', 'Enter');
    await bob.locator('#view-pane .entry-single', { hasText: 'Hi Bob!' }).waitFor();
    await waitFor(async () => (await alice.inputValue('#text')) === '', { what: 'the text is cleared' });
    await alice.locator('#view-pane .entry-single', { hasText: 'Hi Bob!' }).waitFor();

    await bob.fill('#text', 'Hello Alice, nice to see you.');
    await bob.click('#send');
    await alice.locator('#view-pane .entry-single', { hasText: 'Hello Alice, nice to see you.' }).waitFor();
    assert.deepEqual(await alice.locator('#view-pane .chatter').allTextContents(), ['alice', 'bob']);
    assert.deepEqual(await bob.locator('#view-pane .chatter').allTextContents(), ['alice', 'bob']);

    await waitFor(async () => (await alice.textContent('#status-line')) === 'Connected (2 users chatting)',
      { ms: 20000, what: 'two users chatting' });
    // The live region tells screen readers about new posts.
    assert.equal(await alice.getAttribute('#view-pane', 'role'), 'log');
    assert.equal(await alice.getAttribute('#view-pane', 'aria-live'), 'polite');
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  });

  test('Return posts, Shift+Return starts a new line; the form waits for the server and keeps refused text', T, async (t) => {
    const srv = await startServer(t, { comet: COMET, limits: { text_limit: 40 } });
    const room = srv.roomUrl();
    const [page] = await pages(t, 1);
    await enter(page, room, 'carol');

    await page.click('#text');
    await page.keyboard.type('line one');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('line two');
    assert.equal(await page.inputValue('#text'), 'line one\nline two');
    assert.equal(await entries(page).count(), 0, 'Shift+Return does not post');
    await page.keyboard.press('Enter');
    const multi = page.locator('#view-pane pre.entry-multi');
    await multi.waitFor();
    assert.equal(await multi.textContent(), 'line one\nline two');
    await waitFor(async () => (await page.inputValue('#text')) === '');

    // With "'Return' key to post" off, Return is a new line and Send posts.
    await page.uncheck('#return-to-post');
    await page.fill('#text', 'abc');
    await page.press('#text', 'End');
    await page.press('#text', 'Enter');
    assert.equal(await page.inputValue('#text'), 'abc\n');
    await page.waitForTimeout(500);
    assert.equal(await entries(page).count(), 1);
    await page.click('#send');
    await waitFor(async () => (await entries(page).count()) === 2, { what: 'the second post' });
    await page.check('#return-to-post');

    // While a post is in flight the form is disabled.
    let release;
    const gate = new Promise((r) => { release = r; });
    await page.route('**/lobby/post', async (route) => { await gate; await route.continue(); });
    await page.fill('#text', 'held back');
    await page.press('#text', 'Enter');
    await waitFor(() => page.$eval('#post-fields', (f) => f.disabled), { what: 'the form is disabled' });
    assert.equal(await page.isDisabled('#send'), true);
    assert.equal(await page.isDisabled('#text'), true);
    release();
    await waitFor(async () => !(await page.$eval('#post-fields', (f) => f.disabled)), { what: 'the form is enabled' });
    await page.locator('#view-pane .entry-single', { hasText: 'held back' }).waitFor();
    assert.equal(await page.inputValue('#text'), '');
    await page.unroute('**/lobby/post');

    // A refused post keeps the text and shows the server's reason.
    const long = 'x'.repeat(60);
    await page.fill('#text', long);
    await page.press('#text', 'Enter');
    await waitFor(async () => (await page.textContent('#post-error')).length > 0, { what: 'an error' });
    assert.match(await page.textContent('#post-error'), /^Not posted: text is longer than 40 characters/);
    assert.equal(await page.inputValue('#text'), long);
    assert.equal(await page.isDisabled('#text'), false);
    // And the next good post clears the message.
    await page.fill('#text', 'short');
    await page.press('#text', 'Enter');
    await waitFor(async () => (await page.textContent('#post-error')) === '', { what: 'the error cleared' });
    assert.deepEqual(page.problems.filter((p) => !p.includes('413')), []);
  });

  test('a hostile nickname and text are shown as text, and nothing runs', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const [writer, reader] = await pages(t, 2);
    const nick = '<script>window.__pwned = 1</script>';
    const text = '<img src=x onerror="window.__pwned = 2"> <b>bold</b> "quoted" & <iframe src=javascript:alert(3)>';
    await enter(reader, room);
    await enter(writer, room, nick);
    await writer.fill('#text', text);
    await writer.press('#text', 'Enter');
    // The page's post is in before the second is sent: the order is known.
    await waitFor(async () => (await entries(writer).count()) === 1, { what: 'the first post' });
    await postOk(room, '"><svg onload=alert(4)>', '<script>alert(5)</script>');

    for (const page of [reader, writer]) {
      await waitFor(async () => (await entries(page).count()) === 2, { what: 'both posts' });
      const chatters = await page.locator('#view-pane .chatter').allTextContents();
      assert.deepEqual(chatters, [nick, '"><svg onload=alert(4)>']);
      assert.equal(await entries(page).first().textContent(), text);
      assert.equal(await entries(page).nth(1).textContent(), '<script>alert(5)</script>');
      assert.equal(await page.locator('#view-pane img, #view-pane b, #view-pane iframe, #view-pane svg, #view-pane script').count(), 0);
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
      assert.deepEqual(page.problems, []);
    }
    // The same in the archive, rendered by the server.
    await reader.goto(`${room}a/today`);
    await reader.locator('.day-posts .entry-single').first().waitFor();
    assert.deepEqual(await reader.locator('.day-posts .chatter').allTextContents(), [nick, '"><svg onload=alert(4)>']);
    assert.equal(await reader.locator('.day-posts img, .day-posts b, .day-posts iframe, .day-posts svg').count(), 0);
    assert.equal(await reader.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(reader.problems, []);
  });

  test('a link and an image are rendered; the image is shrunk to img_size_limit', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const [page] = await pages(t, 1);
    const png = await solidPng(1000, 600);
    await page.route('https://images.example/**', (r) => r.fulfill({ contentType: 'image/png', body: png }));
    await enter(page, room, 'frank');
    await postOk(room, 'frank', 'docs at https://example.com/docs?a=1&b=2. and a picture: https://images.example/big.png');

    const a = page.locator('#view-pane a.link-default');
    await a.waitFor();
    assert.equal(await a.getAttribute('href'), 'https://example.com/docs?a=1&b=2');
    assert.equal(await a.textContent(), 'https://example.com/docs?a=1&b=2');
    assert.match(await a.getAttribute('rel'), /nofollow/);
    assert.equal(await a.getAttribute('target'), '_blank');

    const img = page.locator('#view-pane img.inline-image');
    await waitFor(() => img.evaluate((el) => el.complete && el.naturalWidth === 1000), { what: 'the image loads' });
    const box = await img.boundingBox();
    assert.ok(box.width <= 400.5 && box.width >= 399, `width ${box.width}`);
    assert.ok(Math.abs(box.height - 240) < 2, `height ${box.height} keeps the aspect ratio`);
    assert.equal(await img.evaluate((el) => el.closest('a').getAttribute('href')), 'https://images.example/big.png');
    assert.deepEqual(page.problems, []);
  });

  test('"Remember me" keeps the nickname across a reload', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const [page] = await pages(t, 1);
    await enter(page, room, 'Grace «ünïcode» 名前');
    await page.check('#remember');
    await page.reload();
    await connected(page);
    assert.equal(await page.inputValue('#nick'), 'Grace «ünïcode» 名前');
    assert.equal(await page.isChecked('#remember'), true);

    // Posting with it on keeps the nickname too; switching it off forgets it.
    await page.fill('#nick', 'grace');
    await page.fill('#text', 'hi');
    await page.press('#text', 'Enter');
    await entries(page).first().waitFor();
    await page.reload();
    await connected(page);
    assert.equal(await page.inputValue('#nick'), 'grace');
    await page.uncheck('#remember');
    await page.reload();
    await connected(page);
    assert.equal(await page.inputValue('#nick'), '');
    assert.equal(await page.isChecked('#remember'), false);
  });

  test('while the page is unfocused the title counts unread posts', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const [page] = await pages(t, 1);
    await enter(page, room, 'heidi');
    await postOk(room, 'ivan', 'seen while here');
    await entries(page).first().waitFor();
    assert.equal(await page.title(), 'Chaton Lobby');

    // The reader switches to another window.
    await page.evaluate(() => {
      Object.defineProperty(document, 'hasFocus', { configurable: true, value: () => false });
      window.dispatchEvent(new Event('blur'));
    });
    await postOk(room, 'ivan', 'are you there?');
    await waitFor(async () => (await page.title()) === '[1] Chaton Lobby', { what: '[1] in the title' });
    await postOk(room, 'ivan', 'hello?');
    await postOk(room, 'judy', 'ping');
    await waitFor(async () => (await page.title()) === '[3] Chaton Lobby', { what: '[3] in the title' });

    // Back: the count goes.
    await page.evaluate(() => {
      delete document.hasFocus;
      window.dispatchEvent(new Event('focus'));
    });
    await waitFor(async () => (await page.title()) === 'Chaton Lobby', { what: 'the plain title' });
    assert.deepEqual(page.problems, []);
  });

  test('the view follows new posts only when the reader is at the bottom', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    for (let i = 1; i <= 40; i++) await postOk(room, `n${i % 3}`, `backlog post ${i}`);
    const [page] = await pages(t, 1, { viewport: { width: 900, height: 600 } });
    await enter(page, room, 'reader');
    await waitFor(async () => (await entries(page).count()) === 40);
    const scroll = () => page.$eval('#view-pane', (v) => ({ top: v.scrollTop, max: v.scrollHeight - v.clientHeight }));
    let s = await scroll();
    assert.ok(s.max > 0 && Math.abs(s.top - s.max) < 2, `starts at the newest post: ${JSON.stringify(s)}`);

    // At the bottom: a new post scrolls into view.
    await postOk(room, 'writer', 'follow me');
    await waitFor(async () => (await entries(page).count()) === 41);
    s = await scroll();
    assert.ok(Math.abs(s.top - s.max) < 2, 'still at the bottom');
    assert.equal(await page.isVisible('#jump-latest'), false);

    // Scrolled up to read: the view stays put and offers a way down.
    await page.$eval('#view-pane', (v) => { v.scrollTop = 100; });
    await postOk(room, 'writer', 'do not move');
    await waitFor(async () => (await entries(page).count()) === 42);
    s = await scroll();
    assert.equal(s.top, 100);
    assert.equal(await page.isVisible('#jump-latest'), true);
    await page.click('#jump-latest');
    s = await scroll();
    assert.ok(Math.abs(s.top - s.max) < 2, 'the button goes to the newest post');
    assert.equal(await page.isVisible('#jump-latest'), false);
    assert.deepEqual(page.problems, []);
  });

  test('the page listens over Server-Sent Events, and comes back after the server restarts', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const [alice, bob] = await pages(t, 2);
    await enter(alice, room, 'alice');
    await enter(bob, room, 'bob');
    assert.equal(await alice.getAttribute('body', 'data-transport'), 'events');
    await alice.fill('#text', 'over the stream');
    await alice.press('#text', 'Enter');
    await bob.locator('#view-pane .entry-single', { hasText: 'over the stream' }).waitFor();

    // The server dies: the page says the connection is lost and when it retries.
    await srv.kill9();
    await waitFor(async () => /^Connection lost\. Retrying in \d+ s\.\.\.$/.test(await bob.textContent('#status-line')),
      { ms: 20000, what: 'the lost stream is shown' });
    const delay = Number((await bob.textContent('#status-line')).match(/in (\d+) s/)[1]);
    assert.ok(delay >= 5 && delay <= 15, `first retry in 5-15 s, not ${delay}`);

    // It restarts on the same port with the same data; the page resumes where it stopped.
    const again = await startServer(t, { comet: COMET, dir: srv.dir, site: { listen: `127.0.0.1:${srv.port}` } });
    await postOk(again.roomUrl(), 'carol', 'after the restart');
    await bob.evaluate(() => window.dispatchEvent(new Event('online')));
    await bob.locator('#view-pane .entry-single', { hasText: 'after the restart' }).waitFor({ timeout: 20000 });
    await connected(bob);
    assert.equal(await bob.locator('#view-pane .entry-single', { hasText: 'over the stream' }).count(), 1);
    assert.equal(await bob.getAttribute('body', 'data-transport'), 'events');
    assert.deepEqual(bob.problems.filter((p) => !/ERR_CONNECTION_REFUSED|ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_EMPTY_RESPONSE/.test(p)), []);
  });

  test('labels for every field; without event streams the page long-polls; a lost connection is retried, and a new server version reloads the page', T, async (t) => {
    const srv = await startServer(t, { comet: COMET });
    const room = srv.roomUrl();
    const [page] = await pages(t, 1);
    // A proxy that refuses event streams: the page falls back to the long-poll.
    await page.route('**/lobby/events?**', (r) => r.abort('connectionrefused'));
    await enter(page, room);
    assert.equal(await page.getAttribute('body', 'data-transport'), 'comet');
    // Keyboard and screen reader: every control has a name.
    await page.getByLabel('Nickname').fill('lena');
    await page.getByLabel('Message', { exact: true }).fill('labelled');
    assert.equal(await page.getByLabel('Remember me').isChecked(), false);
    assert.equal(await page.getByLabel("'Return' key to post").isChecked(), true);
    await page.getByRole('button', { name: 'Send' }).click();
    await entries(page).first().waitFor();
    assert.equal(await page.getByRole('log', { name: 'Messages' }).count(), 1);
    assert.equal(await page.getByRole('status').first().textContent(), await page.textContent('#status-line'));

    // The server goes away: the status line says so, with the retry delay.
    await page.route('**/lobby/comet?**', (r) => r.abort('connectionrefused'));
    await waitFor(async () => /^Connection lost\. Retrying in \d+ s\.\.\.$/.test(await page.textContent('#status-line')),
      { ms: 20000, what: 'the lost connection is shown' });
    const first = await page.textContent('#status-line');
    const delay = Number(first.match(/in (\d+) s/)[1]);
    assert.ok(delay >= 5 && delay <= 15, `first retry in 5-15 s, not ${delay}`);

    // It comes back (the browser says it is online again): connected, then a
    // reply from a newer server version makes the page reload itself.
    await page.unroute('**/lobby/comet?**');
    let upgraded = false;
    await page.route('**/lobby/comet?**', async (route) => {
      const res = await route.fetch();
      const packet = await res.json();
      if (!upgraded) {
        upgraded = true;
        packet.ver = `${packet.ver}-next`;
      }
      await route.fulfill({ response: res, body: JSON.stringify(packet) });
    });
    const reloaded = page.waitForEvent('load', { timeout: 30000 });
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await reloaded;
    await connected(page);
    assert.ok(upgraded);
    // The page's next long-poll is in the handler's route.fetch() until the
    // server stops at the end of the test: let its error go.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    assert.equal(await page.getAttribute('body', 'data-transport'), 'comet');
    assert.deepEqual(page.problems.filter((p) => !p.includes('ERR_CONNECTION_REFUSED')), []);
  });

  test('a phone-sized window never scrolls sideways', T, async (t) => {
    const srv = await startServer(t, { comet: COMET, rooms: [{ slug: 'lobby', name: 'Lobby', description: 'A room with a rather long description that has to wrap on a phone screen.' }] });
    const room = srv.roomUrl();
    const [page] = await pages(t, 1, { viewport: PHONE, isMobile: true, hasTouch: true });
    const png = await solidPng(1200, 300);
    await page.route('https://images.example/**', (r) => r.fulfill({ contentType: 'image/png', body: png }));
    await postOk(room, 'a-very-long-nickname-without-any-break-in-it', 'https://example.com/' + 'long-path-segment/'.repeat(12));
    await postOk(room, 'kate', 'Supercalifragilisticexpialidocious'.repeat(4));
    await postOk(room, 'kate', '    indented code line that is much too long for a phone: (define (f x) (g (h (i (j x)))))\nsecond');
    await postOk(room, 'kate', 'wide image https://images.example/wide.png');
    await enter(page, room, 'mobile');
    await waitFor(async () => (await entries(page).count()) === 4);
    await page.waitForTimeout(300);
    assert.ok(await sidewaysOverflow(page) <= 0, `room page overflows by ${await sidewaysOverflow(page)} px`);
    // The form fits: the send button is on screen.
    const send = await page.locator('#send').boundingBox();
    assert.ok(send.x >= 0 && send.x + send.width <= PHONE.width && send.y + send.height <= PHONE.height, JSON.stringify(send));

    for (const url of [`${room}a/today`, `${room}a/`, `${room}search?q=kate`, `${room}badge.html`, `${srv.url}/`, `${room}a/2000/13/01`]) {
      await page.goto(url);
      assert.ok(await sidewaysOverflow(page) <= 0, `${url} overflows by ${await sidewaysOverflow(page)} px`);
    }
    assert.deepEqual(page.problems.filter((p) => !p.includes('404')), []);
  });
});
