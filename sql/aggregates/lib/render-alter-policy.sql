-- Change a refresh policy's offsets and schedule, keeping the rest of its config.
-- $1 job id, $2 current config (jsonb), $3 start offset (NULL: from the beginning), $4 end offset, $5 schedule.
SELECT format('SELECT alter_job(%s, schedule_interval => %L::interval, config => %L::jsonb)',
              $1::int, $5::text,
              jsonb_set(jsonb_set($2::text::jsonb, '{start_offset}', coalesce(to_jsonb($3::text), 'null'::jsonb)),
                        '{end_offset}', to_jsonb($4::text))) AS statement;
