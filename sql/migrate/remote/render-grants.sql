-- On this server: the grants of a table copied from another server, rendered
-- here from the facts read there (privileges.sql), for the roles that exist
-- here; privilege words outside the allow-list below are never rendered.
-- $1 schema, $2 table, $3 the grants as JSON [{column_name, is_sequence,
-- seq_schema, sequence, grantee (NULL: PUBLIC), privilege, grantable}]
-- (sequence: the name of the column's sequence here; seq_schema: its schema
-- when not the table's).
SELECT pg_catalog.format('GRANT %s%s ON %s TO %s%s',
           g.privilege,
           CASE WHEN g.column_name IS NOT NULL AND NOT g.is_sequence THEN pg_catalog.format(' (%I)', g.column_name) ELSE '' END,
           CASE WHEN g.is_sequence THEN pg_catalog.format('SEQUENCE %I.%I', coalesce(g.seq_schema, $1::text), g.sequence)
                ELSE pg_catalog.format('TABLE %I.%I', $1::text, $2::text) END,
           CASE WHEN g.grantee IS NULL THEN 'PUBLIC' ELSE pg_catalog.quote_ident(g.grantee) END,
           CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END) AS statement
FROM pg_catalog.jsonb_to_recordset($3::text::pg_catalog.jsonb)
     AS g(column_name text, is_sequence boolean, seq_schema text, sequence text, grantee text, privilege text, grantable boolean)
WHERE (g.is_sequence AND g.privilege IN ('USAGE', 'SELECT', 'UPDATE') AND g.sequence IS NOT NULL
       OR NOT g.is_sequence AND g.column_name IS NULL AND g.privilege IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER')
       OR NOT g.is_sequence AND g.column_name IS NOT NULL AND g.privilege IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES'))
  AND (g.grantee IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = g.grantee));
