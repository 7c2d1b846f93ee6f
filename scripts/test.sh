#!/usr/bin/env bash
# `npm test`: every suite, on a fresh machine too. The Redis tests start a real redis-server and the browser
# suite drives a real Chromium (both Debian packages): when one is missing, this installs it with apt-get (as
# root, or through passwordless sudo), or stops at once with one line that says what is missing and how to get
# it. Nothing is skipped: a suite that cannot run fails the command.
#
#   npm test                      everything: the main suite, then the browser suite
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

apt_updated=0
# Installs Debian package $2 so that command $1 exists, or fails with one line naming the manual step.
ensure() {
  local command_name=$1 package=$2 why=$3
  command -v "$command_name" >/dev/null 2>&1 && return 0
  local runner
  runner=$(apt_runner) || fail "$command_name is missing ($why); install Debian's $package first: sudo apt-get install $package"
  echo "npm test: $command_name is missing ($why); installing Debian's $package with apt-get" >&2
  if [ "$apt_updated" -eq 0 ]; then
    $runner apt-get update -qq >/dev/null || fail "apt-get update failed (no network to Debian's mirrors?); install $package by hand: sudo apt-get install $package"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $runner apt-get install -y -qq --no-install-recommends "$package" >/dev/null ||
    fail "apt-get install $package failed; install it by hand: sudo apt-get install $package"
  command -v "$command_name" >/dev/null 2>&1 || fail "$package is installed but $command_name is not on PATH"
}

ensure redis-server redis-server "the Redis fan-out tests start it"
if [ -n "${TIDELOG_CHROMIUM:-}" ]; then
  [ -x "$TIDELOG_CHROMIUM" ] || fail "TIDELOG_CHROMIUM=$TIDELOG_CHROMIUM is not an executable"
else
  ensure chromium chromium "the browser suite drives it"
  TIDELOG_CHROMIUM=$(command -v chromium)
fi
export TIDELOG_CHROMIUM

npx vitest run
npx vitest run -c vitest.browser.config.ts
