#!/usr/bin/env bash
# Build the image and check that its HEALTHCHECK reports healthy for a server on a
# custom --port, plain and with TLS. Usage: scripts/image-test.sh [docker|podman]
# (needs a registry that serves the node base image).
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:-docker}
tag=elastic-artifact-mirror:ci-$$
work=$(mktemp -d)
containers=()
cleanup() {
	for id in "${containers[@]}"; do "$engine" rm -f "$id" >/dev/null 2>&1 || true; done
	"$engine" rmi -f "$tag" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

"$engine" build --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
	--build-arg CREATED="$(date -u +%FT%TZ)" -t "$tag" .

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
chmod 644 "$work"/*.pem

healthy() { # name, then the arguments of serve
	local name=$1; shift
	local id
	id=$("$engine" run -d --health-interval=2s -v "$work:/certs:ro" "$tag" serve "$@")
	containers+=("$id")
	for _ in $(seq 60); do
		status=$("$engine" inspect --format '{{.State.Health.Status}}' "$id")
		[ "$status" = healthy ] && { echo "image: $name: healthy"; return 0; }
		sleep 1
	done
	echo "image: $name: $status after 60 s" >&2
	"$engine" logs "$id" >&2 || true
	return 1
}

healthy 'plain HTTP on --port 9090' --port 9090
healthy 'TLS on --port 8443' --port 8443 --tls-cert /certs/cert.pem --tls-key /certs/key.pem
