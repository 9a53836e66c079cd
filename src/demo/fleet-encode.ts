/**
 * Health checks as the server reads them: COPY text rows (copyText) and one array literal per
 * column for INSERT ... SELECT FROM unnest (unnestParams), written byte by byte into Buffers
 * (string concatenation and postgres.js's array serialiser were the bottleneck, mostly garbage
 * collection), with the JSON of response_data and ISO timestamps (Timestamps).
 */
import { ENDPOINT, FAILURES, type Batch } from './fleet-generator.js';

const ascii = (s: string) => Buffer.from(s, 'latin1');

class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }
  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  bytes(b: Buffer): void {
    // A plain loop beats Buffer#copy / set for the short pieces we write.
    const buf = this.buf;
    let p = this.pos;
    for (let k = 0; k < b.length; k++) buf[p++] = b[k]!;
    this.pos = p;
  }
  byte(c: number): void {
    this.buf[this.pos++] = c;
  }
  /** Non-negative integer. */
  uint(v: number): void {
    if (v < 10) {
      this.buf[this.pos++] = 48 + v;
      return;
    }
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let x = v; p > this.pos - digits; x = Math.floor(x / 10)) this.buf[--p] = 48 + (x % 10);
  }
  /** Non-negative tenths as a decimal ("123" -> 12.3, "120" -> 12), like JS prints the number. */
  tenths(v: number): void {
    this.uint(Math.floor(v / 10));
    const frac = v % 10;
    if (frac !== 0) {
      this.buf[this.pos++] = 46; // '.'
      this.buf[this.pos++] = 48 + frac;
    }
  }
  toString(): string {
    return this.buf.toString('latin1', 0, this.pos);
  }
}

/** Upper bound of one serialised row (JSON ~230 bytes, error message, timestamp). */
const MAX_ROW_BYTES = 480;

const JSON_PARTS = [
  '{"system": {"cpu_percent": ',
  ', "memory_percent": ',
  ', "disk_percent": ',
  ', "uptime_seconds": ',
  '}, "app_metrics": {"transactions_count": ',
  ', "errors_count": ',
  '}, "network": {"latency_ms": ',
  '}}',
];
const JSON_PLAIN = JSON_PARTS.map(ascii);
/** The same inside a quoted array-literal element: every " becomes \". */
const JSON_QUOTED = JSON_PARTS.map((s) => ascii(s.replace(/"/g, '\\"')));

function writeJson(w: ByteWriter, parts: Buffer[], b: Batch, i: number): void {
  w.bytes(parts[0]!);
  w.tenths(b.cpu10[i]!);
  w.bytes(parts[1]!);
  w.tenths(b.mem10[i]!);
  w.bytes(parts[2]!);
  w.tenths(b.disk10[i]!);
  w.bytes(parts[3]!);
  w.uint(b.uptime[i]!);
  w.bytes(parts[4]!);
  w.uint(b.tx[i]!);
  w.bytes(parts[5]!);
  w.uint(b.errors[i]!);
  w.bytes(parts[6]!);
  w.tenths(b.latency10[i]!);
  w.bytes(parts[7]!);
}

/** ISO timestamps per time index, cached while a batch walks through its steps. */
export class Timestamps {
  private step = -1;
  private cached: Buffer = Buffer.alloc(0);
  constructor(
    private readonly fromMs: number,
    private readonly stepMs: number,
  ) {}
  get(step: number): Buffer {
    if (step !== this.step) {
      this.step = step;
      this.cached = ascii(new Date(this.fromMs + step * this.stepMs).toISOString());
    }
    return this.cached;
  }
  iso(step: number): string {
    return new Date(this.fromMs + step * this.stepMs).toISOString();
  }
}

const FAILURE_TEXT = FAILURES.map(([, m]) => ascii(m));
const FAILURE_QUOTED = FAILURES.map(([, m]) => ascii(`"${m}"`));

const TAB = 9,
  NL = 10,
  COMMA = 44;
const T_ENDPOINT = ascii(`\t${ENDPOINT}\t`);
const NULL_COPY = ascii('\\N');
const NULL_ARRAY = ascii('NULL');

export function copyText(b: Batch, ts: Timestamps): Buffer {
  const w = new ByteWriter(b.n * MAX_ROW_BYTES);
  for (let i = 0; i < b.n; i++) {
    w.ensure(MAX_ROW_BYTES);
    w.uint(b.deviceId[i]!);
    w.byte(TAB);
    w.byte(b.healthy[i] ? 116 : 102);
    w.byte(TAB); // t / f
    w.uint(b.responseMs[i]!);
    w.byte(TAB);
    w.uint(b.status[i]!);
    w.bytes(T_ENDPOINT);
    writeJson(w, JSON_PLAIN, b, i);
    w.byte(TAB);
    const f = b.failure[i]!;
    w.bytes(f >= 0 ? FAILURE_TEXT[f]! : NULL_COPY);
    w.byte(TAB);
    w.bytes(ts.get(b.step[i]!));
    w.byte(NL);
  }
  return w.buf.subarray(0, w.pos);
}

/** PostgreSQL array literal, e.g. {1,2,3}, built by `element` for rows lo..hi-1. */
function arrayLiteral(
  lo: number,
  hi: number,
  bytesPerRow: number,
  element: (w: ByteWriter, i: number) => void,
): string {
  const w = new ByteWriter((hi - lo) * bytesPerRow + 2);
  w.byte(123); // {
  for (let i = lo; i < hi; i++) {
    w.ensure(bytesPerRow + 2);
    if (i > lo) w.byte(COMMA);
    element(w, i);
  }
  w.ensure(1);
  w.byte(125); // }
  return w.toString();
}

/** unnest parameters for rows lo..hi-1: one array literal per column. */
export function unnestParams(b: Batch, ts: Timestamps, lo: number, hi: number): string[] {
  const ints = (a: ArrayLike<number>) => arrayLiteral(lo, hi, 12, (w, i) => w.uint(a[i]!));
  return [
    ints(b.deviceId),
    arrayLiteral(lo, hi, 1, (w, i) => w.byte(b.healthy[i] ? 116 : 102)),
    ints(b.responseMs),
    ints(b.status),
    arrayLiteral(lo, hi, 460, (w, i) => {
      w.byte(34);
      writeJson(w, JSON_QUOTED, b, i);
      w.byte(34);
    }),
    arrayLiteral(lo, hi, 80, (w, i) => {
      const f = b.failure[i]!;
      w.bytes(f >= 0 ? FAILURE_QUOTED[f]! : NULL_ARRAY);
    }),
    arrayLiteral(lo, hi, 26, (w, i) => w.bytes(ts.get(b.step[i]!))),
  ];
}
