// Helpers for the end-to-end tests: start and stop a real `chaton serve`,
// plain HTTP requests with a hard timeout, raw-socket requests, a small
// comet client that speaks the original protocol (apilogin, then a
// long-poll loop), and a reader for the S-expressions the server writes.
// Only node: built-ins are used.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';


export const CHATON_BIN = process.env.CHATON_BIN || '/work/main/build/chaton';
// Temp dirs live outside the test directory: `node --test tests/integration/`
// walks that tree, and a leftover of a killed run must never confuse it.
export const TMP_ROOT = process.env.CHATON_TEST_TMP || path.join(os.tmpdir(), 'chaton-itest');

// Every spawned server, so none outlives the test process even when a test
// forgets to stop it or the runner is interrupted; each with the test that
// started it (or null) and its kill9().
const live = new Map();
process.on('exit', () => {
  for (const p of live.keys()) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// Kills the servers test `t` started and waits until they are gone: a
// server still running may write into a directory being removed, which
// then fails (ENOTEMPTY), and a failing after-hook skips the test's hooks
// after it, the one that kills the server among them; a server left
// running keeps the test process from ever exiting.
async function killServersOf(t) {
  const servers = [...live.values()].filter((s) => s.t === t);
  await Promise.all(servers.map((s) => s.kill9().catch(() => {})));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Rejects after `ms` unless `promise` settles first.
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// Polls `fn` until it returns a truthy value; throws after `ms`.
export async function waitFor(fn, { ms = 10000, every = 100, what = 'condition' } = {}) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(every);
  }
}

// A fresh directory under TMP_ROOT, removed after the test
// (set KEEP_TMP=1 to keep it for a post-mortem).
export function makeTempDir(t, prefix = 'run-') {
  fs.mkdirSync(TMP_ROOT, { recursive: true });
  const dir = fs.mkdtempSync(path.join(TMP_ROOT, prefix));
  if (t) {
    t.after(async () => {
      // Removed once the test's servers are gone (killServersOf), the
      // directory's files no longer change; retried all the same.
      await killServersOf(t);
      if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    });
  }
  return dir;
}

// ---------------------------------------------------------------- config

function tomlValue(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  throw new Error(`cannot write ${typeof v} as TOML`);
}

function tomlTable(header, obj) {
  const lines = [header];
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) lines.push(`${k} = ${tomlValue(v)}`);
  return lines.join('\n') + '\n';
}

export const FAST_COMET = {
  soft_timeout_min: 0.3,
  soft_timeout_max: 0.5,
  hard_timeout_min: 1,
  hard_timeout_max: 1.5,
  client_timeout: 1,
};

// The tests' own clients connect from 127.0.0.1 and post in bulk, like
// local bots: they are exempt from the post rate, as an operator exempts
// such bots by name (docs/CONFIG.md, "[limits]": nothing is exempt by
// default). A test of the limit itself sets `rate_limit_exempt` (often to
// []), or posts from another loopback address (127.0.0.2, ...).
export const TEST_CLIENTS_EXEMPT = { rate_limit_exempt: ['127.0.0.1', '::1'] };

export function writeConfig(file, { site = {}, comet = {}, limits = {}, store, rooms } = {}) {
  let text = tomlTable('[site]', site) + '\n';
  text += tomlTable('[comet]', { ...FAST_COMET, ...comet }) + '\n';
  text += tomlTable('[limits]', { ...TEST_CLIENTS_EXEMPT, ...limits }) + '\n';
  if (store) text += tomlTable('[store]', store) + '\n';
  for (const r of rooms) text += tomlTable('[[room]]', r) + '\n';
  fs.writeFileSync(file, text);
  return file;
}

// ---------------------------------------------------------------- server

// Starts `chaton serve` on a free port. Options:
//   dir    the working directory (config, data); a new temp dir by default
//   rooms  [[room]] tables (default one room, slug "lobby")
//   comet, limits, site   tables merged over the fast test defaults
//   host   the listen host (default 127.0.0.1; "::1" for IPv6)
//   config an existing config file to use as it is (then `rooms` only says
//          how many rooms to wait for); `listen` is passed as --listen
// Returns { url, port, host, dir, dataDir, rooms, proc, output(), stop(), kill9() }.
// With `t` the server is killed after the test whatever happens.
export async function startServer(t, opts = {}) {
  const dir = opts.dir ?? makeTempDir(t);
  const host = opts.host ?? '127.0.0.1';
  const listen = host.includes(':') ? `[${host}]:0` : `${host}:0`;
  const rooms = opts.rooms ?? [{ slug: 'lobby', name: 'Lobby' }];
  const config = opts.config ?? writeConfig(path.join(dir, 'chaton.toml'), {
    site: { listen, data_dir: path.join(dir, 'data'), ...(opts.site ?? {}) },
    comet: opts.comet ?? {},
    limits: opts.limits ?? {},
    rooms,
  });
  const args = ['serve', '--config', config, ...(opts.listen ? ['--listen', opts.listen] : [])];
  const proc = spawn(CHATON_BIN, args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
    // Spawning failed (missing or busy binary): report it like an exit.
    proc.on('error', (err) => {
      live.delete(proc);
      stderr += `spawn ${CHATON_BIN}: ${err.message}\n`;
      resolve({ code: null, signal: null, error: err.message });
    });
  });
  let exitInfo = null;
  exited.then((e) => { exitInfo = e; });

  const server = {
    dir,
    host,
    rooms,
    proc,
    exited,
    output: () => ({ stdout, stderr }),
    roomUrl: (slug = rooms[0].slug) => `${server.url}/${slug}/`,
    // SIGTERM, then SIGKILL if it has not stopped within 3 s (the result
    // then says signal 'SIGKILL').
    async stop() {
      if (exitInfo) return exitInfo;
      proc.kill('SIGTERM');
      try {
        return await withTimeout(exited, 3000, 'server stop');
      } catch {
        proc.kill('SIGKILL');
        return withTimeout(exited, 5000, 'server kill');
      }
    },
    async kill9() {
      if (exitInfo) return exitInfo;
      proc.kill('SIGKILL');
      return withTimeout(exited, 5000, 'server kill -9');
    },
  };
  live.set(proc, { t, kill9: server.kill9 });
  if (t) t.after(() => server.kill9());

  const roomLines = rooms.length;
  const ready = waitFor(
    () => {
      if (exitInfo) {
        throw new Error(`chaton exited (${JSON.stringify(exitInfo)}) before listening:\n${stdout}${stderr}`);
      }
      const m = stdout.match(/listening on http:\/\/(\S+):(\d+)\//);
      const n = (stdout.match(/^ {2}room /gm) ?? []).length;
      return m && n >= roomLines ? m : null;
    },
    { ms: 10000, every: 20, what: 'server start' },
  );
  let m;
  try {
    m = await ready;
  } catch (e) {
    await server.kill9();
    throw new Error(`${e.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
  server.port = Number(m[2]);
  server.url = `http://${m[1]}:${server.port}`;
  return server;
}

// Runs `chaton ARGS` to the end without blocking the event loop (a server
// of the same test may be answering), feeding `input` on standard input.
// Resolves with { code, signal, stdout, stderr }.
export function runChaton(args, { input, timeout = 60000, cwd } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const p = spawn(CHATON_BIN, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
    p.stdin.on('error', () => {});
    p.stdin.end(input ?? '');
  }), timeout, `chaton ${args.join(' ')}`);
}

// ---------------------------------------------------------------- HTTP

// One request on its own connection. Resolves with
// { status, headers, body (Buffer), text }; rejects on a network error or
// after `timeout` ms. `body` may be a string, a Buffer or an object (sent as
// a form unless `json` is set). `localAddress`: the source address to
// connect from (any of 127/8 reaches a server on loopback).
export function request(url, { method = 'GET', headers = {}, body, json = false, timeout = 10000, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    let payload;
    const h = { ...headers };
    if (body !== undefined) {
      if (Buffer.isBuffer(body) || typeof body === 'string') {
        payload = Buffer.from(body);
      } else if (json) {
        payload = Buffer.from(JSON.stringify(body));
        h['content-type'] ??= 'application/json';
      } else {
        payload = Buffer.from(new URLSearchParams(body).toString());
        h['content-type'] ??= 'application/x-www-form-urlencoded';
      }
      h['content-length'] = payload.length;
    }
    const req = http.request(url, { method, headers: h, agent: false, localAddress });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${url} timed out after ${timeout} ms`));
    }, timeout);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: buf, text: buf.toString('utf8') });
      });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.end(payload);
  });
}

export const get = (url, opts = {}) => request(url, { ...opts, method: 'GET' });

// POST a form (object) or raw body to a room's post URL.
export function post(roomUrl, fields, opts = {}) {
  return request(roomUrl + (opts.path ?? 'post'), { method: 'POST', body: fields, ...opts });
}

// POST and expect 200; returns the parsed {pos, id, permalink}.
export async function postOk(roomUrl, nick, text, opts = {}) {
  const r = await post(roomUrl, { nick, text }, opts);
  if (r.status !== 200) throw new Error(`post failed: ${r.status} ${r.text}`);
  return JSON.parse(r.text);
}

// Sends raw bytes on a TCP socket and collects what comes back until the
// server closes the connection, `until(buffer)` says enough, or `timeout`.
export function rawExchange(port, data, { host = '127.0.0.1', timeout = 5000, until } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const chunks = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => finish(false), timeout);
    sock.on('connect', () => sock.write(data));
    sock.on('data', (c) => {
      chunks.push(c);
      if (until && until(Buffer.concat(chunks))) finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(e);
    });
  });
}

// Splits the first complete HTTP response off the front of `buf` (needs a
// Content-Length). Returns { statusLine, status, version, headers, body, rest } or null.
export function parseResponse(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = head[0];
  const m = statusLine.match(/^HTTP\/(\d\.\d) (\d{3})/);
  if (!m) throw new Error(`bad status line: ${statusLine}`);
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const len = Number(headers['content-length'] ?? NaN);
  if (Number.isNaN(len)) throw new Error('response without Content-Length');
  if (buf.length < end + 4 + len) return null;
  return {
    statusLine,
    version: m[1],
    status: Number(m[2]),
    headers,
    body: buf.subarray(end + 4, end + 4 + len).toString('utf8'),
    rest: buf.subarray(end + 4 + len),
  };
}

// ---------------------------------------------------------------- S-expressions

export class Sym {
  constructor(name) { this.name = name; }
}
// An improper list (a b . c): items [a, b], tail c.
export class Dotted {
  constructor(items, tail) { this.items = items; this.tail = tail; }
}

const DELIM = /[\s()";]/;

// Reads one datum from `text` (lists, dotted pairs, strings with the
// escapes of docs/STORAGE.md, integers, symbols). Throws on anything else
// or on trailing garbage. Integers beyond 2^53 become BigInt.
export function readSexpr(text) {
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const fail = (msg) => { throw new Error(`sexpr: ${msg} at ${i} in ${JSON.stringify(text.slice(0, 200))}`); };

  function readString() {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i++];
      if (c === '"') return out;
      if (c !== '\\') { out += c; continue; }
      if (i >= text.length) fail('unterminated escape');
      const e = text[i++];
      const simple = { n: '\n', t: '\t', r: '\r', 0: '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };
      if (e in simple) { out += simple[e]; continue; }
      if (e === 'x') {
        const m = /^([0-9a-fA-F]{1,6});/.exec(text.slice(i, i + 7)) ?? /^([0-9a-fA-F]{2})/.exec(text.slice(i, i + 2));
        if (!m) fail('bad \\x escape');
        out += String.fromCodePoint(parseInt(m[1], 16));
        i += m[0].length;
        continue;
      }
      if (e === 'u') {
        const m = /^[0-9a-fA-F]{4}/.exec(text.slice(i, i + 4));
        if (!m) fail('bad \\u escape');
        out += String.fromCharCode(parseInt(m[0], 16));
        i += 4;
        continue;
      }
      out += e;
    }
  }

  function readAtom() {
    const start = i;
    while (i < text.length && !DELIM.test(text[i])) i++;
    const tok = text.slice(start, i);
    if (!tok) fail('empty atom');
    if (/^[+-]?\d+$/.test(tok)) {
      const n = Number(tok);
      return Number.isSafeInteger(n) ? n : BigInt(tok);
    }
    return new Sym(tok);
  }

  function readDatum() {
    ws();
    if (i >= text.length) fail('unexpected end');
    const c = text[i];
    if (c === '"') return readString();
    if (c === ')') fail('unexpected )');
    if (c !== '(') return readAtom();
    i++;
    const items = [];
    for (;;) {
      ws();
      if (i >= text.length) fail('unterminated list');
      if (text[i] === ')') { i++; return items; }
      if (text[i] === '.' && (i + 1 >= text.length || DELIM.test(text[i + 1]))) {
        if (!items.length) fail('dot at list start');
        i++;
        const tail = readDatum();
        ws();
        if (text[i] !== ')') fail('expected ) after dotted tail');
        i++;
        return new Dotted(items, tail);
      }
      items.push(readDatum());
    }
  }

  const d = readDatum();
  ws();
  if (i !== text.length) fail('trailing garbage');
  return d;
}

// An association list → a plain object, keys in order. `(key . value)`
// gives value; `(key x y ...)` gives [x, y, ...] (so `(content)` is []).
export function alist(datum) {
  if (!Array.isArray(datum)) throw new Error('alist: not a list');
  const out = {};
  for (const e of datum) {
    if (e instanceof Dotted && e.items.length === 1 && e.items[0] instanceof Sym) {
      out[e.items[0].name] = e.tail;
    } else if (Array.isArray(e) && e[0] instanceof Sym) {
      out[e[0].name] = e.slice(1);
    } else {
      throw new Error(`alist: bad entry ${JSON.stringify(e)}`);
    }
  }
  return out;
}

export const readAlist = (text) => alist(readSexpr(text));

// A line of the log format ("nick" (sec usec) "text" ["ip"]) → an object,
// or null when the line is not exactly that shape.
export function readLogLine(line) {
  let d;
  try { d = readSexpr(line); } catch { return null; }
  if (!Array.isArray(d) || (d.length !== 3 && d.length !== 4)) return null;
  const [nick, stamp, text, ip] = d;
  if (typeof nick !== 'string' || typeof text !== 'string') return null;
  if (!Array.isArray(stamp) || stamp.length !== 2 || !stamp.every(Number.isInteger)) return null;
  if (ip !== undefined && typeof ip !== 'string') return null;
  return { nick, sec: stamp[0], usec: stamp[1], text, ip };
}

// The lines of a .dat file (without the final empty string).
export function datLines(file) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

// entry-<sec hex>-<usec hex, at least 2 digits> (docs/PROTOCOL.md,
// "Rendering").
export const entryId = (sec, usec) => `entry-${sec.toString(16)}-${usec.toString(16).padStart(2, '0')}`;

// ---------------------------------------------------------------- comet client

// The original client library's loop (chaton.client): log in at apilogin,
// then GET comet-uri?t=..&c=cid&p=pos&s=1 again and again, taking cid and
// pos from every reply.
export class CometClient {
  constructor(roomUrl, who = 'integration-test') {
    this.roomUrl = roomUrl;
    this.who = who;
    this.cid = null;
    this.pos = 0;
  }

  async login() {
    const r = await request(this.roomUrl + 'apilogin', { method: 'POST', body: { who: this.who, s: '1' } });
    if (r.status !== 200) throw new Error(`apilogin: ${r.status} ${r.text}`);
    const a = readAlist(r.text);
    this.login_ = a;
    this.cid = a.cid;
    this.pos = a.pos;
    this.cometUri = a['comet-uri'];
    this.postUri = a['post-uri'];
    return a;
  }

  cometUrl(format = 1) {
    const q = new URLSearchParams({ t: String(Date.now()), c: String(this.cid ?? ''), p: String(this.pos) });
    if (format !== null) q.set('s', String(format));
    return `${this.cometUri ?? this.roomUrl + 'comet'}?${q}`;
  }

  // One long-poll round trip in s=1; returns the reply alist, with `raw`.
  async poll({ timeout = 10000 } = {}) {
    const r = await get(this.cometUrl(1), { timeout });
    if (r.status !== 200) throw new Error(`comet: ${r.status} ${r.text}`);
    const a = readAlist(r.text);
    a.raw = r.text;
    a.headers = r.headers;
    this.cid = a.cid;
    this.pos = a.pos;
    return a;
  }

  async talk(nick, text) {
    const r = await request(this.postUri, { method: 'POST', body: { nick, text, cid: String(this.cid) } });
    if (r.status !== 200) throw new Error(`post: ${r.status} ${r.text}`);
    return JSON.parse(r.text);
  }
}

// All start tags in an HTML fragment: [{ name, raw }].
export function tags(html) {
  return [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*>/g)].map((m) => ({ name: m[1].toLowerCase(), raw: m[0] }));
}
