/**
 * Password authentication in front of the embedded PGlite, which itself accepts whoever
 * connects: scramSecret keeps what a SCRAM-SHA-256 server keeps of a password, PasswordGate
 * runs the exchange for one client connection before any of its messages reach PGlite.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { authentication, cstring, fatal } from './embedded-wire.js';

/** What a SCRAM-SHA-256 server keeps of a password (RFC 5802): never the password itself. */
export interface ScramSecret {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const SCRAM_ITERATIONS = 4096;

export function scramSecret(password: string): ScramSecret {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return { salt, iterations: SCRAM_ITERATIONS, storedKey: sha256(clientKey), serverKey: hmac(salted, 'Server Key') };
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * Password authentication in front of PGlite, for one client connection. PGlite accepts
 * whatever connects (its startup ignores user and password), so nothing may reach it before
 * the client proved it knows the password: we hold the StartupMessage, run SCRAM-SHA-256 the
 * way a PostgreSQL server does (AuthenticationSASL, SASLContinue, SASLFinal), and only then
 * hand the StartupMessage to PGlite, whose reply (AuthenticationOk, parameters,
 * ReadyForQuery) completes the handshake. A wrong password or anything unexpected gets a FATAL
 * 28P01 ErrorResponse, and the connection is dropped on its next message.
 */
export class PasswordGate {
  private state: 'startup' | 'sasl-initial' | 'sasl-final' | 'open' | 'refused' = 'startup';
  private startup: Buffer | null = null;
  private user = '';
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  /** `onRefused` is called once the FATAL reply is due: drop the client after sending it. */
  constructor(
    private readonly secret: ScramSecret,
    private readonly onRefused: () => void = () => {},
  ) {}

  get open(): boolean {
    return this.state === 'open';
  }

  private waiting(): boolean {
    return this.state !== 'open' && this.state !== 'refused';
  }

  /**
   * Whole frontend messages received before authentication finished. Returns what to send
   * back, and once authenticated, what to pass on to PGlite (the StartupMessage and any message
   * the client sent after its proof). Throws when the connection must be dropped.
   */
  handle(messages: Buffer): { reply: Buffer; forward: Buffer | null } {
    if (this.state === 'refused') throw new Error('connection refused: authentication failed');
    const replies: Buffer[] = [];
    let pos = 0;
    while (pos < messages.length && this.waiting()) {
      if (this.state === 'startup') {
        const len = messages.readInt32BE(pos);
        const message = messages.subarray(pos, pos + len);
        pos += len;
        replies.push(this.onStartup(message));
      } else {
        const len = messages.readInt32BE(pos + 1);
        const message = messages.subarray(pos, pos + 1 + len);
        pos += 1 + len;
        replies.push(this.onPassword(message));
      }
    }
    if (!this.open) return { reply: Buffer.concat(replies), forward: null };
    return { reply: Buffer.concat(replies), forward: Buffer.concat([this.startup!, messages.subarray(pos)]) };
  }

  private refuse(message: string): Buffer {
    this.state = 'refused';
    this.onRefused();
    return fatal('28P01', message);
  }

  private onStartup(message: Buffer): Buffer {
    const code = message.readInt32BE(4);
    // SSLRequest / GSSENCRequest: no encryption on loopback; the client goes on in plain text.
    if (code === 80877103 || code === 80877104) return Buffer.from('N', 'latin1');
    if (code !== 196608) return this.refuse('unsupported frontend protocol or request');
    this.startup = Buffer.from(message);
    try {
      for (let at = 8; at < message.length - 1;) {
        const [key, next] = cstring(message, at);
        const [value, after] = cstring(message, next);
        if (key === 'user') this.user = value;
        at = after;
      }
    } catch {
      return this.refuse('invalid startup packet');
    }
    this.state = 'sasl-initial';
    return authentication(10, Buffer.from('SCRAM-SHA-256\0\0', 'latin1'));
  }

  private onPassword(message: Buffer): Buffer {
    const failed = `password authentication failed for user "${this.user.replace(/"/g, '')}"`;
    if (message[0] !== 0x70 /* p */) return this.refuse(failed);
    try {
      if (this.state === 'sasl-initial') {
        const [mechanism, at] = cstring(message, 5);
        if (mechanism !== 'SCRAM-SHA-256') return this.refuse(failed);
        const length = message.readInt32BE(at);
        const clientFirst = message.toString('utf8', at + 4, at + 4 + length);
        // gs2 header: "n,," (no channel binding) or "y,," (client could but thinks we can't).
        const m = /^([ny]),,(.*)$/s.exec(clientFirst);
        const clientNonce = m ? /(?:^|,)r=([^,]+)/.exec(m[2]!)?.[1] : undefined;
        if (!m || !clientNonce) return this.refuse(failed);
        this.gs2Header = `${m[1]},,`;
        this.clientFirstBare = m[2]!;
        this.nonce = clientNonce + randomBytes(18).toString('base64');
        this.serverFirst = `r=${this.nonce},s=${this.secret.salt.toString('base64')},i=${this.secret.iterations}`;
        this.state = 'sasl-final';
        return authentication(11, Buffer.from(this.serverFirst, 'utf8'));
      }
      const clientFinal = message.toString('utf8', 5, message.length);
      const fields = Object.fromEntries(clientFinal.split(',').map((f) => [f.slice(0, 1), f.slice(2)]));
      const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
      if (
        fields.c !== Buffer.from(this.gs2Header).toString('base64') ||
        fields.r !== this.nonce ||
        !fields.p ||
        withoutProof.length <= 0
      ) {
        return this.refuse(failed);
      }
      const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
      const proof = Buffer.from(fields.p, 'base64');
      const signature = hmac(this.secret.storedKey, authMessage);
      if (proof.length !== signature.length) return this.refuse(failed);
      const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
      if (!timingSafeEqual(sha256(clientKey), this.secret.storedKey)) return this.refuse(failed);
      this.state = 'open';
      return authentication(
        12,
        Buffer.from(`v=${hmac(this.secret.serverKey, authMessage).toString('base64')}`, 'utf8'),
      );
    } catch {
      return this.refuse(failed);
    }
  }
}
