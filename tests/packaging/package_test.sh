#!/usr/bin/env bash
# The installation and the Debian package (docs/DEPLOY.md, "Installing and
# running as a service"), checked from a build directory where `chaton` is
# built:
#   1. `cmake --install --strip --prefix /usr` into a DESTDIR installs the
#      stripped binary, the man page, /etc/chaton/chaton.toml and the units,
#      whose ExecStart names the installed binary and configuration;
#   2. `systemd-analyze verify` accepts the units (ExecStart pointed at the
#      installed binary);
#   3. `cpack -G DEB` makes chaton_*.deb: its control says Depends (from
#      dpkg-shlibdeps, and adduser), the conffile and the maintainer scripts,
#      and it holds the stripped binary, the units, the man page and the config;
#   4. the binary extracted from the package (`dpkg-deb -x`), run with the
#      packaged example configuration (data dir and port changed), serves the
#      room.
#
#   package_test.sh BUILD_DIR
set -euo pipefail

build="$(cd "$1" && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/chaton-package.XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "-- $*"; }
for tool in systemd-analyze cpack dpkg-deb dpkg-shlibdeps file man curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup.sh test installs it)"
done

# 1. cmake --install
step "cmake --install --strip --prefix /usr into a DESTDIR"
root="$tmp/root"
DESTDIR="$root" cmake --install "$build" --prefix /usr --strip >"$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "cmake --install failed"; }
for f in usr/bin/chaton usr/share/man/man1/chaton.1 etc/chaton/chaton.toml etc/logrotate.d/chaton \
  usr/lib/systemd/system/chaton.service usr/lib/systemd/system/chaton.socket; do
  [ -f "$root/$f" ] || fail "cmake --install did not install /$f"
done
file "$root/usr/bin/chaton" | grep -q ", stripped" || fail "the installed chaton is not stripped: $(file "$root/usr/bin/chaton")"
grep -qx "ExecStart=/usr/bin/chaton serve --config /etc/chaton/chaton.toml" "$root/usr/lib/systemd/system/chaton.service" ||
  fail "chaton.service's ExecStart does not name /usr/bin/chaton and /etc/chaton/chaton.toml"
grep -qx 'data_dir = "/var/lib/chaton".*' "$root/etc/chaton/chaton.toml" || fail "the example config's data_dir is not /var/lib/chaton"

# 2. systemd-analyze verify, on copies whose ExecStart names the installed binary
step "systemd-analyze verify"
units="$tmp/units"
mkdir -p "$units"
sed "s|^ExecStart=/usr/bin/chaton |ExecStart=$root/usr/bin/chaton |" \
  "$root/usr/lib/systemd/system/chaton.service" >"$units/chaton.service"
cp "$root/usr/lib/systemd/system/chaton.socket" "$units/chaton.socket"
if ! SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$units/chaton.socket" "$units/chaton.service" \
  >"$tmp/verify.log" 2>&1 || grep -q "$units" "$tmp/verify.log"; then
  cat "$tmp/verify.log" >&2
  fail "systemd-analyze verify found problems in the units"
fi
for setting in "User=chaton" "StateDirectory=chaton" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
  "NoNewPrivileges=yes" "PrivateDevices=yes" "CapabilityBoundingSet=" \
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "SystemCallFilter=@system-service" "Requires=chaton.socket"; do
  grep -qx "$setting" "$units/chaton.service" || fail "chaton.service lacks $setting"
done

# 3. cpack -G DEB
step "cpack -G DEB"
(cd "$tmp" && cpack -G DEB -B "$tmp/pkg" --config "$build/CPackConfig.cmake" >"$tmp/cpack.log" 2>&1) ||
  { cat "$tmp/cpack.log"; fail "cpack -G DEB failed"; }
debs=("$tmp"/pkg/chaton_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then
  fail "cpack made not one chaton_*.deb: $(ls "$tmp/pkg")"
fi
deb="${debs[0]}"
depends="$(dpkg-deb -f "$deb" Depends)"
for dep in adduser libc6 libssl3 libboost-json1.81.0 libboost-url1.81.0 libtomlplusplus3 libaprutil1 libicu72 libpq5; do
  grep -q "\b$dep\b" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$tmp/control"
for member in postinst prerm postrm conffiles; do
  grep -qx "./$member" "$tmp/control" || fail "the package's control has no $member"
done
for script in postinst prerm postrm; do  # a syntax error would ship otherwise
  dpkg-deb --ctrl-tarfile "$deb" | tar -xO "./$script" | sh -n || fail "the package's $script is not valid sh"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/chaton/chaton.toml ||
  fail "/etc/chaton/chaton.toml is not a conffile"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/logrotate.d/chaton ||
  fail "/etc/logrotate.d/chaton is not a conffile"
dpkg-deb -c "$deb" >"$tmp/contents"
for f in ./usr/bin/chaton ./usr/share/man/man1/chaton.1 ./etc/chaton/chaton.toml ./etc/logrotate.d/chaton \
  ./usr/lib/systemd/system/chaton.service ./usr/lib/systemd/system/chaton.socket; do
  grep -q " $f\$" "$tmp/contents" || fail "the package lacks $f"
done

# 4. the packaged binary serves the room with the packaged configuration
step "the packaged binary serves the lobby"
x="$tmp/x"
dpkg-deb -x "$deb" "$x"
file "$x/usr/bin/chaton" | grep -q ", stripped" || fail "the packaged chaton is not stripped"
MANWIDTH=80 man -l "$x/usr/share/man/man1/chaton.1" 2>"$tmp/man.err" | grep -q "chaton serve" ||
  fail "the man page does not render: $(cat "$tmp/man.err")"
[ ! -s "$tmp/man.err" ] || fail "the man page renders with warnings: $(cat "$tmp/man.err")"
sed -e "s|^data_dir = \"/var/lib/chaton\"|data_dir = \"$tmp/data\"|" -e 's|^listen *= .*|listen = "127.0.0.1:0"|' \
  "$x/etc/chaton/chaton.toml" >"$tmp/chaton.toml"
"$x/usr/bin/chaton" serve --config "$tmp/chaton.toml" >"$tmp/serve.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 100); do
  url="$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*/' "$tmp/serve.log" | head -1 | sed 's/^listening on //')" || true
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/serve.log"; fail "the packaged chaton exited"; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$tmp/serve.log"; fail "the packaged chaton did not start listening"; }
curl -fsS --max-time 10 "${url}lobby/" | grep -q "Lobby" || fail "the lobby page was not served"
curl -fsS --max-time 10 -d nick=pkg --data-urlencode "text=from the package" "${url}lobby/post" >/dev/null ||
  fail "posting failed"
grep -q "from the package" "$tmp/data/lobby/data/current.dat" || fail "the post is not in $tmp/data/lobby"
kill "$server_pid"
wait "$server_pid" || true
server_pid=""
echo "packaging: all checks passed ($(basename "$deb"))"
