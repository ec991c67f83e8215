#!/usr/bin/env bash
# Runs the main job on the bundled example in a fresh git repository: validate, describe, build,
# roll out to dev, show status. Offline: local terraform state, images written as OCI layouts.
set -euo pipefail
project="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$project/.example/payment-service}"
atmos() { node "$project/dist/cli/bin.cjs" "$@"; }
has() { atmos deployment "$1" --help >/dev/null 2>&1; }

rm -rf "$dir"
mkdir -p "$dir"
cp -R "$project/examples/payment-service/." "$dir/"
cd "$dir"
git init -q -b main
git config user.name >/dev/null || git config user.name "Atmos Example"
git config user.email >/dev/null || git config user.email "example@atmos.invalid"
git add -A
git commit -q -m "payment-service example"

step() { printf '\n$ atmos %s\n' "$*"; atmos "$@"; }
step deployment validate --all
step deployment list
step deployment describe payment-service --target dev
step deployment promotion-graph payment-service
if has build; then step deployment build payment-service --target dev; fi
if has rollout; then step deployment rollout payment-service --target dev; fi
if has status; then step deployment status payment-service; fi
printf '\nThe example repository is %s\n' "$dir"
