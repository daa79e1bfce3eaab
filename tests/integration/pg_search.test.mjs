// Search in a room kept in PostgreSQL, end to end (docs/PROTOCOL.md
// "Search"; postgres/pg_search.h): the server searches through the
// database's index, finds new posts at once, newest first, folds case the
// way Unicode says, finds Japanese terms of any length, and takes %, _ and
// \ literally.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, startServer, get, postOk, writeConfig } from './lib/server.mjs';
import { startPg } from './lib/pg.mjs';

// The texts of a results page, in order.
function hits(html) {
  return [...html.matchAll(/<li class="hit">([^]*?)<\/li>/g)].map((m) => m[1].replace(/<[^>]*>/g, ''));
}

test('a PostgreSQL room is searched through the database, with the scan\'s results', { timeout: 90000 }, async (t) => {
  const pg = await startPg(t);
  if (!pg) return;
  const url = await pg.freshDatabase('search');
  const dir = makeTempDir(t, 'pgsearch-');
  const rooms = [{ slug: 'lobby', name: 'Lobby' }];
  const config = writeConfig(path.join(dir, 'chaton.toml'), {
    site: { listen: '127.0.0.1:0', data_dir: path.join(dir, 'data') },
    store: { url },
    rooms,
  });
  const srv = await startServer(t, { dir, config, rooms, listen: '127.0.0.1:0' });
  const room = `${srv.url}/lobby/`;
  const search = async (q) => hits((await get(`${room}search?q=${encodeURIComponent(q)}`)).text);

  await postOk(room, 'Alice', 'Hello ÉCOLE');
  await postOk(room, 'たろう', '東京都に住んでいます');
  await postOk(room, 'bob', 'sale: 100% off, path c:\\dir');
  await postOk(room, 'carol', '100 percent, path c:dir');
  assert.equal((await search('hello')).length, 1);
  const ecole = await search('école');
  assert.equal(ecole.length, 1);
  assert.match(ecole[0], /Hello ÉCOLE/);
  assert.equal((await search('東京')).length, 1, 'two characters: no trigram, still found');
  assert.equal((await search('東京都')).length, 1);
  assert.equal((await search('たろう')).length, 1, 'found by the nickname');
  assert.equal((await search('100%')).length, 1);
  assert.equal((await search('c:\\dir')).length, 1);
  assert.equal((await search('path')).length, 2);

  // Case folded the way Unicode says (NFKC_Casefold), through the database too.
  await postOk(room, 'Ștefan', 'Știri: Straße, TIẾNG VIỆT, ＡＢＣ');
  for (const q of ['știri', 'ȘTEFAN', 'STRASSE', 'ß', '"tiếng việt"', 'tie\u0302\u0301ng', 'abc']) {
    const found = await search(q);
    assert.equal(found.length, 1, q);
    assert.match(found[0], /Straße/, q);
  }
  assert.equal((await search('strase')).length, 0);

  // A new post is found by the next search, first.
  await postOk(room, 'dave', 'one more path');
  const paths = await search('path');
  assert.equal(paths.length, 3);
  assert.match(paths[0], /one more path/);

  // Through the database: no file index, no fallback to a scan.
  assert.ok(!fs.existsSync(path.join(dir, 'data', 'lobby', 'data', 'search.idx')));
  const log = srv.output().stdout + srv.output().stderr;
  assert.doesNotMatch(log, /search index of room/);
  assert.doesNotMatch(log, /search: the database failed/);
});
