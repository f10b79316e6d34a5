#!/usr/bin/env bash
# Installs the servers the test suite starts, where they are missing (Debian packages).
# Tests start and stop them themselves; this only makes sure the binaries exist.
set -euo pipefail

need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if ! command -v runuser >/dev/null 2>&1; then
  need+=(util-linux)
fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-services: missing ${need[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  echo "install-test-services: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
