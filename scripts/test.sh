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
