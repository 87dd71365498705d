#!/usr/bin/env bash
# Build the image and smoke-test it: ready, a chat call with the master key, no key -> 401, non-root,
# no compilers, a read-only root with /data the only writable path, SIGTERM -> drained exit 0.
#   deploy/docker/smoke.sh            (podman; PYTHON_IMAGE=... to build on another base image)
# On machines like this project's (cgroup v1 hybrid, no CAP_SYS_RESOURCE) podman needs runc and
# explicit ulimits: PODMAN="podman --runtime runc" and the ULIMITS below are the defaults here.
set -euo pipefail
cd "$(dirname "$0")/../.."
podman_cmd=${PODMAN:-podman --runtime runc}
ulimits=${ULIMITS:---ulimit nofile=20000:20000 --ulimit nproc=32768:32768}
tag=${TAG:-localhost/routeiq:smoke}
port=${PORT:-4100}
key=sk-smoke-0123456789abcdef
build_args=()
[ -n "${PYTHON_IMAGE:-}" ] && build_args=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
fail() { echo "smoke: FAIL: $*" >&2; $podman_cmd logs riq-smoke 2>&1 | tail -20 >&2 || true; exit 1; }

# shellcheck disable=SC2086
$podman_cmd build --format docker $ulimits "${build_args[@]}" -t "$tag" .
$podman_cmd rm -f riq-smoke >/dev/null 2>&1 || true
# shellcheck disable=SC2086
$podman_cmd run -d --name riq-smoke $ulimits -p "$port:4000" --read-only --read-only-tmpfs=false \
  --tmpfs /data:rw,U -e ROUTEIQ_SECURITY__MASTER_KEY=$key "$tag" >/dev/null
trap '$podman_cmd rm -f riq-smoke >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 60); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/health/ready")" = 200 ] && break
  sleep 0.5
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/health/ready")" = 200 ] || fail "not ready"
chat='{"model":"demo","messages":[{"role":"user","content":"hi"}]}'
code=$(curl -s -o /tmp/riq-smoke-chat.json -w '%{http_code}' "localhost:$port/v1/chat/completions" \
  -H "authorization: Bearer $key" -H 'content-type: application/json' -d "$chat")
[ "$code" = 200 ] || fail "chat answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/v1/chat/completions" \
  -H 'content-type: application/json' -d "$chat")
[ "$code" = 401 ] || fail "chat without a key answered $code"
[ "$($podman_cmd exec riq-smoke id -u)" = 10001 ] || fail "not running as 10001"
$podman_cmd exec riq-smoke sh -c 'for c in gcc cc g++ clang make; do command -v $c && exit 1; done; exit 0' \
  || fail "a compiler is in the runtime image"
$podman_cmd exec riq-smoke sh -c 'awk '"'"'$2 == "/" && $4 !~ /^ro/ {exit 1}'"'"' /proc/mounts && touch /data/x' \
  || fail "the root filesystem is writable or /data is not"
start=$(date +%s)
$podman_cmd stop -t 40 riq-smoke >/dev/null
status=$($podman_cmd inspect riq-smoke --format '{{.State.ExitCode}}')
[ "$status" = 0 ] || fail "exit status $status after SIGTERM"
echo "smoke: OK ($tag: ready, chat 200, no key 401, uid 10001, no compilers, read-only root, SIGTERM -> exit 0 in $(( $(date +%s) - start )) s; $($podman_cmd image inspect "$tag" --format '{{.Size}}') bytes)"
