// The command line as a whole (docs/CONFIG.md, "The command line"): bare
// `chaton` prints the help and exits 0; a usage mistake exits 2 with one line
// on standard error; every command that works on rooms takes --data DIR like
// `serve` and works without a configuration on the default room, lobby;
// --listen takes a host name.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  CHATON_BIN, CometClient, entryId, get, makeTempDir, postOk, runChaton, startServer, waitFor, withTimeout,
} from './lib/server.mjs';

const T = { timeout: 60000 };
const chaton = (args) => runChaton(args, { timeout: 20000 });

// One line on standard error, nothing on standard output, exit 2.
function assertUsageError(r, args, pattern) {
  assert.equal(r.code, 2, `chaton ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^[^\n]+\n$/, `one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern);
}

describe('chaton usage', () => {
  test('bare chaton prints the help on standard output and exits 0', T, async () => {
    const r = await chaton([]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    for (const command of ['serve', 'archive', 'check', 'moderate', 'db', 'import-conf', 'watch', 'post'])
      assert.match(r.stdout, new RegExp(`\\b${command}\\b`), `the help names ${command}`);
    const help = await chaton(['--help']);
    assert.equal(help.code, 0);
    assert.equal(help.stdout, r.stdout);
  });

  test('a usage mistake exits 2 with one line naming the command', T, async () => {
    const cases = [
      [['bogus'], /^chaton: .*bogus.* \(see chaton --help\)$/m],
      [['--bogus'], /^chaton: .*--bogus.*\(see chaton --help\)$/m],
      [['serve', '--bogus'], /^chaton serve: .*--bogus.* \(see chaton serve --help\)$/m],
      [['serve', '--config', '/nonexistent/chaton.toml'], /^chaton serve: .*nonexistent/m],
      [['archive', '--room'], /^chaton archive: .*--room/m],
      [['check', 'extra', 'args'], /^chaton check: /m],
      [['db'], /^chaton db: .*subcommand.*\(see chaton db --help\)$/m],
      [['db', 'init', '--bogus'], /^chaton db init: .*--bogus.* \(see chaton db init --help\)$/m],
      [['import-conf'], /^chaton import-conf: .*OLD\.conf/m],
    ];
    for (const [args, pattern] of cases) assertUsageError(await chaton(args), args, pattern);
  });

  test('--listen takes a host name', T, async (t) => {
    // LOCALHOST: a name the system resolves (to 127.0.0.1), not the literal
    // "localhost".
    const srv = await startServer(t, { listen: 'LOCALHOST:0' });
    assert.match(srv.output().stdout, /listening on http:\/\/127\.0\.0\.1:\d+\//);
    assert.equal((await get(srv.roomUrl())).status, 200);
    await srv.stop();

    const dir = makeTempDir(t, 'listen-');
    const r = await chaton(['serve', '--data', path.join(dir, 'data'), '--listen', 'no-such-host.invalid:0']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot resolve host 'no-such-host\.invalid'/);
  });
});

describe('--data on every command that works on rooms, without a configuration', () => {
  test('check, archive, moderate and db take --data DIR and work on DIR/lobby', T, async (t) => {
    const dir = makeTempDir(t, 'data-');
    const data = path.join(dir, 'data');
    // Serve the default room with its data in DIR, as the commands below will.
    const served = await runServing(t, dir, data);
    const room = `${served.url}/lobby/`;
    await postOk(room, 'alice', 'keep me');
    const spam = await postOk(room, 'mallory', 'remove me');
    const c = new CometClient(room);
    await c.login();
    c.pos = 0;
    const [, [sec, usec]] = (await c.poll()).content.find((e) => e[2] === 'remove me');
    await served.stop();
    assert.ok(spam.pos > 0);
    const current = path.join(data, 'lobby', 'data', 'current.dat');
    assert.match(fs.readFileSync(current, 'utf8'), /remove me/);

    const check = await chaton(['check', '--data', data, '--repair']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(path.join(data, 'lobby').replace(/[.]/g, '\\.')));

    const archive = await chaton(['archive', '--data', data]);
    assert.equal(archive.code, 0, archive.stdout + archive.stderr);

    // No --room: the default configuration has only the lobby.
    const moderate = await chaton(['moderate', '--data', data, '--entry', entryId(sec, usec)]);
    assert.equal(moderate.code, 0, moderate.stdout + moderate.stderr);
    const left = fs.readFileSync(current, 'utf8');
    assert.doesNotMatch(left, /remove me/);
    assert.match(left, /keep me/);

    // The db commands accept --data; the default configuration has no
    // [store] url, which is what they then say.
    for (const args of [['db', 'init'], ['db', 'import'], ['db', 'export']]) {
      const r = await chaton([...args, '--data', data]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /no \[store\] url/);
    }
  });

  test('with several rooms, moderate and db import still ask which one', T, async (t) => {
    const dir = makeTempDir(t, 'rooms-');
    const config = path.join(dir, 'chaton.toml');
    fs.writeFileSync(config, `[site]\ndata_dir = "${path.join(dir, 'data')}"\n\n[[room]]\nslug = "lobby"\n\n[[room]]\nslug = "other"\n`);
    const r = await chaton(['moderate', '--config', config, '--entry', 'entry-1-01']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--room SLUG is required: say which room \(rooms: lobby, other\)/);
    const db = await chaton(['db', 'import', '--config', config]);
    assert.equal(db.code, 2, db.stderr);
    assert.match(db.stderr, /--room SLUG is required: say which room/);
  });
});

// `chaton serve --data DATA --listen 127.0.0.1:0` with no configuration.
async function runServing(t, dir, data) {
  const p = spawn(CHATON_BIN, ['serve', '--data', data, '--listen', '127.0.0.1:0'], { cwd: dir });
  t.after(() => p.kill('SIGKILL'));
  let out = '';
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((r) => p.on('exit', r));
  const m = await waitFor(() => out.match(/listening on (http:\/\/\S+:\d+)\//), { what: 'serve --data' });
  return {
    url: m[1],
    async stop() {
      p.kill('SIGTERM');
      await withTimeout(exited, 5000, 'stop');
    },
  };
}
