import { expect, it } from 'vitest';
import type { Sql as LibSql } from '../src/connection.js';
import { executeRendered } from '../src/statements.js';
import { describeWithDatabase } from './support/databases.js';

/*
 * Issue 9, item 2: every rendered statement runs alone (extended protocol).
 */

describeWithDatabase('apache', 'rendered statements run alone', (db) => {
  it('executeRendered refuses a text that carries two statements, and runs one', async () => {
    const sql = db().sql() as unknown as LibSql;
    await expect(executeRendered(sql, 'SELECT 1; SELECT 2')).rejects.toMatchObject({ code: '42601' });
    await expect(executeRendered(sql, 'CREATE TABLE twice_a (); CREATE TABLE twice_b ()')).rejects.toMatchObject({ code: '42601' });
    const [t] = await sql`SELECT to_regclass('public.twice_a') AS a, to_regclass('public.twice_b') AS b`;
    expect(t).toEqual({ a: null, b: null });
    const [one] = await executeRendered<{ n: number }[]>(sql, 'SELECT $1::int + 1 AS n', [41]);
    expect(one!.n).toBe(42);
    await db().closeClients();
  });
});

