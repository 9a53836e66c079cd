-- On this server: which of the roles named on the source exist here. $1 role names.
SELECT r.rolname::text AS rolname FROM pg_catalog.pg_roles r WHERE r.rolname = ANY ($1::text[]);
