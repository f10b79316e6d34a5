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
# as_mount() of remote datastores: fusepy needs libfuse 2; fusermount (package fuse) unmounts.
if ! ldconfig -p 2>/dev/null | grep -q 'libfuse\.so\.2'; then
  need+=(libfuse2)
fi
if ! command -v fusermount >/dev/null 2>&1; then
  need+=(fuse)
fi
# The studio's browser tests drive Debian's Chromium through Playwright (tests/studio/conftest.py).
if [ ! -x /usr/bin/chromium ]; then
  need+=(chromium)
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

# Azurite (the Azure Storage emulator) from npm, into the project's ignored .services/azurite.
# Pinned; a second run finds the same version there and does nothing (no npm, no network).
AZURITE_VERSION=3.37.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
azurite_dir="$here/.services/azurite"
azurite_pkg="$azurite_dir/node_modules/azurite/package.json"
if ! grep -q "\"version\": \"$AZURITE_VERSION\"" "$azurite_pkg" 2>/dev/null \
   || [ ! -x "$azurite_dir/node_modules/.bin/azurite-blob" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-test-services: Azurite needs npm (Node.js >= 18); install nodejs and npm" >&2
    exit 1
  fi
  echo "install-test-services: installing Azurite $AZURITE_VERSION into .services/azurite (npm)"
  mkdir -p "$azurite_dir"
  npm install --prefix "$azurite_dir" --no-audit --no-fund --no-save --loglevel=error \
    "azurite@$AZURITE_VERSION" >/dev/null
fi
