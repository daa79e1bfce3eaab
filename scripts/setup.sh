#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages), then configures and builds
# Chaton into build/. Safe to run again: it only installs what is absent and
# rebuilds what changed.
#
#   bash scripts/setup.sh serve   # what serving needs; builds only `chaton`
#   bash scripts/setup.sh test    # also the test tools; builds everything
#
# `serve` (scripts/serve.sh) installs the compiler, CMake, Ninja and the
# libraries `chaton` links, and configures with -DCHATON_TESTS=OFF, so neither
# GoogleTest nor any test program is needed or built. `test` (scripts/test.sh,
# .ci/run) adds GoogleTest, Chromium, playwright-core and axe-core (npm, pinned in
# package-lock.json, installed with `npm ci` when node_modules is missing or
# the lock file changed) for the browser tests, clang for the fuzz targets,
# PostgreSQL and nginx for the integration tests, and the Debian packaging
# tools the packaging tests use (tests/packaging).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
case "$mode" in
  serve | test) ;;
  *)
    echo "usage: bash scripts/setup.sh serve|test" >&2
    exit 2
    ;;
esac

# What building and running the server needs.
serve_packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libtomlplusplus-dev libcli11-dev libssl-dev libaprutil1-dev
  libicu-dev zlib1g-dev
  libpq-dev  # the PostgreSQL store's client library (the server itself is not needed)
  file  # cpack -G DEB (docs/DEPLOY.md) reads the binary's dependencies with it
)
# What the tests add.
test_packages=(
  libgtest-dev
  chromium  # the browser tests (tests/browser)
  clang libclang-rt-14-dev  # the fuzz targets (scripts/fuzz.sh): clang++ and libFuzzer
  postgresql  # the tests' throw-away cluster (scripts/pg_cluster.sh)
  nginx  # the proxy tests: several nodes behind the nginx of docs/scaling-nginx.md (tests/integration/lib/nginx.mjs)
  dpkg-dev file man-db systemd curl  # the packaging tests (tests/packaging): dpkg-shlibdeps, man, systemd-analyze
  python3  # the socket-activation test's launcher (tests/integration/lib/socket_activate.py)
)

# install_missing PACKAGE...: apt-get installs those not installed yet.
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "setup: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build_type="${CHATON_BUILD_TYPE:-RelWithDebInfo}"
if [ "$mode" = serve ]; then
  install_missing "${serve_packages[@]}"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DCHATON_TESTS=OFF >/dev/null
  cmake --build build --target chaton
  exit 0
fi

packages=("${serve_packages[@]}" "${test_packages[@]}")
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
install_missing "${packages[@]}"

# The browser tests' dependencies, from package-lock.json; re-installed only
# when the lock file is not the one installed last.
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
lock_stamp=node_modules/.chaton-package-lock.sha256
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ] || [ "$(cat "$lock_stamp" 2>/dev/null)" != "$lock_sum" ]; then
  echo "setup: npm ci (browser test dependencies)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$lock_stamp"
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DCHATON_TESTS=ON >/dev/null
cmake --build build
