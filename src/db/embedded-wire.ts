/**
 * The PostgreSQL wire protocol as the embedded server needs it, as bytes: frontend messages we
 * send PGlite ourselves (Query, CopyFail, Sync), backend messages the password gate answers
 * with (Authentication*, a FATAL ErrorResponse), MessageFramer (a client's byte stream cut
 * into whole messages) and dropDebugNotices (PGlite's DEBUG notices taken out of a reply).
 * Like every embedded*.ts module it imports only node and packages, or another embedded*.ts.
 */

/** Frontend Query ('Q') message for the simple query protocol. */
export function queryMessage(sql: string): Uint8Array {
  const body = Buffer.from(sql + '\0', 'utf8');
  const msg = Buffer.alloc(5 + body.length);
  msg.write('Q', 0, 'latin1');
  msg.writeInt32BE(4 + body.length, 1);
  body.copy(msg, 5);
  return msg;
}
export const COPY_FAIL = Buffer.from([0x66, 0, 0, 0, 5, 0]); // 'f', len 5, empty reason
export const SYNC = Buffer.from([0x53, 0, 0, 0, 4]); // 'S', len 4

/** Backend message: type byte, int32 length (counting itself), body. */
function backendMessage(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

export function authentication(code: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const c = Buffer.alloc(4);
  c.writeInt32BE(code, 0);
  return backendMessage('R', Buffer.concat([c, data]));
}

/** A FATAL ErrorResponse, as PostgreSQL sends when it refuses a connection. */
export function fatal(sqlstate: string, message: string): Buffer {
  const field = (code: string, value: string) => Buffer.from(`${code}${value}\0`, 'utf8');
  return backendMessage(
    'E',
    Buffer.concat([
      field('S', 'FATAL'),
      field('V', 'FATAL'),
      field('C', sqlstate),
      field('M', message),
      Buffer.from([0]),
    ]),
  );
}

/** Read a C string at `at`; returns the text and the offset after its terminator. */
export function cstring(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  if (end < 0) throw new Error('unterminated string');
  return [buf.toString('utf8', at, end), end + 1];
}

/**
 * Splits a client's byte stream into whole frontend messages. The first message of a
 * connection (StartupMessage, or SSLRequest / GSSENCRequest before it) has no type byte;
 * every later one is a type byte plus an int32 length that counts itself.
 */
export class MessageFramer {
  private buf: Buffer = Buffer.alloc(0);
  private started = false;

  reset(): void {
    this.buf = Buffer.alloc(0);
    this.started = false;
  }

  /** Add bytes; returns the complete messages received so far (concatenated), or null when none. */
  push(chunk: Uint8Array): Uint8Array | null {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    for (;;) {
      if (!this.started) {
        if (this.buf.length - pos < 8) break;
        const len = this.buf.readInt32BE(pos);
        if (this.buf.length - pos < len) break;
        const code = this.buf.readInt32BE(pos + 4);
        // SSLRequest (80877103) and GSSENCRequest (80877104) come before the real startup.
        if (code !== 80877103 && code !== 80877104) this.started = true;
        pos += len;
      } else {
        if (this.buf.length - pos < 5) break;
        const len = this.buf.readInt32BE(pos + 1);
        if (this.buf.length - pos < 1 + len) break;
        pos += 1 + len;
      }
    }
    if (pos === 0) return null;
    const whole = this.buf.subarray(0, pos);
    this.buf = Buffer.from(this.buf.subarray(pos));
    return new Uint8Array(whole);
  }
}

/**
 * Remove the notices PGlite adds that a real server never sends from a backend reply: DEBUG
 * notices (belt and braces for SESSION_SETUP: a client that runs RESET ALL gets debug3 back)
 * and PGlite's own traces, which come as WARNINGs such as "# 1743: aborting transaction 766"
 * on every rollback of a transaction that wrote (a client would show them as server
 * warnings). Returns the input untouched when there is nothing to drop or the framing is not
 * what we expect.
 */
export function dropDebugNotices(reply: Uint8Array): Uint8Array {
  const buf = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  const keep: Buffer[] = [];
  let dropped = false;
  let pos = 0;
  while (pos + 5 <= buf.length) {
    const len = buf.readInt32BE(pos + 1);
    const end = pos + 1 + len;
    if (len < 4 || end > buf.length) return reply;
    const msg = buf.subarray(pos, end);
    if (msg[0] === 0x4e /* 'N' */ && isPgliteNoise(msg)) dropped = true;
    else keep.push(msg);
    pos = end;
  }
  if (!dropped || pos !== buf.length) return reply;
  return new Uint8Array(Buffer.concat(keep));
}

/** PGlite's traces: "# <source line>: <text>", logged at WARNING. */
const PGLITE_TRACE = /^# \d+: /;

function isPgliteNoise(notice: Buffer): boolean {
  const severity = noticeField(notice, 0x56 /* 'V' */) ?? noticeField(notice, 0x53 /* 'S' */) ?? '';
  if (severity.startsWith('DEBUG')) return true;
  return severity === 'WARNING' && PGLITE_TRACE.test(noticeField(notice, 0x4d /* 'M' */) ?? '');
}

/** One field of a NoticeResponse: fields are (code byte, C string) pairs ending with a 0 byte. */
function noticeField(msg: Buffer, wanted: number): string | null {
  let i = 5;
  while (i < msg.length && msg[i] !== 0) {
    const code = msg[i];
    const stop = msg.indexOf(0, i + 1);
    if (stop < 0) break;
    if (code === wanted) return msg.toString('utf8', i + 1, stop);
    i = stop + 1;
  }
  return null;
}
