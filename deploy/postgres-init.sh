#!/bin/sh
# One database and one login role per Wspólnota service; each role owns only its own database.
#
# The postgres image runs this once, on the first start with an empty data volume
# (/docker-entrypoint-initdb.d). It is idempotent, so it can also be run by hand later, e.g. to
# set new passwords after changing them in .env:
#   docker compose exec postgres sh /docker-entrypoint-initdb.d/10-wspolnota.sh
# Passwords come from <SERVICE>_DB_PASSWORD (NEEDS_DB_PASSWORD, ...); psql quotes them.
set -eu

for service in needs volunteers matching notify community auth; do  # auth: staff accounts (the front door)
    var="$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="$(printenv "$var" || true)"
    if [ -z "$password" ]; then
        echo "postgres-init: $var is not set" >&2
        exit 1
    fi
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
         -v svc="$service" -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'svc')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'svc') \gexec
ALTER ROLE :"svc" WITH LOGIN PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'svc', :'svc', 'UTF8')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'svc') \gexec
REVOKE ALL ON DATABASE :"svc" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"svc" TO :"svc";
SQL
    echo "postgres-init: database and role '$service' ready"
done
