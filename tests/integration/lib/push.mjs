// Helpers for the push transports (docs/PROTOCOL.md, "Push streams"): a
// Server-Sent Events reader on fetch streaming, a raw-socket SSE reader that
// can stop reading, and a small WebSocket client on node:net (RFC 6455:
// handshake, masked client frames, fragmented server messages, pings, close
// codes) that can also stop reading and send frames no browser would. Only
// node: built-ins are used.

import crypto from 'node:crypto';
import net from 'node:net';

import { withTimeout } from './server.mjs';

// ---------------------------------------------------------------- SSE

// Splits an SSE byte stream into events: { id, data, comments[] }.
export class SseParser {
  constructor() {
    this.buffer = '';
    this.events = [];
    this.comments = [];
    this.retry = null;
  }

  push(text) {
    this.buffer += text;
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end < 0) return;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event = { id: null, data: [] };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) { this.comments.push(line.slice(1).trim()); continue; }
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'id') event.id = value;
        else if (field === 'data') event.data.push(value);
        else if (field === 'retry') this.retry = Number(value);
      }
      if (event.data.length) this.events.push({ id: event.id, data: JSON.parse(event.data.join('\n')) });
    }
  }
}

// An EventSource-like reader on fetch: `next()` resolves with the next
// event { id, data } (data parsed as JSON).
export async function openSse(url, { headers = {}, timeout = 10000 } = {}) {
  const ac = new AbortController();
  const res = await withTimeout(fetch(url, { headers, signal: ac.signal }), timeout, `GET ${url}`);
  const parser = new SseParser();
  const waiters = [];
  let ended = false;
  const wake = () => { while (waiters.length) waiters.shift()(); };
  (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        parser.push(decoder.decode(chunk, { stream: true }));
        wake();
      }
    } catch { /* aborted */ }
    ended = true;
    wake();
  })();
  let taken = 0;
  return {
    res,
    parser,
    get ended() { return ended; },
    async next(ms = timeout) {
      const end = Date.now() + ms;
      while (taken >= parser.events.length) {
        if (ended) throw new Error('the event stream ended');
        const left = end - Date.now();
        if (left <= 0) throw new Error(`no event within ${ms} ms`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, left); });
      }
      return parser.events[taken++];
    },
    close() { ac.abort(); },
  };
}

// ---------------------------------------------------------------- raw socket

// Opens a TCP connection and sends `request`; collects everything that
// comes back. The socket can be paused (the kernel buffers fill up and the
// server sees a reader that stopped) and resumed.
export function rawStream(port, request, { host = '127.0.0.1' } = {}) {
  const sock = net.connect({ host, port });
  const chunks = [];
  let bytes = 0;
  const ended = new Promise((resolve) => {
    sock.on('close', () => resolve(true));
    sock.on('error', () => resolve(true));
  });
  sock.on('connect', () => sock.write(request));
  sock.on('data', (c) => { chunks.push(c); bytes += c.length; });
  return {
    sock,
    ended,
    get bytes() { return bytes; },
    text: () => Buffer.concat(chunks).toString('utf8'),
    pause: () => sock.pause(),
    resume: () => sock.resume(),
    destroy: () => sock.destroy(),
  };
}

// ---------------------------------------------------------------- WebSocket

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

// One client frame, masked as RFC 6455 requires (mask: false sends an
// unmasked frame, which a server must refuse).
export function wsFrame(opcode, payload, { fin = true, mask = true } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '');
  let header;
  if (data.length < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | data.length]);
  } else if (data.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = (mask ? 0x80 : 0) | 126;
    header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = (mask ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  if (!mask) return Buffer.concat([header, data]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ key[i % 4];
  return Buffer.concat([header, key, masked]);
}

export class RawWebSocket {
  // Resolves once the server answered 101 with the right accept key;
  // rejects with the HTTP status line when it refused.
  static connect(port, path, { host = '127.0.0.1', timeout = 10000, headers = {} } = {}) {
    return withTimeout(new Promise((resolve, reject) => {
      const key = crypto.randomBytes(16).toString('base64');
      const sock = net.connect({ host, port });
      let head = Buffer.alloc(0);
      const onData = (c) => {
        head = Buffer.concat([head, c]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onData);
        const lines = head.subarray(0, end).toString('latin1').split('\r\n');
        if (!/^HTTP\/1\.1 101/.test(lines[0])) {
          sock.destroy();
          const err = new Error(`upgrade refused: ${lines[0]}`);
          err.status = Number(lines[0].split(' ')[1]);
          err.body = head.subarray(end + 4).toString('utf8');
          reject(err);
          return;
        }
        const accept = lines.find((l) => /^sec-websocket-accept:/i.test(l))?.split(':')[1].trim();
        const expected = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
        if (accept !== expected) { sock.destroy(); reject(new Error(`bad accept key ${accept}`)); return; }
        resolve(new RawWebSocket(sock, head.subarray(end + 4)));
      };
      sock.on('data', onData);
      sock.on('error', reject);
      sock.on('connect', () => {
        sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
      });
    }), timeout, `WebSocket ${path}`);
  }

  constructor(sock, rest) {
    this.sock = sock;
    this.buffer = Buffer.alloc(0);
    this.messages = [];      // text messages, in order
    this.fragments = [];
    this.close = null;       // { code, reason } once the server closed
    this.waiters = [];
    this.bytes = 0;
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
    sock.on('data', (c) => this.onData(c));
    sock.on('close', () => { this.resolveClosed(this.close ?? { code: null, reason: 'socket closed' }); this.wake(); });
    sock.on('error', () => {});
    if (rest.length) this.onData(rest);
  }

  wake() { while (this.waiters.length) this.waiters.shift()(); }

  onData(chunk) {
    this.bytes += chunk.length;
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const fin = (this.buffer[0] & 0x80) !== 0;
      const opcode = this.buffer[0] & 0x0f;
      if (this.buffer[1] & 0x80) {  // a server must never mask
        this.close = { code: null, reason: 'the server masked a frame' };
        this.sock.destroy();
        return;
      }
      let len = this.buffer[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buffer.length < 4) return;
        len = this.buffer.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buffer.length < 10) return;
        len = Number(this.buffer.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buffer.length < at + len) return;
      const payload = this.buffer.subarray(at, at + len);
      this.buffer = this.buffer.subarray(at + len);
      this.onFrame(fin, opcode, Buffer.from(payload));
    }
  }

  onFrame(fin, opcode, payload) {
    if (opcode === OP.ping) { this.sock.write(wsFrame(OP.pong, payload)); return; }
    if (opcode === OP.pong) return;
    if (opcode === OP.close) {
      this.close = {
        code: payload.length >= 2 ? payload.readUInt16BE(0) : null,
        reason: payload.subarray(2).toString('utf8'),
      };
      if (!this.sock.destroyed) this.sock.end(wsFrame(OP.close, payload.subarray(0, 2)));
      this.wake();
      return;
    }
    this.fragments.push(payload);
    if (!fin) return;
    const whole = Buffer.concat(this.fragments);
    this.fragments = [];
    this.messages.push(whole.toString('utf8'));
    this.wake();
  }

  // The next text message, parsed as JSON.
  async next(ms = 10000) {
    const end = Date.now() + ms;
    while (!this.messages.length) {
      if (this.close || this.sock.destroyed) {
        throw new Error(`the connection closed (${JSON.stringify(this.close)})`);
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no message within ${ms} ms`);
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, left); });
    }
    return JSON.parse(this.messages.shift());
  }

  // Skips packets until one satisfies `pred`.
  async nextMatching(pred, ms = 10000) {
    const end = Date.now() + ms;
    for (;;) {
      const m = await this.next(Math.max(1, end - Date.now()));
      if (pred(m)) return m;
    }
  }

  send(text) { this.sock.write(wsFrame(OP.text, text)); }
  sendRaw(buf) { this.sock.write(buf); }
  pause() { this.sock.pause(); }
  resume() { this.sock.resume(); }
  end() {
    if (!this.sock.destroyed) this.sock.write(wsFrame(OP.close, Buffer.from([0x03, 0xe8])));
    this.sock.end();
  }
  destroy() { this.sock.destroy(); }
}

// The texts of a comet JSON packet's content.
export const packetTexts = (p) => p.content.map((e) => e[2]);
