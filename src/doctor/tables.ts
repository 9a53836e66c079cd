import type { Sql } from '../db/connection.js';
import { query, queryOne } from '../db/sql.js';
import { checker, command, plural, sqlFix, type DoctorCheck } from './check.js';
import type { HealthChecksKind } from './policies.js';

/**
 * health_checks' indexes (HOMEPOT's recommended (device_id, "timestamp"
 * DESC), duplicates) and table health (dead tuples, last (auto)vacuum and
 * analyze of the table and its newest chunks). Statistics and catalog only.
 */

const ix = checker('indexes');
const tb = checker('tables');

/** Dead rows above this share of all rows (and at least DEAD_MIN of them) want a VACUUM. */
const DEAD_RATIO = 0.2;
const DEAD_MIN = 1000;

interface IndexRow {
  indexes: number;
  recommended: string | null;
  duplicates: { index: string; sameAs: string; fix: string }[];
}

export async function indexChecks(sql: Sql, hc: HealthChecksKind): Promise<DoctorCheck[]> {
  if (hc.kind === null)
    return ['index-recommended', 'index-duplicates'].map((id) => ix.na(id, 'no health_checks table'));
  const r = await queryOne<IndexRow>(sql, 'doctor/indexes.sql');
  const dups = r?.duplicates ?? [];
  return [
    r?.recommended
      ? ix.ok('index-recommended', `(device_id, "timestamp" DESC): ${r.recommended}`, { index: r.recommended })
      : ix.warning(
          'index-recommended',
          'no (device_id, "timestamp" DESC) index',
          { index: null },
          command('homepot-ts setup   # creates idx_health_checks_device_time'),
        ),
    dups.length === 0
      ? ix.ok(
          'index-duplicates',
          `no duplicates among ${plural(r?.indexes ?? 0, 'index')}`.replace('indexs', 'indexes'),
          { duplicates: [] },
        )
      : ix.warning(
          'index-duplicates',
          dups.map((d) => `${d.index} = ${d.sameAs}`).join(', '),
          { duplicates: dups },
          sqlFix(dups.map((d) => d.fix).join(' ')),
        ),
  ];
}

interface HealthRow {
  relation: string;
  live: string | number;
  dead: string | number;
  modified: string | number;
  vacuumed: Date | null;
  analyzed: Date | null;
  reltuples: string | number;
}

export async function tableChecks(sql: Sql, hc: HealthChecksKind, timescaledb: boolean): Promise<DoctorCheck[]> {
  if (hc.kind === null) return ['table-dead-tuples', 'table-analyzed'].map((id) => tb.na(id, 'no health_checks table'));
  const rows = await query<HealthRow>(sql, timescaledb ? 'doctor/table-health.sql' : 'doctor/table-health-plain.sql');
  // A hypertable's parent holds no rows: its chunks are what (auto)vacuum works on.
  const rels = (hc.kind === 'hypertable' ? rows.slice(1) : rows).map((r) => ({
    relation: r.relation,
    live: Number(r.live),
    dead: Number(r.dead),
    modified: Number(r.modified),
    vacuumed: r.vacuumed,
    analyzed: r.analyzed,
  }));
  const found = { relations: rels };
  const bloated = rels.filter((r) => r.dead >= DEAD_MIN && r.dead > DEAD_RATIO * (r.live + r.dead));
  const unanalyzed = rels.filter((r) => !r.analyzed && r.live + r.dead + r.modified > 0);
  return [
    bloated.length === 0
      ? tb.ok('table-dead-tuples', `dead rows under ${DEAD_RATIO * 100}%`, found)
      : tb.warning(
          'table-dead-tuples',
          `${bloated.map((b) => `${b.relation} ${Math.round((100 * b.dead) / (b.live + b.dead))}% dead`).join(', ')}`,
          found,
          sqlFix(bloated.map((b) => `VACUUM (ANALYZE) ${b.relation};`).join(' ')),
        ),
    unanalyzed.length === 0
      ? tb.ok('table-analyzed', 'statistics present', found)
      : tb.warning(
          'table-analyzed',
          `never analyzed: ${unanalyzed.map((u) => u.relation).join(', ')}`,
          found,
          sqlFix(
            hc.kind === 'hypertable'
              ? 'ANALYZE public.health_checks;'
              : unanalyzed.map((u) => `ANALYZE ${u.relation};`).join(' '),
          ),
        ),
  ];
}
