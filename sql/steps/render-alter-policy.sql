-- Change one interval in a policy job's config, keeping the rest.
-- $1 job id, $2 current config (jsonb), $3 config key, $4 interval.
SELECT format('SELECT alter_job(%s, config => %L::jsonb)',
              $1::int, jsonb_set($2::text::jsonb, ARRAY[$3::text], to_jsonb($4::text))) AS statement;
