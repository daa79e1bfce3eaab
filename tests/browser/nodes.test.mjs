// The room page through nginx in front of three nodes on one PostgreSQL
// (docs/SCALING.md; tests/integration/lib/nginx.mjs runs the documented
// configuration): three people chat on pages loaded through nginx, whose
// requests (the page, its event stream, its posts) go round robin over the
// nodes, so they land on different nodes. Skipped without Chromium; nginx
// and PostgreSQL are required when CI=true.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { browserFixture, enter, skipReason } from './lib/browser.mjs';
import { shareClusterInFile } from '../integration/lib/pg.mjs';
import { accessLog, startNodesBehindNginx } from '../integration/lib/nginx.mjs';

const COMET = { soft_timeout_min: 1, soft_timeout_max: 2, hard_timeout_min: 4, hard_timeout_max: 5, client_timeout: 10 };
const T = { timeout: 120000 };

const seen = (page, text) => page.locator('#view-pane .entry-single', { hasText: text }).waitFor();

if (!skipReason) shareClusterInFile();

describe('the room page through nginx, three nodes behind', { skip: skipReason }, () => {
  const { newPages } = browserFixture();

  test('a post typed on one page reaches the pages served by the other nodes', T, async (t) => {
    const env = await startNodesBehindNginx(t, { hint: 'browser_nginx', rooms: [{ slug: 'lobby', name: 'Lobby' }], comet: COMET });
    if (!env) return;
    const { room, logs, proxy } = env;
    const pages = await newPages(t, 3);
    const [alice, bob, carol] = pages;
    await enter(alice, room, 'alice');
    await enter(bob, room, 'bob');
    await enter(carol, room, 'carol');

    try {
      await alice.fill('#text', 'Hi Bob, via nginx!');
      await alice.press('#text', 'Enter');
      await seen(bob, 'Hi Bob, via nginx!');
      await seen(carol, 'Hi Bob, via nginx!');
      await bob.fill('#text', 'Hello Alice.');
      await bob.click('#send');
      await seen(alice, 'Hello Alice.');
      await seen(carol, 'Hello Alice.');
      await carol.fill('#text', 'Carol here.');
      await carol.press('#text', 'Enter');
      await seen(alice, 'Carol here.');
      await seen(bob, 'Carol here.');
    } catch (e) {
      throw new Error(`${e.message}\n${logs()}`);
    }
    // The pages' requests went to more than one node.
    const served = new Set(accessLog(proxy).flatMap((l) => l.nodes));
    assert.ok(served.size >= 2, `requests reached ${served.size} node(s)`);
    for (const p of pages) {
      assert.deepEqual(await p.locator('#view-pane .chatter').allTextContents(), ['alice', 'bob', 'carol']);
      assert.deepEqual(p.problems, []);
    }
  });
});
