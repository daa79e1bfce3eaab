#!/usr/bin/env bash
# Installs what the build needs (Debian 12 packages) when it is missing, then
# configures and builds Chaton into build/. Safe to run again: it only
# installs what is absent and rebuilds what changed. The browser tests also
# need Chromium (Debian's package) and playwright-core (npm, pinned in
# package-lock.json), installed with `npm ci` when node_modules is missing or
# the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libtomlplusplus-dev libcli11-dev libgtest-dev libssl-dev libaprutil1-dev
  libicu-dev zlib1g-dev
  chromium
  clang libclang-rt-14-dev  # the fuzz targets (scripts/fuzz.sh): clang++ and libFuzzer
  postgresql libpq-dev  # the PostgreSQL store (libpq) and its tests' throw-away cluster (scripts/pg_cluster.sh)
  nginx  # the proxy tests: several nodes behind the nginx of docs/scaling-nginx.md (tests/integration/lib/nginx.mjs)
)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The browser tests' dependencies, from package-lock.json; re-installed only
# when the lock file is not the one installed last.
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
lock_stamp=node_modules/.chaton-package-lock.sha256
if [ ! -d node_modules/playwright-core ] || [ "$(cat "$lock_stamp" 2>/dev/null)" != "$lock_sum" ]; then
  echo "setup: npm ci (browser test dependencies)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$lock_stamp"
fi

build_type="${CHATON_BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build build
