#!/usr/bin/env bash
# `npm test`: every suite, on a fresh machine too. The Redis tests start a real redis-server and the browser
# suite drives a real Chromium (both Debian packages): when one is missing, this installs it with apt-get (as
# root, or through passwordless sudo), or stops at once with one line that says what is missing and how to get
# it. Nothing is skipped: a suite that cannot run fails the command.
#
#   npm test                      everything: the main suite, the browser suite, then the consumer suite
#   npm test -- test/core         only those vitest files of the main suite (no installs, no browser suite)
#   TIDELOG_CHROMIUM=/path npm test   another Chromium binary
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then
  exec npx vitest run "$@"
fi

fail() {
  echo "npm test: $*" >&2
  exit 1
}

# How this process may run apt-get: directly as root, through passwordless sudo, or not at all.
apt_runner() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$(id -u)" -eq 0 ]; then
    echo ""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "sudo -n"
  else
    return 1
  fi
}

# Every missing command, as "name|why" (each is the Debian package of the same name); then one install, or
# one line saying what to install.
missing=()
need() {
  command -v "$1" >/dev/null 2>&1 || missing+=("$1|$2")
}
need redis-server "the Redis fan-out tests start it"
if [ -n "${TIDELOG_CHROMIUM:-}" ]; then
  [ -x "$TIDELOG_CHROMIUM" ] || fail "TIDELOG_CHROMIUM=$TIDELOG_CHROMIUM is not an executable"
else
  need chromium "the browser suite drives it"
fi

if [ "${#missing[@]}" -gt 0 ]; then
  packages=() reasons=()
  for entry in "${missing[@]}"; do
    packages+=("${entry%%|*}")
    reasons+=("${entry%%|*} (${entry#*|})")
  done
  what=$(IFS=,; echo "${reasons[*]}" | sed 's/,/, /g')
  runner=$(apt_runner) || fail "missing $what; install first: sudo apt-get install ${packages[*]}"
  echo "npm test: missing $what; installing with apt-get" >&2
  $runner apt-get update -qq >/dev/null || fail "apt-get update failed (no network to Debian's mirrors?); install by hand: sudo apt-get install ${packages[*]}"
  DEBIAN_FRONTEND=noninteractive $runner apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null ||
    fail "apt-get install ${packages[*]} failed; install by hand: sudo apt-get install ${packages[*]}"
  for package in "${packages[@]}"; do
    command -v "$package" >/dev/null 2>&1 || fail "$package is installed but not on PATH"
  done
fi
if [ -z "${TIDELOG_CHROMIUM:-}" ]; then TIDELOG_CHROMIUM=$(command -v chromium); fi
export TIDELOG_CHROMIUM

npx vitest run
npx vitest run -c vitest.browser.config.ts
# The package as a consumer installs it (npm pack, a temporary project): about a minute.
npx vitest run -c vitest.package.config.ts
