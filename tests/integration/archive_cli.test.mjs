// The operator commands, run as a user would (docs/CONFIG.md, "The command
// line"; docs/STORAGE.md):
// `chaton archive` on a data directory (several days, a second run that
// changes nothing, beside a running server while clients post),
// `chaton import-conf` on an original room config whose data directory is
// then served and archived in place, `chaton check` (and --repair) on a
// damaged directory, and bad input (a date that does not exist, an unknown
// room, an unreadable config) that exits non-zero and touches no file.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  CHATON_BIN, runChaton, entryId, get, makeTempDir, post, postOk, readAlist, readLogLine, startServer, waitFor, withTimeout,
} from './lib/server.mjs';

const DAY = 86400;

// ---------------------------------------------------------------- helpers

function chaton(args, { cwd } = {}) {
  const r = spawnSync(CHATON_BIN, args, { cwd, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The same, without blocking the event loop (a server may be answering us).
const chatonAsync = (args) => runChaton(args);

const pad = (n) => String(n).padStart(2, '0');
// "YYYY/MM/DD" of a unix time (UTC).
function datePath(sec) {
  const d = new Date(sec * 1000);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}
const secOf = (datePathStr, hour = 0) => Date.UTC(...datePathStr.split('/').map((x, i) => Number(x) - (i === 1 ? 1 : 0))) / 1000 + hour * 3600;
const todaySec = () => Math.floor(Date.now() / 1000 / DAY) * DAY;

const line = (nick, sec, usec, text, ip = '192.0.2.9') => `(${JSON.stringify(nick)} (${sec} ${usec}) ${JSON.stringify(text)} ${JSON.stringify(ip)})`;

// `n` lines on the day `day` (YYYY/MM/DD), every 10 minutes from 01:00.
function dayLines(day, n, tag) {
  const start = secOf(day, 1);
  return Array.from({ length: n }, (_, i) => line('alice', start + i * 600, i, `${tag} ${i}`));
}

function writeConfig(file, rooms) {
  let text = '[site]\nlisten = "127.0.0.1:0"\n\n';
  for (const r of rooms) {
    text += '[[room]]\n';
    for (const [k, v] of Object.entries(r)) text += `${k} = ${JSON.stringify(v)}\n`;
    text += '\n';
  }
  fs.writeFileSync(file, text);
  return file;
}

// Every entry under `dir`: kind and content (or link target) and inode.
function snapshot(dir) {
  const out = {};
  const walk = (d) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      const key = path.relative(dir, p);
      if (st.isSymbolicLink()) out[key] = `link ${fs.readlinkSync(p)} ${st.ino}`;
      else if (st.isDirectory()) { out[key] = 'dir'; walk(p); }
      else out[key] = `file ${st.ino} ${fs.readFileSync(p, 'latin1')}`;
    }
  };
  walk(dir);
  return out;
}

const texts = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(readLogLine).filter(Boolean).map((p) => p.text);

// ---------------------------------------------------------------- archive

describe('chaton archive', () => {
  test('splits several days into day files, keeps today, and a second run changes nothing', { timeout: 60000 }, (t) => {
    const dir = makeTempDir(t, 'archive-');
    const data = path.join(dir, 'lobby', 'data');
    fs.mkdirSync(data, { recursive: true });
    const days = ['2024/11/20', '2024/11/21', '2024/11/22'];
    const lines = [...dayLines(days[0], 50, 'a'), ...dayLines(days[1], 50, 'b'), ...dayLines(days[2], 50, 'c'),
      ...dayLines('2024/11/23', 35, 'today')];
    const original = lines.join('\n') + '\n';
    fs.writeFileSync(path.join(data, 'current.dat'), original);
    fs.writeFileSync(path.join(data, 'sequence'), '1000');
    const config = writeConfig(path.join(dir, 'chaton.toml'), [{ slug: 'lobby', data_dir: path.join(dir, 'lobby') }]);

    const first = chaton(['archive', '--config', config, '2024/11/23']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^lobby: archived 3 days: 2024\/11\/20 \(50 posts\), 2024\/11\/21 \(50 posts\), 2024\/11\/22 \(50 posts\); current\.dat keeps 35 posts, 150 moved out/m);
    for (const [i, day] of days.entries()) {
      assert.equal(fs.readFileSync(path.join(data, `${day}.dat`), 'utf8'), lines.slice(i * 50, i * 50 + 50).join('\n') + '\n');
      assert.equal(fs.readFileSync(path.join(data, `${day}.cnt`), 'utf8'), '50');
    }
    assert.deepEqual(texts(path.join(data, 'current.dat')), Array.from({ length: 35 }, (_, i) => `today ${i}`));
    assert.equal(fs.readFileSync(path.join(data, 'current.dat.bak'), 'utf8'), original);
    assert.equal(fs.readlinkSync(path.join(data, '2024/11/23.dat')), '../../current.dat');
    assert.equal(fs.readlinkSync(path.join(data, '2024/11/24.dat')), '../../current.dat');
    assert.equal(fs.readFileSync(path.join(data, 'sequence'), 'utf8'), '1000', 'positions are untouched');
    assert.match(fs.readFileSync(path.join(dir, 'lobby', 'logs', 'archive.log'), 'utf8'), /chaton archive 2024\/11\/23: archived 3 days/);

    const before = snapshot(path.join(dir, 'lobby', 'data'));
    const second = chaton(['archive', '--config', config, '--room', 'lobby', '2024/11/23']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^lobby: nothing to archive; current\.dat keeps 35 posts$/m);
    assert.deepEqual(snapshot(path.join(dir, 'lobby', 'data')), before);
  });

  test('a room with fewer than 31 posts keeps them all; one with exactly 31 too', { timeout: 60000 }, (t) => {
    const dir = makeTempDir(t, 'archive-');
    const rooms = [];
    for (const [slug, n] of [['few', 12], ['thirty-one', 31]]) {
      const data = path.join(dir, slug, 'data');
      fs.mkdirSync(data, { recursive: true });
      const half = Math.floor(n / 2);
      fs.writeFileSync(path.join(data, 'current.dat'),
        [...dayLines('2024/11/20', half, 'x'), ...dayLines('2024/11/21', n - half, 'y')].join('\n') + '\n');
      rooms.push({ slug, data_dir: path.join(dir, slug) });
    }
    const config = writeConfig(path.join(dir, 'chaton.toml'), rooms);
    const r = chaton(['archive', '--config', config, '2024/11/22']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^few: archived 2 days: 2024\/11\/20 \(6 posts\), 2024\/11\/21 \(6 posts\); current\.dat keeps 12 posts$/m);
    assert.match(r.stdout, /^thirty-one: archived 2 days: 2024\/11\/20 \(15 posts\), 2024\/11\/21 \(16 posts\); current\.dat keeps 31 posts$/m);
    assert.equal(texts(path.join(dir, 'thirty-one', 'data', 'current.dat')).length, 31);
    assert.equal(fs.existsSync(path.join(dir, 'few', 'data', 'current.dat.bak')), false, 'nothing was cut');
  });

  test('bad input: a date that does not exist, an unknown room, an unreadable config; nothing is touched', { timeout: 60000 }, (t) => {
    const dir = makeTempDir(t, 'archive-');
    const data = path.join(dir, 'lobby', 'data');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'current.dat'), dayLines('2024/11/20', 40, 'a').join('\n') + '\n');
    const config = writeConfig(path.join(dir, 'chaton.toml'), [{ slug: 'lobby', data_dir: path.join(dir, 'lobby') }]);
    const broken = path.join(dir, 'broken.toml');
    fs.writeFileSync(broken, '[site]\nlisten = \n');
    const before = snapshot(dir);

    const cases = [
      [['archive', '--config', config, '2025/02/30'], /'2025\/02\/30' is not a date: February 2025 has 28 days/],
      [['archive', '--config', config, '2024/02/30'], /'2024\/02\/30' is not a date: .*29 days/],
      [['archive', '--config', config, '2024/13/01'], /not a date: the month must be 1 to 12/],
      [['archive', '--config', config, 'yesterday'], /'yesterday' is not a date: expected YYYY\/MM\/DD/],
      [['archive', '--config', config, '--room', 'nope'], /no room 'nope' in .*chaton\.toml \(rooms: lobby\)/],
      [['archive', '--config', path.join(dir, 'missing.toml')], /cannot open .*missing\.toml: No such file or directory/],
      [['archive', '--config', broken], /broken\.toml:2:\d+: /],
      [['check', '--config', broken], /broken\.toml:2:\d+: /],
      [['check', '--config', config, '--room', 'nope'], /no room 'nope'/],
      [['import-conf', path.join(dir, 'missing.conf')], /cannot open .*missing\.conf/],
    ];
    for (const [args, message] of cases) {
      const r = chaton(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
    assert.deepEqual(snapshot(dir), before, 'no file was touched');
  });

  test('after a kill -9 left an unacknowledged line, archiving renumbers no acknowledged post', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t, 'archive-');
    const data = path.join(dir, 'data', 'lobby', 'data');
    fs.mkdirSync(data, { recursive: true });
    const yesterday = datePath(todaySec() - DAY);
    const today = datePath(todaySec());
    fs.writeFileSync(path.join(data, 'current.dat'), dayLines(yesterday, 100, 'old').join('\n') + '\n');
    fs.writeFileSync(path.join(data, 'sequence'), '100');
    await (await startServer(t, { dir })).stop();  // writes the config
    const config = path.join(dir, 'chaton.toml');
    const first = await chatonAsync(['archive', '--config', config, today]);
    assert.equal(first.code, 0, first.stderr);

    const srv = await startServer(t, { dir });
    const acked = [];
    for (let i = 0; i < 3; i++) acked.push((await postOk(srv.roomUrl(), 'bob', `acked ${i}`)).pos);
    assert.deepEqual(acked, [101, 102, 103]);
    await srv.kill9();
    // A batch whose line reached the disk, killed before `sequence` was rewritten.
    fs.appendFileSync(path.join(data, 'current.dat'), line('carol', Math.floor(Date.now() / 1000), 0, 'never acked') + '\n');

    const second = await chatonAsync(['archive', '--config', config, today]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /nothing to archive/);

    const again = await startServer(t, { dir });
    const packet = readAlist((await get(again.roomUrl() + 'comet?t=1&c=&p=100&s=1')).text);
    assert.equal(packet.pos, 104);
    assert.deepEqual(packet.content.map((e) => e[2]), ['acked 0', 'acked 1', 'acked 2', 'never acked'], 'the posts after pos 100');
    await again.stop();
  });

  test('beside a running server while clients post: nothing lost, nothing doubled, pos never goes back', { timeout: 120000 }, async (t) => {
    const srv = await startServer(t, { rooms: [{ slug: 'lobby', name: 'Lobby' }] });
    const room = srv.roomUrl();
    const config = path.join(srv.dir, 'chaton.toml');
    const data = path.join(srv.dir, 'data', 'lobby', 'data');
    // Tomorrow's date closes today: today's posts go to today's day file.
    const tomorrow = datePath(todaySec() + DAY);

    const writers = 4;
    const perWriter = 25;
    let lastPos = 0;
    const sent = [];
    const posting = Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) {
        const text = `w${w} #${i}`;
        const ack = await postOk(room, `writer${w}`, text);
        sent.push(text);
        assert.ok(ack.pos > 0);
      }
    }));
    let runs = 0;
    let postingDone = false;
    posting.then(() => { postingDone = true; }, () => { postingDone = true; });
    while (!postingDone || runs < 2) {
      const r = await chatonAsync(['archive', '--config', config, tomorrow]);
      assert.equal(r.code, 0, r.stderr);
      runs++;
      const s = readAlist((await get(room + 'comet?t=1&c=&p=0&s=1')).text);
      assert.ok(s.pos >= lastPos, `pos went back from ${lastPos} to ${s.pos}`);
      lastPos = s.pos;
    }
    await posting;
    assert.equal(sent.length, writers * perWriter);

    const status = JSON.parse((await get(room + 'var/status.js')).text);
    assert.equal(status['post-sequence'], writers * perWriter);

    // Every post is in one day file, or only in current.dat.
    const inDays = new Map();
    const walk = (d) => {
      for (const name of fs.readdirSync(d)) {
        const p = path.join(d, name);
        const st = fs.lstatSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isFile() && /^\d\d\.dat$/.test(name)) for (const x of texts(p)) inDays.set(x, (inDays.get(x) ?? 0) + 1);
      }
    };
    walk(data);
    const inCurrent = new Map();
    for (const x of texts(path.join(data, 'current.dat'))) inCurrent.set(x, (inCurrent.get(x) ?? 0) + 1);
    for (const x of sent) {
      const d = inDays.get(x) ?? 0;
      const c = inCurrent.get(x) ?? 0;
      assert.ok(d <= 1, `${x} doubled in the day files`);
      assert.ok(c <= 1, `${x} doubled in current.dat`);
      assert.ok(d + c >= 1, `${x} lost`);
    }
    // And the server still appends to the live log that replaced the old one.
    const ack = await postOk(room, 'last', 'after all that');
    assert.equal(ack.pos, writers * perWriter + 1);
    assert.ok(texts(path.join(data, 'current.dat')).includes('after all that'));
  });
});

// ---------------------------------------------------------------- import-conf

describe('moving an original room over', () => {
  test('import-conf, then the original data directory is served, checked and archived in place', { timeout: 60000 }, async (t) => {
    const dir = makeTempDir(t, 'import-');
    const old = path.join(dir, 'old-chaton');
    const datadir = path.join(dir, 'srv', 'gauche');
    const data = path.join(datadir, 'data');
    fs.mkdirSync(path.join(old, 'conf'), { recursive: true });
    fs.writeFileSync(path.join(old, 'conf', 'site.conf'), [
      ';; Site-specific configuration.',
      '(gosh "/usr/bin/gosh")',
      '(httpd-url "http://chat.example.net")',
      '(comet-url "http://chat.example.net")',
      '(server-bin-dir "/home/chaton/bin/")',
      '(cookie-path "/chaton/")',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(old, 'conf', 'appearance.conf'), '(img-size-limit "300")\n(embed-youtube-width "425")\n(embed-youtube-height "344")\n');
    const conf = path.join(old, 'gauche.conf');
    fs.writeFileSync(conf, [
      '(include "conf/site.conf")',
      '(include "conf/appearance.conf")',
      '(room-name "Gauche")',
      '(room-description "A chat room about <b>Gauche</b>.\n Welcome.")',
      '(comet-port "9997")',
      '(url-path "/chaton/gauche/")',
      '(server-htdocs-dir "/var/www/chaton/gauche/")',
      `(server-data-dir "${datadir}/")`,
      '(icon-url "http://chat.example.net/icon.gif")',
      '(loose-login "#t")',
      '',
    ].join('\n'));

    // The original data: two archived days, current.dat with yesterday and
    // today, today's and tomorrow's links, the counters, a blacklist.
    const today = todaySec();
    const days = [datePath(today - 3 * DAY), datePath(today - 2 * DAY)];
    const archived = days.map((d, i) => [line('shiro', secOf(d, 9), 5, `archived ${i} a`, '127.0.0.1'), `("old" (${secOf(d, 10)} 7) "archived ${i} b, no address")`]);
    fs.mkdirSync(path.join(data, days[0].slice(0, 7)), { recursive: true });
    fs.mkdirSync(path.join(data, days[1].slice(0, 7)), { recursive: true });
    days.forEach((d, i) => {
      fs.writeFileSync(path.join(data, `${d}.dat`), archived[i].join('\n') + '\n');
      fs.writeFileSync(path.join(data, `${d}.cnt`), '2');
    });
    const yesterday = datePath(today - DAY);
    const live = [...dayLines(yesterday, 40, 'yesterday'), line('shiro', today + 60, 0, 'today 0')];
    fs.writeFileSync(path.join(data, 'current.dat'), live.join('\n') + '\n');
    for (const d of [datePath(today), datePath(today + DAY)]) {
      fs.mkdirSync(path.join(data, d.slice(0, 7)), { recursive: true });
      fs.symlinkSync('../../current.dat', path.join(data, `${d}.dat`));
    }
    fs.writeFileSync(path.join(data, 'sequence'), '1234\n');
    fs.writeFileSync(path.join(data, 'last-post'), `${today + 60}\n`);
    fs.writeFileSync(path.join(data, 'blacklist.txt'), '# spammers\n127.0.0.1\n');
    fs.writeFileSync(path.join(datadir, 'lock'), 'lockfile\n');

    // 1. import-conf prints the TOML.
    const imported = chaton(['import-conf', conf]);
    assert.equal(imported.code, 0, imported.stderr);
    const toml = imported.stdout;
    assert.match(toml, /^\[site\]$/m);
    assert.match(toml, /^public_url = "http:\/\/chat\.example\.net"/m);
    assert.match(toml, /^cookie_path = "\/chaton\/"/m);
    assert.match(toml, /^img_size_limit = 300/m);
    assert.match(toml, /^\[\[room\]\]$/m);
    assert.match(toml, /^slug = "gauche"/m);
    assert.match(toml, /^url_path = "\/chaton\/gauche\/"/m);
    assert.match(toml, new RegExp(`^data_dir = "${datadir.replace(/[/.]/g, '\\$&')}"`, 'm'));
    assert.match(toml, /^# comet-port "9997": not needed any more/m);
    assert.match(toml, /^# server-htdocs-dir .*: not needed any more/m);
    assert.match(toml, /^# server-bin-dir .*: not needed any more/m);
    const config = path.join(dir, 'chaton.toml');
    fs.writeFileSync(config, toml.replace(/^# listen = .*$/m, 'listen = "127.0.0.1:0"'));

    // 2. check: the original directory is healthy.
    const checked = chaton(['check', '--config', config]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /^gauche: ok/m);

    // 3. serve it in place.
    const srv = spawn(CHATON_BIN, ['serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => srv.kill('SIGKILL'));
    let out = '';
    srv.stdout.on('data', (d) => { out += d; });
    srv.stderr.on('data', (d) => { out += d; });
    const m = await waitFor(() => /room gauche/.test(out) && out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)\//), { what: 'server start' });
    const base = `http://127.0.0.1:${m[1]}/chaton/gauche/`;
    assert.match(out, /1234 posts so far/);
    const packet = readAlist((await get(base + 'comet?t=1&c=&p=0&s=1')).text);
    assert.equal(packet.pos, 1234, 'pos continues the original sequence');
    assert.equal(packet.content.length, 41);
    assert.equal(packet.content.at(-1)[2], 'today 0');
    const refused = await post(base, { nick: 'spammer', text: 'buy' });
    assert.equal(refused.status, 403, 'the original blacklist applies');
    // An old permalink, a/YYYY/MM/DD#entry-<sec>-<usec>, still finds its post.
    const dayPage = await get(base + `a/${days[0]}`);
    assert.equal(dayPage.status, 200);
    assert.match(dayPage.text, /archived 0 b, no address/);
    assert.ok(dayPage.text.includes(`id="${entryId(secOf(days[0], 10), 7)}"`), 'the permalink anchor');

    // 4. archive it again, beside the running server.
    const archivedRun = await chatonAsync(['archive', '--config', config]);
    assert.equal(archivedRun.code, 0, archivedRun.stderr);
    assert.match(archivedRun.stdout, new RegExp(`^gauche: archived 1 day: ${yesterday.replace(/\//g, '\\/')} \\(40 posts\\); current\\.dat keeps 31 posts, 10 moved out`, 'm'));
    days.forEach((d, i) => assert.equal(fs.readFileSync(path.join(data, `${d}.dat`), 'utf8'), archived[i].join('\n') + '\n', 'original day files untouched'));
    assert.equal(fs.readFileSync(path.join(data, `${yesterday}.cnt`), 'utf8'), '40');
    assert.equal(fs.lstatSync(path.join(data, `${yesterday}.dat`)).isSymbolicLink(), false);
    const after = readAlist((await get(base + 'comet?t=1&c=&p=1234&s=1')).text);
    assert.equal(after.pos, 1234, 'archiving does not move pos');
    assert.equal(chaton(['check', '--config', config]).code, 0);

    srv.kill('SIGTERM');
    await withTimeout(new Promise((r) => srv.on('exit', r)), 10000, 'server stop');
  });
});

// ---------------------------------------------------------------- check

describe('chaton check', () => {
  test('reports damage with file and line, --repair fixes what is safe and never a post', { timeout: 60000 }, (t) => {
    const dir = makeTempDir(t, 'check-');
    const datadir = path.join(dir, 'lobby');
    const data = path.join(datadir, 'data');
    fs.mkdirSync(data, { recursive: true });
    const today = todaySec();
    const d1 = datePath(today - 2 * DAY);
    const d2 = datePath(today - DAY);
    fs.mkdirSync(path.join(data, d1.slice(0, 7)), { recursive: true });
    fs.mkdirSync(path.join(data, d2.slice(0, 7)), { recursive: true });
    const day1 = [...dayLines(d1, 3, 'one'), 'this is not a post', ...dayLines(d1, 1, 'more')].join('\n') + '\n';
    fs.writeFileSync(path.join(data, `${d1}.dat`), day1);
    fs.writeFileSync(path.join(data, `${d1}.cnt`), '4');                 // right: 4 readable posts
    fs.writeFileSync(path.join(data, `${d2}.dat`), dayLines(d2, 5, 'two').join('\n') + '\n');
    fs.writeFileSync(path.join(data, `${d2}.cnt`), '7');                 // wrong
    const liveText = dayLines(datePath(today), 3, 'live').join('\n') + '\n("torn" (' + (today + 9000) + ' 1) "cut';
    fs.writeFileSync(path.join(data, 'current.dat'), liveText);          // a torn tail
    fs.writeFileSync(path.join(data, 'sequence'), '2');                  // fewer than the posts
    // today's link is missing, tomorrow's too
    const config = writeConfig(path.join(dir, 'chaton.toml'), [{ slug: 'lobby', data_dir: datadir }]);

    const r = chaton(['check', '--config', config]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^lobby: \d+ problems in /m);
    assert.ok(r.stdout.includes(`${path.join(data, `${d1}.dat`)}:4: unreadable line`), r.stdout);
    assert.ok(r.stdout.includes(`${path.join(data, `${d2}.cnt`)}: says 7, but the day file has 5 posts (repairable)`), r.stdout);
    assert.ok(r.stdout.includes(`${path.join(data, 'current.dat')}:4: the last line has no newline`), r.stdout);
    assert.ok(r.stdout.includes(`${path.join(data, 'sequence')}: says 2, fewer than the posts in current.dat (3) (repairable)`), r.stdout);
    assert.ok(r.stdout.includes(`${path.join(data, `${datePath(today)}.dat`)}: missing: today's day file should be a link`), r.stdout);
    assert.ok(r.stdout.includes(`${path.join(data, `${datePath(today + DAY)}.dat`)}: missing: tomorrow's`), r.stdout);

    const fixed = chaton(['check', '--config', config, '--repair']);
    assert.equal(fixed.code, 1, 'the unreadable lines are left to the operator');
    assert.match(fixed.stdout, /^lobby: fixed: .*\.cnt: says 7/m);
    assert.equal(fs.readFileSync(path.join(data, `${d2}.cnt`), 'utf8'), '5');
    assert.equal(fs.readFileSync(path.join(data, `${d1}.dat`), 'utf8'), day1, 'posts are never rewritten');
    assert.equal(fs.readFileSync(path.join(data, 'current.dat'), 'utf8'), liveText + '\n', 'only a newline added');
    assert.equal(fs.readFileSync(path.join(data, 'sequence'), 'utf8'), '3');
    assert.equal(fs.readlinkSync(path.join(data, `${datePath(today)}.dat`)), '../../current.dat');
    assert.equal(fs.readlinkSync(path.join(data, `${datePath(today + DAY)}.dat`)), '../../current.dat');

    const left = chaton(['check', '--config', config]);
    assert.equal(left.code, 1);
    assert.doesNotMatch(left.stdout, /repairable/);
    assert.match(left.stdout, /unreadable line/);

    // With the bad lines gone by hand, everything is well.
    fs.writeFileSync(path.join(data, `${d1}.dat`), day1.replace('this is not a post\n', ''));
    fs.writeFileSync(path.join(data, 'current.dat'), dayLines(datePath(today), 3, 'live').join('\n') + '\n');
    const ok = chaton(['check', '--config', config]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /^lobby: ok/m);
  });

  test('the search index: reported when missing, damaged or stale, never a failure; --repair rebuilds it', { timeout: 60000 }, (t) => {
    const dir = makeTempDir(t, 'check-index-');
    const datadir = path.join(dir, 'lobby');
    const data = path.join(datadir, 'data');
    const today = todaySec();
    const days = [datePath(today - 2 * DAY), datePath(today - DAY)];
    for (const d of days) {
      fs.mkdirSync(path.join(data, d.slice(0, 7)), { recursive: true });
      fs.writeFileSync(path.join(data, `${d}.dat`), dayLines(d, 5, 'day').join('\n') + '\n');
      fs.writeFileSync(path.join(data, `${d}.cnt`), '5');
    }
    fs.writeFileSync(path.join(data, 'current.dat'), dayLines(datePath(today), 3, 'live').join('\n') + '\n');
    fs.writeFileSync(path.join(data, 'sequence'), '13');
    for (const d of [datePath(today), datePath(today + DAY)]) {
      fs.mkdirSync(path.join(data, d.slice(0, 7)), { recursive: true });
      fs.symlinkSync('../../current.dat', path.join(data, `${d}.dat`));
    }
    const config = writeConfig(path.join(dir, 'chaton.toml'), [{ slug: 'lobby', data_dir: datadir }]);
    const index = path.join(data, 'search.idx');

    const missing = chaton(['check', '--config', config]);
    assert.equal(missing.code, 0, missing.stdout + missing.stderr);
    assert.match(missing.stdout, /^lobby: ok/m);
    assert.match(missing.stdout, /^lobby: note: no search index yet/m);

    const built = chaton(['check', '--config', config, '--repair']);
    assert.equal(built.code, 0, built.stdout + built.stderr);
    assert.match(built.stdout, /^lobby: fixed: search index .*search\.idx built \(13 posts, 2 day files, \d+ bytes\)/m);
    assert.ok(fs.existsSync(index));
    const clean = chaton(['check', '--config', config]);
    assert.equal(clean.code, 0);
    assert.doesNotMatch(clean.stdout, /search index/);

    // Damaged: reported, and rebuilt by --repair.
    const good = fs.readFileSync(index);
    const damaged = Buffer.from(good);
    damaged[damaged.length >> 1] ^= 0x40;
    fs.writeFileSync(index, damaged);
    const bad = chaton(['check', '--config', config]);
    assert.equal(bad.code, 0, 'a damaged index is never a wrong answer');
    assert.match(bad.stdout, /^lobby: note: search index unreadable: .*checksum/m);
    assert.match(chaton(['check', '--config', config, '--repair']).stdout, /^lobby: fixed: search index .* rebuilt/m);
    assert.deepEqual(fs.readFileSync(index), good, 'the same files give the same index');

    // Stale: a day file changed since it was indexed.
    fs.appendFileSync(path.join(data, `${days[0]}.dat`), line('bob', secOf(days[0], 20), 1, 'added by hand') + '\n');
    const stale = chaton(['check', '--config', config]);
    assert.match(stale.stdout, new RegExp(`^lobby: note: search index stale: day files new or changed since indexed: ${days[0]}`, 'm'));
    assert.match(chaton(['check', '--config', config, '--repair']).stdout, /^lobby: fixed: search index .* rebuilt \(14 posts/m);
    assert.doesNotMatch(chaton(['check', '--config', config]).stdout, /search index/);
  });
});
