#!/usr/bin/env bash
# Runs every check and test of CityTwin: gofmt, go vet, staticcheck (pinned
# in go.mod as a tool) and the Go tests of every package. Tests that need the
# team's reference data read ../shared/data and skip with a message without it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(find . -name '*.go' -not -path './viewer/node_modules/*' -print0 | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go tool staticcheck ./...

echo "== go test"
go test -count=1 ./...

echo "== viewer: dist matches web/, browser tests in headless Chromium"
if command -v npm >/dev/null && [ -x /usr/bin/chromium ]; then
	bash viewer/check-dist.sh
	(cd viewer/e2e && npm ci --no-audit --no-fund && node --test --test-timeout=180000)
elif [ "${CI:-}" = true ]; then
	echo "the viewer checks need npm and chromium: bash scripts/deps.sh" >&2
	exit 1
else
	echo "skipping the viewer build check and browser tests: no npm or /usr/bin/chromium (bash scripts/deps.sh installs them)"
fi
