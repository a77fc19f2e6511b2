#!/usr/bin/env bash
# The supported Node.js versions other than the one CI's full suite runs on: for each, install
# that Node.js from the npm registry (the `node` package) into .cache/node/<version>, then run
# the tests that start the code the way a user does on that Node.js: the Knex CLI (migrate,
# seed, rollback), the goal-backfill executable, npm start, the installed package in a
# CommonJS, an ES module and a TypeScript app, yargs and PGlite loaded in process, and the
# backfill's own tests as a canary. Results go to $1/node-<version>.json for the closing line
# of .ci/run. The rest of the suite runs once, on the machine's Node.js: what differs between
# versions is how modules load and start, and the typecheck (lib es2023, @types/node 20.19)
# already refuses a language feature or Node.js API that 20.19 lacks.
# The default is the lowest release of each line `engines` admits below 24 (20.19.0, and
# 22.12.0, the first 22 that loads ES modules from require without a flag, which yargs 18
# needs) and the newest 26; 24 lies between them and is left out to keep CI short.
#   NODE_MATRIX="22.12.0 26" bash scripts/node-matrix.sh /tmp/results
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:?usage: node-matrix.sh <results-folder>}
mkdir -p "$results"
cache="${NODE_MATRIX_CACHE:-$PWD/.cache/node}"
read -r -a versions <<< "${NODE_MATRIX:-20.19.0 22.12.0 26}"
# Vitest filters: a file runs when its path contains one of them, so a file keeps its place
# here when it gains `.e2e.` in its name. Each must still match a test file (checked below).
filters=(
  test/migrations/knex-cli
  test/seed/index-knex-cli
  test/cli/bin.
  test/cli/main.
  test/config/knex-cli
  test/config/embedded.
  test/backfill/run.
  test/package/npm-start
  test/package/installed-cli
  test/package/app-kinds
)
for filter in "${filters[@]}"; do
  if ! find test -name '*.test.ts' | grep -qF "$filter"; then
    echo "scripts/node-matrix.sh: no test file matches $filter; update the list" >&2
    exit 1
  fi
done
for version in "${versions[@]}"; do
  dir="$cache/$version"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node@$version" >/dev/null
  fi
  bin="$dir/node_modules/node/bin"
  echo "Node.js $("$bin/node" --version): ${filters[*]}"
  PATH="$bin:$PATH" npx vitest run "${filters[@]}" --reporter=dot --reporter=json \
    --outputFile.json="$results/node-$version.json"
done
