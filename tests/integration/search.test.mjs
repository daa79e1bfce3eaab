// Search through the room's index, end to end (docs/PROTOCOL.md "Search",
// docs/STORAGE.md "search.idx"): the server writes data/search.idx, a post
// is found by the next search, newest first, and a damaged or stale index
// file changes nothing a client sees. Case is folded the way Unicode says
// (NFKC_Casefold, src/search/search.h), and an index written with the
// length-preserving fold of before is rebuilt.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, startServer, get, postOk, runChaton } from './lib/server.mjs';

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

describe('search folds case the way Unicode says', () => {
  test('ß and SS, Ș, Vietnamese precomposed or decomposed, fullwidth: found both ways, whole characters marked; an index of the old fold is rebuilt', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t);
    const srv = await startServer(t, { dir });
    const room = srv.roomUrl();
    const decomposed = 'tie\u0302\u0301ng vie\u0323\u0302t';
    const texts = ['Știri azi', 'știri de seară', 'TIẾNG VIỆT', 'tiếng việt', decomposed, 'Straße', 'STRASSE', 'ＡＢＣ', 'plain cafe'];
    for (const text of texts) await postOk(room, 'ana', text);
    const search = async (q) => (await get(`${room}search?q=${encodeURIComponent(q)}`)).text;
    const found = async (q) => hits(await search(q)).map((h) => texts.find((x) => h.includes(x))).sort();

    assert.deepEqual(await found('știri'), ['Știri azi', 'știri de seară'].sort());
    assert.deepEqual(await found('ȘTIRI'), ['Știri azi', 'știri de seară'].sort());
    const vietnamese = ['TIẾNG VIỆT', 'tiếng việt', decomposed].sort();
    assert.deepEqual(await found('"tiếng việt"'), vietnamese);
    assert.deepEqual(await found('"TIẾNG VIỆT"'), vietnamese);
    assert.deepEqual(await found(decomposed.toUpperCase()), vietnamese);
    assert.deepEqual(await found('ß'), ['STRASSE', 'Straße'].sort());
    assert.deepEqual(await found('SS'), ['STRASSE', 'Straße'].sort());
    assert.deepEqual(await found('abc'), ['ＡＢＣ']);
    assert.match(await search('café'), /No posts match/, 'accents count');

    // The marks cover whole original characters.
    assert.ok((await search('știri')).includes('<mark>Știri</mark> azi'));
    assert.ok((await search('ss')).includes('Stra<mark>ß</mark>e'));
    assert.ok((await search('việt')).includes('TIẾNG <mark>VIỆT</mark>'));
    assert.ok((await search('việt')).includes('tie\u0302\u0301ng <mark>vie\u0323\u0302t</mark>'));
    assert.ok((await search('abc')).includes('<mark>ＡＢＣ</mark>'));

    // An index file of version 1 (the old fold): `chaton check` says so,
    // --repair rebuilds it, and a server would rebuild it too.
    await srv.stop();
    const index = path.join(dir, 'data', 'lobby', 'data', 'search.idx');
    const bytes = fs.readFileSync(index);
    assert.equal(bytes.readUInt32LE(8), 2, 'docs/STORAGE.md "search.idx": version 2');
    bytes.writeUInt32LE(1, 8);
    let sum = 0xcbf29ce484222325n;
    for (let i = 0; i < bytes.length - 8; ++i) sum = ((sum ^ BigInt(bytes[i])) * 0x100000001b3n) & 0xffffffffffffffffn;
    bytes.writeBigUInt64LE(sum, bytes.length - 8);
    fs.writeFileSync(index, bytes);
    const config = path.join(dir, 'chaton.toml');
    const checked = await runChaton(['check', '--config', config]);
    assert.match(checked.stdout, /lobby: note: search index unreadable: .*version 1/, checked.stdout + checked.stderr);
    const repaired = await runChaton(['check', '--config', config, '--repair']);
    assert.match(repaired.stdout, /lobby: fixed: search index .* rebuilt/, repaired.stdout + repaired.stderr);
    assert.equal(fs.readFileSync(index).readUInt32LE(8), 2);
    fs.writeFileSync(index, bytes);
    const again = await startServer(t, { dir });
    assert.deepEqual(hits((await get(`${again.roomUrl()}search?q=ss`)).text).length, 2);
    assert.equal(fs.readFileSync(index).readUInt32LE(8), 2, 'the server wrote it anew');
  });
});
