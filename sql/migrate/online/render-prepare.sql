-- The statements that prepare an online migration, in order: the new table
-- (same columns, defaults, validated checks, comments, owner, grants and
-- column grants), made a hypertable (TimescaleDB's default time index only
-- where an in-place conversion would make one: no index on the time column alone),
-- with the old table's keys and indexes under temporary names; the change log;
-- the capture function (EXECUTE revoked from PUBLIC) and, last, the triggers
-- (the only step that locks the old table, SHARE ROW EXCLUSIVE, for milliseconds).
-- $1 table oid, $2 new table, $3 log table, $4 capture function, $5 time column,
-- $6 chunk interval, $7 index-name map (jsonb: old name -> temporary name).
WITH t AS (
    SELECT c.oid, n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relacl,
           obj_description(c.oid, 'pg_class') AS comment,
           EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = $5::name
                   WHERE i.indrelid = c.oid AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum
                     AND i.indexprs IS NULL AND i.indpred IS NULL) AS has_time_index
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid
), cols AS (
    SELECT string_agg(format('NEW.%I', a.attname), ', ' ORDER BY a.attnum) AS new_list,
           string_agg(format('OLD.%I', a.attname), ', ' ORDER BY a.attnum) AS old_list
    FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
), body AS (
    -- The capture function's body: names with %I, the message with %L, our
    -- table's OID as a literal. Attached to any other table (by a superuser,
    -- since nobody else may) it lets the row through and records nothing.
    SELECT format($f$
BEGIN
  IF TG_RELID <> %L::oid THEN
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
    RETURN NEW;
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION USING MESSAGE = %L,
      HINT = 'Run homepot-ts migrate-from-postgres to finish, or homepot-ts migrate-from-postgres abort.';
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO %I.%I SELECT %s, 'D';
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO %I.%I SELECT %s, 'I';
  END IF;
  RETURN NULL;
END
$f$, $1::oid, format('homepot-ts is migrating %I.%I to a hypertable: TRUNCATE is refused until it finishes', t.schema, t.name),
      t.schema, $3::text, cols.old_list, t.schema, $3::text, cols.new_list) AS text
    FROM t, cols
), stmts AS (
    SELECT 1 AS ord, 0 AS sub, format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING COMMENTS INCLUDING STORAGE)',
                                      t.schema, $2::text, t.schema, t.name) AS statement FROM t
    UNION ALL
    -- CHECK constraints the old table's rows were checked against. NOT VALID
    -- ones (rows older than them may break them) come after the copy, still
    -- NOT VALID (render-foreign-keys.sql): LIKE ... INCLUDING CONSTRAINTS
    -- would make them valid, and the copy would fail on those rows (23514).
    SELECT 1, row_number() OVER (ORDER BY con.conname)::int,
           format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', t.schema, $2::text, con.conname, pg_get_constraintdef(con.oid))
    FROM t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'c' AND con.convalidated
    UNION ALL
    SELECT 1, 1000, format('COMMENT ON TABLE %I.%I IS %L', t.schema, $2::text, t.comment) FROM t WHERE t.comment IS NOT NULL
    UNION ALL
    SELECT 2, 0, format('ALTER TABLE %I.%I OWNER TO %I', t.schema, $2::text, t.owner) FROM t WHERE t.owner <> current_user
    UNION ALL
    SELECT 3, 0, format('SELECT create_hypertable(%L::regclass, by_range(%L, %L::interval)%s)', format('%I.%I', t.schema, $2::text), $5::text, $6::text,
                        CASE WHEN t.has_time_index THEN ', create_default_indexes => false' ELSE '' END) FROM t
    UNION ALL
    -- primary key, unique and exclusion constraints (their indexes come with them)
    SELECT 4, row_number() OVER (ORDER BY con.contype, con.conname)::int,
           format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', t.schema, $2::text, $7::jsonb->>con.conname, pg_get_constraintdef(con.oid))
    FROM t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype IN ('p', 'u', 'x')
    UNION ALL
    -- other indexes: the definition with the new name and table
    SELECT 5, row_number() OVER (ORDER BY ic.relname)::int,
           format('CREATE %sINDEX %I ON %I.%I', CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,
                  $7::jsonb->>ic.relname::text, t.schema, $2::text)
           || substr(pg_get_indexdef(i.indexrelid), position(' USING ' IN pg_get_indexdef(i.indexrelid)))
    FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = t.oid)
    UNION ALL
    -- grants, as on the old table
    SELECT 6, row_number() OVER ()::int,
           format('GRANT %s ON %I.%I TO %s%s', acl.privilege_type, t.schema, $2::text,
                  CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END,
                  CASE WHEN acl.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
    FROM t, aclexplode(t.relacl) acl
    WHERE acl.grantee <> (SELECT relowner FROM pg_class WHERE oid = $1::oid)
    UNION ALL
    -- column grants (GRANT INSERT (device_id, ...) ...), as on the old table
    SELECT 6, 1000 + row_number() OVER (ORDER BY a.attnum)::int,
           format('GRANT %s (%I) ON %I.%I TO %s%s', acl.privilege_type, a.attname, t.schema, $2::text,
                  CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END,
                  CASE WHEN acl.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
    FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL,
         aclexplode(a.attacl) acl
    WHERE acl.grantee <> (SELECT relowner FROM pg_class WHERE oid = $1::oid)
    UNION ALL
    -- the change log: the table's columns, then the operation and its order
    SELECT 7, 0, format('CREATE TABLE %I.%I (LIKE %I.%I)', t.schema, $3::text, t.schema, t.name) FROM t
    UNION ALL
    SELECT 7, 1, format('ALTER TABLE %I.%I ADD COLUMN homepot_ts_op "char" NOT NULL, ADD COLUMN homepot_ts_seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
                        t.schema, $3::text) FROM t
    UNION ALL
    -- The capture function. SECURITY DEFINER: HOMEPOT's own role may write
    -- health_checks without any privilege on the log table. The body (below)
    -- goes into the statement as one literal (%L), never between dollar
    -- quotes: a column named "$body$..." would end a dollar quote, and the
    -- rest of its name would run as SQL with the operator's rights.
    SELECT 8, 0, format('CREATE FUNCTION %I.%I() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS %L',
                        t.schema, $4::text, body.text) FROM t, body
    UNION ALL
    -- Only our triggers call it: without EXECUTE nobody else can attach it to
    -- a table (firing a trigger needs no EXECUTE, so writers are unaffected).
    SELECT 8, 1, format('REVOKE EXECUTE ON FUNCTION %I.%I() FROM PUBLIC', t.schema, $4::text) FROM t
    UNION ALL
    SELECT 9, 0, format('LOCK TABLE %I.%I IN SHARE ROW EXCLUSIVE MODE', t.schema, t.name) FROM t
    UNION ALL
    SELECT 9, 1, format('CREATE TRIGGER homepot_ts_capture AFTER INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION %I.%I()',
                        t.schema, t.name, t.schema, $4::text) FROM t
    UNION ALL
    SELECT 9, 2, format('CREATE TRIGGER homepot_ts_capture_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.%I()',
                        t.schema, t.name, t.schema, $4::text) FROM t
)
SELECT statement FROM stmts ORDER BY ord, sub;
