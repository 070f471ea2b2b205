#!/usr/bin/env bash
# Rebuilds the viewers from viewer/web with the locked packages and fails if
# the result differs from the committed viewer/dist (the build is
# deterministic). On a difference the fresh build is left in place: commit
# it. Needs Node.js and npm; go build needs neither.
set -euo pipefail
cd "$(dirname "$0")"

before=$(mktemp)
after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
sums() { (cd dist && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }

[ -d dist ] && sums >"$before"
(cd web && npm ci --no-audit --no-fund && npm run build)
sums >"$after"
if ! diff -u "$before" "$after"; then
	echo "viewer/dist is stale: it differs from a build of viewer/web (above); commit the rebuilt viewer/dist" >&2
	exit 1
fi
# Inside a git work tree, also catch files the build writes that git
# does not know (nothing to compare in a tree that has not added dist yet).
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -n "$(git ls-files dist)" ]; then
	untracked=$(git ls-files --others --exclude-standard dist)
	if [ -n "$untracked" ] || ! git diff --quiet -- dist; then
		echo "viewer/dist differs from git:" >&2
		git status --short -- dist >&2
		exit 1
	fi
fi
echo "viewer/dist matches viewer/web"
