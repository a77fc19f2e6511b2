#!/usr/bin/env bash
# Packs goal-backfill, installs the tarball in a scratch consumer app built from
# docs/examples/consumer, type-checks the consumer's TypeScript use of the package, and runs the
# consumer's own Knex migrations (with the backfill) against a scratch database on the server.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
database="goal_backfill_consumer_$$"
work=$(mktemp -d)
trap 'psql "$server" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cd "$root"
npm run --silent build
tarball="$work/$(npm pack --silent --pack-destination "$work")"

cp -r "$root/docs/examples/consumer" "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "$tarball" "knex@$(node -p "require('$root/node_modules/knex/package.json').version")" \
  "pg@$(node -p "require('$root/node_modules/pg/package.json').version")" \
  "@types/node@$(node -p "require('$root/node_modules/@types/node/package.json').version")"
"$root/node_modules/.bin/tsc" -p tsconfig.json
echo "consumer: the package's types check"

psql "$server" -qc "CREATE DATABASE $database"
url="${server%/*}/$database"
export DATABASE_URL="$url" GOAL_BACKFILL_LOG_LEVEL=warn
npx knex migrate:up >/dev/null
psql "$url" -q <<'SQL'
INSERT INTO users (id, role, full_name, email) VALUES
  ('00000000-0000-4000-8000-000000000001', 'patient', 'P', 'p@example.test');
INSERT INTO therapy_sessions (patient_id, session_date, extracted_notes) VALUES
  ('00000000-0000-4000-8000-000000000001', '2024-01-01', '{"action_items":[{"task":"Walk"},{"task":" "}]}'),
  ('00000000-0000-4000-8000-000000000001', '2024-02-01', '{"action_items":[{"task":"Walk"},{"task":"Read"}]}');
SQL
npx knex migrate:latest >/dev/null
goals=$(psql "$url" -Atc "SELECT count(*) FROM treatment_goals WHERE origin = 'backfill'")
[ "$goals" = "2" ] || { echo "consumer: expected 2 backfilled goals, found $goals" >&2; exit 1; }
npx knex migrate:down >/dev/null
left=$(psql "$url" -Atc "SELECT count(*) FROM treatment_goals")
[ "$left" = "0" ] || { echo "consumer: rollback left $left goals" >&2; exit 1; }
echo "consumer: migrate:latest backfilled $goals goals from the packed tarball; migrate:down removed them"
