import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { oneLineError } from './support/assertions.js';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { client, quoteIdent } from './support/pg.js';

/*
 * Issue 9, item 4, for deletes: `retention run` on a plain table DELETEs rows,
 * which runs the table owner's triggers (and row-level security policies) with
 * the rights of whoever deletes. mallory owns the table and puts a DELETE
 * trigger on it that tries to make her superuser: a superuser's retention run
 * must refuse (exit 6, one line) before deleting anything; mallory herself can
 * run it.
 */
describeWithDatabase('postgres', "retention run deletes only with the table owner's rights", (db) => {
  it('a superuser is refused (exit 6, one line, no row deleted, her trigger never ran); the owner deletes', async () => {
    const role = `mallory_${randomBytes(3).toString('hex')}`;
    const r = quoteIdent(role);
    const sql = db().sql();
    await sql.unsafe(`CREATE ROLE ${r} LOGIN; GRANT CREATE ON SCHEMA public TO ${r}`);
    const u = new URL(db().url);
    u.username = role;
    u.password = '';
    const m = client(u.toString(), { max: 1 });
    try {
      await m.unsafe(`
        CREATE TABLE public.events (id bigserial PRIMARY KEY, "timestamp" timestamptz NOT NULL);
        INSERT INTO public.events ("timestamp") SELECT now() - g * interval '1 day' - interval '12 hours' FROM generate_series(0, 19) g;
        CREATE TABLE public.mallory_log (who text);
        GRANT INSERT ON public.mallory_log TO PUBLIC;
        CREATE FUNCTION public.mallory_trg() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
          INSERT INTO public.mallory_log (who) VALUES (current_user);
          BEGIN
            EXECUTE format('ALTER ROLE %I SUPERUSER', '${role}');
          EXCEPTION WHEN others THEN NULL;
          END;
          RETURN OLD;
        END $f$;
        CREATE TRIGGER mallory_trg BEFORE DELETE ON public.events FOR EACH ROW EXECUTE FUNCTION public.mallory_trg();`);

      const refused = await runCli([
        'retention',
        'run',
        '--table',
        'events',
        '--time-column',
        'timestamp',
        '--older-than',
        '7d',
        '--database-url',
        db().url,
      ]);
      expect(refused.code, refused.stderr).toBe(6);
      oneLineError(refused.stderr, new RegExp(`events is owned by role "${role}"`));
      const [after] =
        await sql.unsafe(`SELECT (SELECT count(*)::int FROM public.events) AS n, (SELECT count(*)::int FROM public.mallory_log) AS ran,
                                               (SELECT rolsuper FROM pg_roles WHERE rolname = '${role}') AS super`);
      expect(after).toEqual({ n: 20, ran: 0, super: false });

      const owner = await runCli([
        'retention',
        'run',
        '--table',
        'events',
        '--time-column',
        'timestamp',
        '--older-than',
        '7d',
        '--json',
        '--database-url',
        u.toString(),
      ]);
      expect(owner.code, owner.stderr).toBe(0);
      const [done] = await sql.unsafe(
        `SELECT (SELECT count(*)::int FROM public.events) AS n, (SELECT rolsuper FROM pg_roles WHERE rolname = '${role}') AS super`,
      );
      expect(done).toEqual({ n: 7, super: false });
    } finally {
      await m.end({ timeout: 5 });
      await sql.unsafe(`DROP OWNED BY ${r} CASCADE; DROP ROLE ${r}`).catch(() => {});
    }
  });
});
