#!/usr/bin/env bash
# Installs what the tests need on a Debian machine with Go (run as root):
# gcc for cgo (h3-go), PostgreSQL 15 with PostGIS 3 (the PostGIS store
# tests start their own throwaway clusters), Mosquitto (MQTT ingest tests),
# Chromium and Node.js/npm (the viewer's browser tests). Installs nothing that is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v gcc >/dev/null || need+=(gcc)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)
# Debian's Chromium and Node.js/npm, for the viewer's build check and
# browser tests (playwright-core drives /usr/bin/chromium).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null || need+=(nodejs npm)
# Mosquitto, for the MQTT ingest tests (they start their own brokers).
[ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: need root to install: ${need[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${need[@]}"
fi
