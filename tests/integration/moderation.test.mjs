// `chaton moderate` run as an operator would, beside a running server
// (docs/MODERATION.md): one entry removed from the live log while a
// long-poll client waits (it gets a refresh packet, RSS, the comet backlog
// and the day's archive page lose the post, posting goes on with
// consistent positions, a reader from before the removal refreshes even
// at a position that still exists); every post of an address range removed
// from the live log and from days archived by `chaton archive`, with and
// without --since, IPv4 and IPv6; and bad arguments that exit 2 and touch
// nothing.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  CHATON_BIN, runChaton, entryId, get, makeTempDir, post, postOk, readLogLine, startServer, waitFor, withTimeout,
} from './lib/server.mjs';

const T = { timeout: 120000 };
// Long-polls that stay waiting unless something happens.
const SLOW_COMET = { soft_timeout_min: 20, soft_timeout_max: 25, hard_timeout_min: 60, hard_timeout_max: 70, client_timeout: 30 };
const SPAM_V4 = '198.51.100.9';
const SPAM_V6 = '2001:db8::7';
const OTHER = '203.0.113.5';
const GOOD = '192.0.2.10';

const chaton = (args) => runChaton(args);

// One web-format long-poll request (what the browser sends).
async function comet(room, cid, pos, timeout = 10000) {
  const r = await get(`${room}comet?t=${Date.now()}&c=${cid ?? ''}&p=${pos}`, { timeout });
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text);
}

// Resolves to 'pending' when `promise` has not settled within `ms`.
async function settledWithin(promise, ms) {
  const pending = Symbol('pending');
  const r = await Promise.race([promise.then(() => 'settled', () => 'settled'), new Promise((res) => setTimeout(() => res(pending), ms))]);
  return r === pending ? 'pending' : r;
}

const pad = (n) => String(n).padStart(2, '0');
function datePath(sec) {
  const d = new Date(sec * 1000);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}
const secOf = (day, hour = 0) => Date.UTC(...day.split('/').map((x, i) => Number(x) - (i === 1 ? 1 : 0))) / 1000 + hour * 3600;
const line = (sec, usec, text, ip) => `(${JSON.stringify('alice')} (${sec} ${usec}) ${JSON.stringify(text)} ${JSON.stringify(ip)})`;
const textsIn = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(readLogLine).filter(Boolean).map((p) => p.text);

function writeConfig(file, dataDir) {
  fs.writeFileSync(file, `[site]\nlisten = "127.0.0.1:0"\ndata_dir = ${JSON.stringify(dataDir)}\n\n[[room]]\nslug = "lobby"\nname = "Lobby"\n`);
  return file;
}

describe('chaton moderate', () => {
  test('--entry beside a running server: the waiting reader refreshes, the post is gone everywhere, posting goes on', T, async (t) => {
    const srv = await startServer(t, { comet: SLOW_COMET });
    const room = srv.roomUrl();
    const config = path.join(srv.dir, 'chaton.toml');

    await postOk(room, 'alice', 'keep one');
    const victim = await postOk(room, 'mallory', 'remove me please');
    await postOk(room, 'bob', 'keep two');

    // A reader that has everything and waits, and one between requests.
    const first = await comet(room, null, 0);
    assert.equal(first.pos, 3);
    assert.match(first.content, /remove me please/);
    const waitingCid = first.cid;
    const idle = await comet(room, null, 0);
    const waiting = comet(room, waitingCid, 3, 20000);
    assert.equal(await settledWithin(waiting, 300), 'pending', 'nothing new: the request waits');

    const r = await chaton(['moderate', '--config', config, '--room', 'lobby', '--entry', victim.id]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^lobby: removed 1 post \(1 live, 0 archived in 0 days\)$/m);
    assert.match(r.stdout, /sequence 3 -> 2/);

    const refreshed = await withTimeout(waiting, 5000, 'the refresh packet');
    assert.equal(refreshed.refresh, true);
    assert.equal(refreshed.pos, 2);
    assert.equal(refreshed.cid, waitingCid);
    assert.match(refreshed.content, /keep one/);
    assert.match(refreshed.content, /keep two/);
    assert.doesNotMatch(refreshed.content, /remove me/);

    // The other reader's pos (2) still exists, but its view is stale.
    const idleReply = await comet(room, idle.cid, 2);
    assert.equal(idleReply.refresh, true);
    assert.doesNotMatch(idleReply.content, /remove me/);

    assert.equal((await get(room + 'var/seq')).text.trim(), '2');
    const rss = await get(room + 'var/index.rdf');
    assert.doesNotMatch(rss.text, /remove me/);
    assert.match(rss.text, /keep two/);
    const backlog = await comet(room, null, 0);
    assert.doesNotMatch(backlog.content, /remove me/);
    const day = datePath(Math.floor(Date.now() / 1000));
    const dayPage = await get(room + 'a/' + day);
    assert.equal(dayPage.status, 200);
    assert.doesNotMatch(dayPage.text, /remove me/);
    assert.ok(!dayPage.text.includes(victim.id), 'no anchor left for the removed post');
    assert.match(dayPage.text, /keep one/);
    const roomPage = await get(room);
    assert.doesNotMatch(roomPage.text, /remove me/);

    // Posting goes on from the new count; the reader that refreshed gets it.
    const next = comet(room, waitingCid, 2);
    const after = await postOk(room, 'alice', 'after moderation');
    assert.equal(after.pos, 3);
    const got = await withTimeout(next, 5000, 'the next post');
    assert.equal(got.pos, 3);
    assert.notEqual(got.refresh, true);
    assert.match(got.content, /after moderation/);
    const data = path.join(srv.dir, 'data', 'lobby', 'data');
    assert.deepEqual(textsIn(path.join(data, 'current.dat')), ['keep one', 'keep two', 'after moderation']);
    assert.equal(fs.readFileSync(path.join(data, 'sequence'), 'utf8'), '3');
    assert.match(fs.readFileSync(path.join(srv.dir, 'data', 'lobby', 'logs', 'moderation.log'), 'utf8'),
      /chaton moderate --entry entry-[0-9a-f]+-[0-9a-f]+: removed 1 post/);

    // The same entry again: nothing matches, exit 1, nothing changes.
    const again = await chaton(['moderate', '--config', config, '--room', 'lobby', '--entry', victim.permalink]);
    assert.equal(again.code, 1, again.stdout + again.stderr);
    assert.match(again.stdout, /no post matches --entry .*; nothing was changed/);

    await srv.stop();
    assert.doesNotMatch(srv.output().stderr, /cannot reload/);
  });

  test('--address across archived days and the live log, with and without --since', T, async (t) => {
    const dir = makeTempDir(t, 'moderate-');
    const data = path.join(dir, 'data', 'lobby', 'data');
    fs.mkdirSync(data, { recursive: true });
    // Two past days, 40 posts each; every fifth from the spammer, two
    // posts from OTHER each day, one from an IPv6 spammer on the second.
    const days = ['2024/11/20', '2024/11/21'];
    const lines = [];
    for (const [d, day] of days.entries()) {
      for (let i = 0; i < 40; i++) {
        const ip = i % 5 === 0 ? SPAM_V4 : i === 7 || i === 33 ? OTHER : d === 1 && i === 12 ? SPAM_V6 : GOOD;
        lines.push(line(secOf(day, 1) + i * 600, i, `${day} #${i} from ${ip}`, ip));
      }
    }
    fs.writeFileSync(path.join(data, 'current.dat'), lines.join('\n') + '\n');
    fs.writeFileSync(path.join(data, 'sequence'), '80');
    const pre = writeConfig(path.join(dir, 'pre.toml'), path.join(dir, 'data'));
    const archived = await chaton(['archive', '--config', pre]);
    assert.equal(archived.code, 0, archived.stderr);
    assert.equal(textsIn(path.join(data, '2024/11/20.dat')).length, 40);
    assert.equal(textsIn(path.join(data, 'current.dat')).length, 31, 'the last 31 stay live (and archived)');

    const srv = await startServer(t, { dir, comet: SLOW_COMET, site: { trusted_proxies: ['127.0.0.1'] }, limits: { post_burst: 100 } });
    const room = srv.roomUrl();
    const config = path.join(dir, 'chaton.toml');
    const from = (ip) => ({ headers: { 'x-forwarded-for': ip } });
    await postOk(room, 'spam', 'live spam v4', from(SPAM_V4));
    await postOk(room, 'carol', 'live good', from(GOOD));
    await postOk(room, 'spam', 'live spam v6', from(SPAM_V6));
    const tail = await postOk(room, 'dave', 'live other', from(OTHER));
    assert.equal(tail.pos, 84);
    const stored = fs.readFileSync(path.join(data, 'current.dat'), 'utf8');
    assert.match(stored, /"live spam v4" "198\.51\.100\.9"\)/, 'the forwarded address is recorded');

    // --since: only OTHER's posts from Nov 21 on; Nov 20's day file stays as it is.
    const nov20Before = fs.readFileSync(path.join(data, '2024/11/20.dat'));
    const ino20 = fs.statSync(path.join(data, '2024/11/20.dat')).ino;
    const since = await chaton(['moderate', '--config', config, '--room', 'lobby', '--address', '203.0.113.0/24', '--since', '2024-11-21']);
    assert.equal(since.code, 0, since.stdout + since.stderr);
    // Nov 21 #7 is only archived; #33 is archived and live; and the live post.
    assert.match(since.stdout, /^lobby: removed 3 posts \(2 live, 2 archived in 1 day\)$/m);
    assert.match(since.stdout, /^ {2}2024\/11\/21: 2 posts$/m);
    assert.deepEqual(fs.readFileSync(path.join(data, '2024/11/20.dat')), nov20Before);
    assert.equal(fs.statSync(path.join(data, '2024/11/20.dat')).ino, ino20);
    assert.equal(textsIn(path.join(data, '2024/11/21.dat')).filter((x) => x.includes(OTHER)).length, 0);
    assert.equal(fs.readFileSync(path.join(data, '2024/11/21.cnt'), 'utf8'), '38');

    // A reader waiting at the end sees the next removal as a refresh.
    const seqNow = Number((await waitFor(async () => {
      const s = (await get(room + 'var/seq')).text.trim();
      return s === '82' && s;
    }, { what: 'the server reloading after --since' })));
    const first = await comet(room, null, 0);
    assert.equal(first.pos, seqNow);
    const waiting = comet(room, first.cid, first.pos, 20000);
    assert.equal(await settledWithin(waiting, 300), 'pending');

    const v4 = await chaton(['moderate', '--config', config, '--room', 'lobby', '--address', '198.51.100.0/24']);
    assert.equal(v4.code, 0, v4.stdout + v4.stderr);
    // 8 per day; of Nov 21's, #10..#35 are also live (6), plus the live post.
    assert.match(v4.stdout, /^lobby: removed 17 posts \(7 live, 16 archived in 2 days\)$/m);
    const refreshed = await withTimeout(waiting, 5000, 'the refresh packet');
    assert.equal(refreshed.refresh, true);
    assert.equal(refreshed.pos, seqNow - 7);
    assert.doesNotMatch(refreshed.content, /spam v4|198\.51\.100\.9/);
    assert.match(refreshed.content, /live spam v6/);

    const v6 = await chaton(['moderate', '--config', config, '--room', 'lobby', '--address', '2001:db8::/32']);
    assert.equal(v6.code, 0, v6.stdout + v6.stderr);
    // Nov 21 #12 is archived and live, and the live post.
    assert.match(v6.stdout, /^lobby: removed 2 posts \(2 live, 1 archived in 1 day\)$/m);

    for (const day of days) {
      const texts = textsIn(path.join(data, `${day}.dat`));
      assert.equal(texts.filter((x) => x.includes(SPAM_V4) || x.includes(SPAM_V6)).length, 0, day);
      assert.equal(fs.readFileSync(path.join(data, `${day}.cnt`), 'utf8'), String(texts.length), day);
      const page = await get(room + 'a/' + day);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.text, /198\.51\.100\.9|2001:db8::7/, day);
      assert.match(page.text, new RegExp(`${day} #1 from`), day);
    }

    await waitFor(async () => (await get(room + 'var/seq')).text.trim() === String(seqNow - 9), { what: 'the last reload' });
    const rss = await get(room + 'var/index.rdf');
    assert.doesNotMatch(rss.text, /live spam/);
    assert.match(rss.text, /live good/);
    const ack = await postOk(room, 'carol', 'still here', from(GOOD));
    assert.equal(ack.pos, seqNow - 9 + 1);
    const live = textsIn(path.join(data, 'current.dat'));
    assert.equal(live.at(-1), 'still here');
    assert.equal(live.length, 31 + 4 - 2 - 7 - 2 + 1, 'the 31 kept and the 4 posted, minus the removed, plus one');
    await srv.stop();
  });

  test('bad arguments exit 2 with a reason and touch nothing', T, async (t) => {
    const dir = makeTempDir(t, 'moderate-');
    const data = path.join(dir, 'data', 'lobby', 'data');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'current.dat'), line(secOf('2024/11/20', 1), 5, 'hello', GOOD) + '\n');
    const config = writeConfig(path.join(dir, 'chaton.toml'), path.join(dir, 'data'));
    const before = fs.readdirSync(data).sort();
    const id = entryId(secOf('2024/11/20', 1), 5);
    const base = ['moderate', '--config', config];
    const cases = [
      [[...base, '--room', 'nope', '--entry', id], /no room 'nope' in .*chaton\.toml \(rooms: lobby\)/],
      [[...base, '--room', 'lobby'], /say what to remove: --entry ENTRY-ID or --address CIDR/],
      [[...base, '--room', 'lobby', '--entry', id, '--address', '192.0.2.0/24'], /either --entry or --address, not both/],
      [[...base, '--room', 'lobby', '--entry', id, '--since', '2024-11-20'], /--since goes with --address/],
      [[...base, '--room', 'lobby', '--address', '192.0.2.0/33'], /'192\.0\.2\.0\/33' is not an address or CIDR range/],
      [[...base, '--room', 'lobby', '--address', 'example.org'], /is not an address or CIDR range/],
      [[...base, '--room', 'lobby', '--address', '192.0.2.0/24', '--since', '2024-02-30'], /--since '2024-02-30' is not a time/],
      [[...base, '--room', 'lobby', '--address', '192.0.2.0/24', '--since', 'yesterday'], /is not a time/],
      [[...base, '--room', 'lobby', '--entry', 'entry-xyz'], /'entry-xyz' is not an ENTRY-ID/],
    ];
    for (const [args, message] of cases) {
      const r = await chaton(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
    assert.deepEqual(fs.readdirSync(data).sort(), before, 'no file was created');

    // Accepted forms of --since: unix seconds and a UTC time of day.
    const later = await chaton([...base, '--room', 'lobby', '--address', '192.0.2.10', '--since', '2024-11-20T01:00:01']);
    assert.equal(later.code, 1, later.stdout + later.stderr);
    assert.match(later.stdout, /no post matches/);
    const exact = await chaton([...base, '--room', 'lobby', '--address', '192.0.2.0/24', '--since', String(secOf('2024/11/20', 1))]);
    assert.equal(exact.code, 0, exact.stdout + exact.stderr);
    assert.match(exact.stdout, /removed 1 post \(1 live, 0 archived in 0 days\)/);
    assert.equal(fs.readFileSync(path.join(data, 'current.dat'), 'utf8'), '');
    assert.equal(fs.readFileSync(path.join(data, 'moderated'), 'utf8'), '1');
  });
});
