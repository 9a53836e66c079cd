-- $1 schema, $2 name. No CASCADE: a view built on the aggregate makes the drop fail and is named.
SELECT format('DROP MATERIALIZED VIEW IF EXISTS %I.%I', $1::text, $2::text) AS statement;
