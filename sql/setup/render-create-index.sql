-- $1 index name, $2 schema, $3 table, $4 text[] columns, $5 bool[] descending.
SELECT format('CREATE INDEX IF NOT EXISTS %I ON %I.%I (%s)', $1::text, $2::text, $3::text,
              (SELECT string_agg(format('%I', c.col) || CASE WHEN c.descending THEN ' DESC' ELSE '' END, ', ' ORDER BY c.n)
               FROM unnest($4::text[], $5::text[]::boolean[]) WITH ORDINALITY AS c(col, descending, n))) AS statement;
