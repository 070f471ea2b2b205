#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 + PostGIS cluster: its URL
# is in $CITYTWIN_PG (and replaces the word PGURL in the arguments).
# Example: bash scripts/with-postgis.sh go run ./cmd/citytwin bench index --pg PGURL
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/initdb" ] || { echo "with-postgis: install postgresql-15-postgis-3 (bash scripts/deps.sh)" >&2; exit 1; }
dir=$(mktemp -d /tmp/ctpgXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() { as_pg "$bin/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
as_pg "$bin/initdb" -D "$dir/pg" -A trust -U postgres >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/pg" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=512MB" -w -l "$dir/log" start >/dev/null
as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -qc "CREATE DATABASE citytwin" >/dev/null
as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -d citytwin -qc "CREATE EXTENSION postgis" >/dev/null
export CITYTWIN_PG="postgres://postgres@127.0.0.1:$port/citytwin?sslmode=disable"
args=()
for a in "$@"; do args+=("${a//PGURL/$CITYTWIN_PG}"); done
"${args[@]}"
