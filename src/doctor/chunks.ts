import type { Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { query } from '../db/sql.js';
import { bytes, checker, command, config, plural, type DoctorCheck } from './check.js';
import type { ServerSettings } from './server.js';

/**
 * Chunk sizing, counts and locks. TimescaleDB's advice: the recent chunks of
 * all active hypertables together fit in about 25% of memory. Memory is not
 * measurable from SQL; shared_buffers (commonly set to 25% of memory) is the
 * proxy, and the finding says so. A query that touches every chunk of a
 * hypertable locks each chunk and its indexes; the shared lock table holds
 * max_locks_per_transaction × (max_connections + max_prepared_transactions)
 * locks, so beyond that a single statement fails with "out of shared memory"
 * (10,000 one-hour chunks made one INSERT fail that way).
 */

export interface HypertableFacts {
  schema: string;
  name: string;
  compression_enabled: boolean;
  chunks: number;
  indexes: number;
  newest_chunk_bytes: string | number | null;
  oldest_start: Date | null;
  newest_start: Date | null;
  newest_end: Date | null;
}

/** More chunks than this in one hypertable makes planning slow: a warning. */
export const CHUNK_COUNT_LIMIT = 1000;

const c = checker('chunks');

export async function readHypertables(sql: Sql, caps: Capabilities): Promise<HypertableFacts[]> {
  return caps.timescaledb.installedVersion ? await query<HypertableFacts>(sql, 'doctor/hypertables.sql') : [];
}

export function chunkChecks(caps: Capabilities, s: ServerSettings, hts: HypertableFacts[]): DoctorCheck[] {
  if (!caps.timescaledb.installedVersion)
    return ['chunk-memory', 'chunk-count', 'locks'].map((id) => c.na(id, 'no hypertables without TimescaleDB'));
  if (hts.length === 0) return ['chunk-memory', 'chunk-count', 'locks'].map((id) => c.na(id, 'no hypertables here'));
  return [memoryCheck(s, hts), countCheck(hts), locksCheck(s, hts)];
}

function memoryCheck(s: ServerSettings, hts: HypertableFacts[]): DoctorCheck {
  const recent = hts.reduce((sum, h) => sum + Number(h.newest_chunk_bytes ?? 0), 0);
  const buffers = Number(s.shared_buffers_bytes);
  const found = {
    recentChunksBytes: recent,
    sharedBuffers: s.shared_buffers,
    sharedBuffersBytes: buffers,
    proxy: 'shared_buffers stands for 25% of memory',
    perHypertable: hts.map((h) => ({
      hypertable: `${h.schema}.${h.name}`,
      newestChunkBytes: Number(h.newest_chunk_bytes ?? 0),
    })),
  };
  const finding = `newest chunks ${bytes(recent)}, shared_buffers ${s.shared_buffers} (proxy for 25% of memory)`;
  if (recent <= buffers) return c.ok('chunk-memory', finding, found);
  const biggest = [...hts].sort((a, b) => Number(b.newest_chunk_bytes ?? 0) - Number(a.newest_chunk_bytes ?? 0))[0];
  return c.warning(
    'chunk-memory',
    finding,
    found,
    command(
      `homepot-ts chunk-interval set '1 day' --table ${biggest?.schema}.${biggest?.name}   # smaller new chunks; or raise shared_buffers (25% of memory)`,
    ),
  );
}

function countCheck(hts: HypertableFacts[]): DoctorCheck {
  const most = [...hts].sort((a, b) => b.chunks - a.chunks)[0]!;
  const found = {
    limit: CHUNK_COUNT_LIMIT,
    perHypertable: hts.map((h) => ({ hypertable: `${h.schema}.${h.name}`, chunks: h.chunks })),
  };
  const finding = `${plural(most.chunks, 'chunk')} in ${most.name}`;
  if (most.chunks <= CHUNK_COUNT_LIMIT) return c.ok('chunk-count', finding, found);
  return c.warning(
    'chunk-count',
    `${finding} (over ${CHUNK_COUNT_LIMIT.toLocaleString('en-US')})`,
    found,
    command(`homepot-ts chunk-interval set '1 week' --table ${most.schema}.${most.name}   # and a retention policy`),
  );
}

function locksCheck(s: ServerSettings, hts: HypertableFacts[]): DoctorCheck {
  // A statement over every chunk: a lock per chunk and per chunk index, plus the parent's.
  const need = (h: HypertableFacts) => h.chunks * (1 + h.indexes) + 1 + h.indexes;
  const worst = [...hts].sort((a, b) => need(b) - need(a))[0]!;
  const capacity = s.max_locks_per_transaction * (s.max_connections + s.max_prepared_transactions);
  const needed = need(worst);
  const found = {
    maxLocksPerTransaction: s.max_locks_per_transaction,
    lockTableSlots: capacity,
    hypertable: `${worst.schema}.${worst.name}`,
    chunks: worst.chunks,
    locksForAllChunks: needed,
  };
  const finding = `a query over all of ${worst.name} takes ${needed.toLocaleString('en-US')} of ${capacity.toLocaleString('en-US')} lock slots`;
  // Wanted per transaction so one such query fits beside the others' share.
  const wanted = Math.ceil((needed * 2) / Math.max(1, s.max_connections + s.max_prepared_transactions) / 64) * 64;
  const fix = config(
    `max_locks_per_transaction = ${Math.max(wanted, s.max_locks_per_transaction * 2)}   # then restart PostgreSQL`,
  );
  if (needed > capacity) return c.problem('locks', finding, found, fix);
  if (needed * 2 > capacity) return c.warning('locks', finding, found, fix);
  return c.ok('locks', finding, found);
}
