#!/usr/bin/env bash
# The supported Node.js versions other than the one CI's full suite runs on: for each, install
# that Node.js from the npm registry (the `node` package) into .cache/node/<version>, then run
# the tests of every user path on it: migrate, seed, backfill, rollback, status, the CLI and
# npm start. Results go to $1/<version>.json for the closing line of .ci/run.
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
files=(
  test/migrations
  test/seed/knex-seed-cli.test.ts
  test/backfill/run.test.ts
  test/backfill/lanes.test.ts
  test/rollback
  test/status
  test/cli
  test/package/npm-start.test.ts
)
for version in "${versions[@]}"; do
  dir="$cache/$version"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node@$version" >/dev/null
  fi
  bin="$dir/node_modules/node/bin"
  echo "Node.js $("$bin/node" --version): ${files[*]}"
  PATH="$bin:$PATH" npx vitest run "${files[@]}" --reporter=dot --reporter=json \
    --outputFile.json="$results/node-$version.json"
done
