// A throw-away PostgreSQL cluster for the end-to-end tests, run by
// scripts/pg_cluster.sh (the same script the C++ tests and CTest's `pg`
// fixture use).
//
//   const pg = await startPg(t);          // null when the test was skipped
//   if (!pg) return;
//   const url = await pg.freshDatabase('posting');  // an empty database
//
// startPg(t) uses the cluster already running in $CHATON_PG_DIR when set
// (CTest's `pg` fixture sets it, so the test files share one cluster and
// isolate themselves with a fresh database each), else starts one of its own
// under TMP_ROOT and stops it after the test (t.after, and at process exit).
// startPg(t, { own: true }) always starts its own: a test that stops or
// restarts the database must, not to disturb the others.
// Without PostgreSQL's server binaries it skips the test (t.skip) and returns
// null, unless CI=true, where it throws: CI never skips silently.
//
// Returns { url, dir, port, freshDatabase(hint) -> url, restart(), stop() }:
// restart() stops (if running) and starts the server on the same port;
// stop() leaves it down until restart(). Only node: built-ins are used.
//
// shareClusterInFile(), called at the top level of a test file, starts one
// cluster before the file's tests and stops it after them, and points
// CHATON_PG_DIR at it, so that each startPg(t) without `own` takes a fresh
// database there instead of starting (seconds) and stopping a cluster of
// its own. It does nothing when CHATON_PG_DIR is set already, and leaves
// the skipping to startPg when PostgreSQL is missing.

import { execFile, spawnSync } from 'node:child_process';
import { after, before } from 'node:test';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TMP_ROOT } from './server.mjs';

export const PG_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/pg_cluster.sh');
const MISSING = 2; // pg_cluster.sh's exit status without the server binaries

// Clusters this process started, stopped at exit even when a test forgets.
const owned = new Set();
process.on('exit', () => {
  for (const dir of owned) spawnSync('bash', [PG_SCRIPT, 'stop', dir, '--remove'], { stdio: 'ignore' });
});

// Runs the script: { code, stdout, stderr }.
function script(...args) {
  return new Promise((resolve) => {
    execFile('bash', [PG_SCRIPT, ...args], { timeout: 120000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function checked(...args) {
  const r = await script(...args);
  if (r.code !== 0) throw new Error(`pg_cluster.sh ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim().split('\n').pop();
}

function missing(t, why) {
  if (process.env.CI === 'true') throw new Error(`${why} (CI=true: PostgreSQL is required)`);
  t.skip(why);
  return null;
}

let counter = 0;

export function shareClusterInFile() {
  if (process.env.CHATON_PG_DIR) return;
  let dir = null;
  before(async () => {
    if ((await script('check')).code === MISSING) return;
    fs.mkdirSync(TMP_ROOT, { recursive: true });
    dir = fs.mkdtempSync(path.join(TMP_ROOT, 'pg-'));
    owned.add(dir);
    await checked('start', dir);
    process.env.CHATON_PG_DIR = dir;
  });
  after(async () => {
    if (!dir) return;
    delete process.env.CHATON_PG_DIR;
    await script('stop', dir, ...(process.env.KEEP_TMP ? [] : ['--remove']));
    owned.delete(dir);
  });
}

export async function startPg(t, { own = false } = {}) {
  const sharedDir = process.env.CHATON_PG_DIR;
  let dir;
  let url;
  if (sharedDir && !own) {
    dir = sharedDir;
    url = fs.existsSync(path.join(dir, 'url')) ? fs.readFileSync(path.join(dir, 'url'), 'utf8').trim() : '';
    if (!url) {
      if ((await script('check')).code === MISSING) return missing(t, 'PostgreSQL server binaries not installed');
      throw new Error(`no cluster running in CHATON_PG_DIR=${dir} (did pg_cluster_start fail? see its log there)`);
    }
  } else {
    fs.mkdirSync(TMP_ROOT, { recursive: true });
    dir = fs.mkdtempSync(path.join(TMP_ROOT, 'pg-'));
    owned.add(dir);
    t.after(async () => {
      await script('stop', dir, ...(process.env.KEEP_TMP ? [] : ['--remove']));
      owned.delete(dir);
    });
    const r = await script('start', dir);
    if (r.code === MISSING) return missing(t, 'PostgreSQL server binaries not installed');
    if (r.code !== 0) throw new Error(`pg_cluster.sh start ${dir} failed (exit ${r.code}): ${r.stderr.trim()}`);
    url = r.stdout.trim().split('\n').pop();
  }
  const port = Number(new URL(url).port);
  const mine = !sharedDir || own;
  const ownOnly = (what) => {
    if (!mine) throw new Error(`${what}() on the shared cluster would disturb other tests: use startPg(t, { own: true })`);
  };
  return {
    url,
    dir,
    port,
    // A new, empty database named after `hint` (made unique), owned by chaton.
    freshDatabase: (hint = 'test') => {
      let name = String(hint).toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 32);
      if (!/^[a-z_]/.test(name)) name = `t_${name}`;
      return checked('createdb', dir, `${name}_${process.pid}_${counter++}_${crypto.randomBytes(3).toString('hex')}`);
    },
    restart: async () => {
      ownOnly('restart');
      await checked('restart', dir);
    },
    stop: async () => {
      ownOnly('stop');
      await checked('stop', dir);
    },
  };
}

// Runs one SQL statement with psql on `url`; resolves with its unaligned
// output (psql -At).
export function psql(url, sql) {
  return checked('check').then((bindir) => new Promise((resolve, reject) => {
    execFile(path.join(bindir, 'psql'), [url, '-X', '-At', '-c', sql],
      { timeout: 20000, maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
        if (e) reject(new Error(`psql: ${e.message} ${stderr}`));
        else resolve(stdout);
      });
  }));
}
