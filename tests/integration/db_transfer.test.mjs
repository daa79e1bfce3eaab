// Moving a room in and out of PostgreSQL with the real binary
// (docs/SCALING.md, "Moving a room in and out"; docs/CONFIG.md, "The
// command line"): a file-store room archived by `chaton archive`, copied in
// by `chaton db import`, written back by `chaton db export`, gives the same
// files byte for byte; the refusals exit 2 and touch nothing; `chaton
// archive` on a PostgreSQL room writes the export into its data directory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, runChaton } from './lib/server.mjs';
import { startPg } from './lib/pg.mjs';

const DAY = 86400;
const pad = (n) => String(n).padStart(2, '0');
const todaySec = () => Math.floor(Date.now() / 1000 / DAY) * DAY;
const line = (nick, sec, usec, text, ip) =>
  `(${[JSON.stringify(nick), `(${sec} ${usec})`, JSON.stringify(text), ...(ip ? [JSON.stringify(ip)] : [])].join(' ')})`;

// The posts of one day: Japanese, quotes and backslashes, with and without
// an address.
function dayLines(daySec, n, tag) {
  return Array.from({ length: n }, (_, i) =>
    line(i % 2 ? 'しろ' : 'kuro', daySec + 3600 + i * 60, i * 10, `${tag} ${i} 日本語 "q" back\\slash`,
      i % 3 ? `192.0.2.${i}` : undefined));
}

// Every file under DIR/data but current.base (it names an inode) and the
// archiver's current.dat.bak: content, or a link's target.
function files(dir) {
  const out = {};
  const walk = (d) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const key = path.relative(path.join(dir, 'data'), p);
      const st = fs.lstatSync(p);
      if (key === 'current.base' || key === 'current.dat.bak') continue;
      if (st.isSymbolicLink()) out[key] = `-> ${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) walk(p);
      else out[key] = fs.readFileSync(p, 'latin1');
    }
  };
  walk(path.join(dir, 'data'));
  return out;
}

function config(file, { url, dataDir }) {
  let text = `[site]\nlisten = "127.0.0.1:0"\n\n`;
  if (url) text += `[store]\nurl = ${JSON.stringify(url)}\n\n`;
  text += `[[room]]\nslug = "lobby"\ndata_dir = ${JSON.stringify(dataDir)}\n`;
  fs.writeFileSync(file, text);
  return file;
}

test('db import and db export give the same files back; refusals exit 2; archive exports a PostgreSQL room',
  { timeout: 120000 }, async (t) => {
    const pg = await startPg(t);
    if (!pg) return;
    const url = await pg.freshDatabase('transfer');
    const tmp = makeTempDir(t, 'transfer-');
    const room = path.join(tmp, 'room');
    const copy = path.join(tmp, 'copy');
    fs.mkdirSync(path.join(room, 'data'), { recursive: true });
    const today = todaySec();
    // The room as the daily archiver leaves it: the days before today
    // archived (a quiet day as an empty file), then today's posts.
    const past = [...dayLines(today - 4 * DAY, 30, 'a'), ...dayLines(today - 2 * DAY, 20, 'b')];
    fs.writeFileSync(path.join(room, 'data', 'current.dat'), past.map((l) => `${l}\n`).join(''));
    fs.writeFileSync(path.join(room, 'data', 'sequence'), '67');
    const fileConf = config(path.join(tmp, 'files.toml'), { dataDir: room });
    const pgConf = config(path.join(tmp, 'pg.toml'), { url, dataDir: room });
    const archived = await runChaton(['archive', '--config', fileConf]);
    assert.equal(archived.code, 0, archived.stderr);
    fs.appendFileSync(path.join(room, 'data', 'current.dat'), dayLines(today, 3, 't').map((l) => `${l}\n`).join(''));
    fs.writeFileSync(path.join(room, 'data', 'sequence'), '70');
    fs.writeFileSync(path.join(room, 'data', 'last-post'), String(today + 3600 + 2 * 60));
    const before = files(room);
    const d = new Date((today - 3 * DAY) * 1000);
    assert.equal(before[`${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}.dat`], '');

    const init = await runChaton(['db', 'init', '--config', pgConf]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /schema version \d+/);
    const imported = await runChaton(['db', 'import', '--config', pgConf, '--room', 'lobby']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /imported 53 posts .*sequence 70/);

    const exported = await runChaton(['db', 'export', '--config', pgConf, '--room', 'lobby', '--to', copy]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(files(copy), before);

    // Refused, nothing touched: a second import, an export over posts.
    const again = await runChaton(['db', 'import', '--config', pgConf, '--room', 'lobby']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already has 53 posts/);
    const over = await runChaton(['db', 'export', '--config', pgConf, '--room', 'lobby', '--to', room]);
    assert.equal(over.code, 2);
    assert.match(over.stderr, /--force/);
    assert.deepEqual(files(room), before);
    const forced = await runChaton(['db', 'export', '--config', pgConf, '--room', 'lobby', '--to', copy, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /0 written/);

    // No [store] url: nothing to do with a database.
    const noStore = await runChaton(['db', 'import', '--config', fileConf, '--room', 'lobby']);
    assert.equal(noStore.code, 2);
    assert.match(noStore.stderr, /no \[store\] url/);

    // `chaton archive` on the PostgreSQL room: the export, into its data
    // directory (an earlier copy of the room, so it may be replaced).
    const pgArchive = await runChaton(['archive', '--config', pgConf]);
    assert.equal(pgArchive.code, 0, pgArchive.stderr);
    assert.match(pgArchive.stdout, /lobby: exported 4 days/);
    assert.deepEqual(files(room), before);
    assert.match(fs.readFileSync(path.join(room, 'logs', 'archive.log'), 'utf8'), /exported 4 days/);
  });
