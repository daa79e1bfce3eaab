// The tests' throw-away PostgreSQL cluster (lib/pg.mjs over
// scripts/pg_cluster.sh): fresh databases answer psql, empty and distinct,
// and a cluster of the test's own stops and comes back on its port with its
// data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

import { startPg } from './lib/pg.mjs';

// psql's answer to one statement, unaligned and without headers.
function psql(url, sql) {
  return new Promise((resolve, reject) => {
    execFile('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { timeout: 20000 },
      (err, stdout, stderr) => (err ? reject(new Error(`psql: ${stderr.trim() || err.message}`)) : resolve(stdout.trim())));
  });
}

test('fresh databases answer psql, empty and distinct', { timeout: 60000 }, async (t) => {
  const pg = await startPg(t);
  if (!pg) return;
  const a = await pg.freshDatabase('itest');
  const b = await pg.freshDatabase('itest');
  assert.notEqual(a, b);
  assert.equal(await psql(a, 'select 1'), '1');
  assert.equal(await psql(pg.url, 'select current_user'), 'chaton');
  await psql(a, 'create table only_here (x int)');
  const count = "select count(*) from pg_tables where tablename = 'only_here'";
  assert.equal(await psql(a, count), '1');
  assert.equal(await psql(b, count), '0');
});

test('a cluster of its own stops and restarts on its port, keeping its data', { timeout: 60000 }, async (t) => {
  const pg = await startPg(t, { own: true });
  if (!pg) return;
  const url = await pg.freshDatabase('restart');
  await psql(url, 'create table kept (x int); insert into kept values (7)');
  await pg.stop();
  await assert.rejects(psql(url, 'select 1'));
  await pg.restart();
  assert.equal(new URL(url).port, String(pg.port));
  assert.equal(await psql(url, 'select x from kept'), '7');
});
