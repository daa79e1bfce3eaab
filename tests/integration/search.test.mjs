// Search through the room's index, end to end (docs/PROTOCOL.md "Search",
// docs/STORAGE.md "search.idx"): the server writes data/search.idx, a post
// is found by the next search, newest first, and a damaged or stale index
// file changes nothing a client sees.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, startServer, get, postOk } from './lib/server.mjs';

const line = (nick, sec, usec, text) => `(${JSON.stringify(nick)} (${sec} ${usec}) ${JSON.stringify(text)} "192.0.2.9")\n`;

// The texts of a results page, in order.
function hits(html) {
  return [...html.matchAll(/<li class="hit">([^]*?)<\/li>/g)].map((m) => m[1].replace(/<[^>]*>/g, ''));
}

describe('search through the index', () => {
  test('finds archived and new posts, newest first; the index file is kept, and a damaged one is rebuilt', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t);
    const data = path.join(dir, 'data', 'lobby', 'data');
    fs.mkdirSync(path.join(data, '2024', '11'), { recursive: true });
    const sec = Date.UTC(2024, 10, 20) / 1000;
    fs.writeFileSync(path.join(data, '2024', '11', '20.dat'),
      line('old', sec + 60, 1, 'an old Needle in the hay') + line('old', sec + 120, 2, 'just hay') +
      line('Needleman', sec + 180, 3, 'found by my nickname'));
    fs.writeFileSync(path.join(data, '2024', '11', '20.cnt'), '3');
    fs.writeFileSync(path.join(data, '2024', '11', '21.dat'), line('hay', sec + 86400, 1, 'only hay here'));
    fs.writeFileSync(path.join(data, '2024', '11', '21.cnt'), '1');
    fs.writeFileSync(path.join(data, 'sequence'), '4');
    const srv = await startServer(t, { dir });
    const room = srv.roomUrl();
    const index = path.join(data, 'search.idx');

    const first = await get(`${room}search?q=needle`);
    assert.equal(first.status, 200);
    assert.deepEqual(hits(first.text).map((h) => /found by my nickname|an old Needle/.exec(h)?.[0]),
      ['found by my nickname', 'an old Needle']);
    assert.ok(fs.existsSync(index), 'the first search wrote the index');

    await postOk(room, 'alice', 'a fresh NEEDLE, just posted');
    const second = await get(`${room}search?q=needle`);
    assert.equal(hits(second.text).length, 3);
    assert.match(hits(second.text)[0], /a fresh NEEDLE, just posted/, 'the new post first');
    assert.equal(hits((await get(`${room}search?q=${encodeURIComponent('"fresh needle"')}`)).text).length, 1);
    assert.match((await get(`${room}search?q=haystack`)).text, /No posts match/);

    // A damaged index file, found by a server starting: the same answers,
    // and the file is written anew.
    await srv.stop();
    const bytes = fs.readFileSync(index);
    bytes[bytes.length >> 1] ^= 0x40;
    fs.writeFileSync(index, bytes);
    const again = await startServer(t, { dir });
    const damaged = await get(`${again.roomUrl()}search?q=needle`);
    assert.deepEqual(hits(damaged.text), hits(second.text));
    assert.ok(!fs.readFileSync(index).equals(bytes), 'the index written anew');

    // A day file changed by hand since it was indexed (same size, as a
    // careless edit might leave it): the next search reads it again.
    const day = path.join(data, '2024', '11', '21.dat');
    fs.writeFileSync(day, fs.readFileSync(day, 'utf8').replace('only hay', 'a neEdle'));
    const edited = await get(`${again.roomUrl()}search?q=needle`);
    assert.equal(hits(edited.text).length, 4);
    assert.match(hits(edited.text)[1], /a neEdle here/);
  });
});
