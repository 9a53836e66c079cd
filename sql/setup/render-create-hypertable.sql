-- $1 schema, $2 table, $3 time column, $4 chunk interval, $5 migrate existing rows.
SELECT format('SELECT create_hypertable(%L::regclass, by_range(%L, %L::interval)%s)',
              format('%I.%I', $1::text, $2::text), $3::text, $4::text,
              CASE WHEN $5::boolean THEN ', migrate_data => true' ELSE '' END) AS statement;
