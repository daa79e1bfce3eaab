#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests, the one piece of code that
# the C++ tests (tests/support/pg_cluster.h), the Node tests
# (tests/integration/lib/pg.mjs) and CTest's `pg` fixture use.
#
#   pg_cluster.sh start DIR          a fresh cluster in DIR, on a free port of
#                                    127.0.0.1; prints its URL as the last line
#   pg_cluster.sh stop DIR [--remove]  stops it (fine if already stopped);
#                                    --remove deletes DIR too
#   pg_cluster.sh restart DIR        stops and starts it again on the SAME port
#   pg_cluster.sh createdb DIR NAME  an empty database NAME owned by chaton;
#                                    prints its URL
#   pg_cluster.sh check              exits 0 when the server binaries are
#                                    installed (prints their folder), else 2
#
# `start` runs initdb (trust authentication, UTF-8), creates the role
# `chaton` (LOGIN, CREATEDB) and its database `chaton`, and writes
#   DIR/url   postgresql://chaton@127.0.0.1:PORT/chaton
#   DIR/port  PORT
#   DIR/log   the server's log (initdb's output first)
# A cluster already in DIR is stopped and replaced. fsync and
# synchronous_commit stay on: the tests check the store's durability.
# Only TCP on 127.0.0.1 is used by clients; the server's Unix socket lies in
# the cluster's own folder, so clusters never share a lock file.
#
# initdb refuses to run as root, so as root the cluster belongs to `nobody`
# (the files it writes are chowned to it). If `nobody` cannot reach DIR (a
# parent folder without o+x, say /root), the cluster's files go to a private
# folder under /tmp instead, recorded in DIR/rundir, with DIR/log pointing at
# its log; `stop --remove` removes both.
#
# The binaries are found with `pg_config --bindir`, else the newest
# /usr/lib/postgresql/*/bin; PG_BINDIR=FOLDER looks there only. Without them every
# command exits 2 saying "PostgreSQL server binaries not installed".
set -euo pipefail

readonly PG_USER=nobody PG_GROUP=nogroup
readonly PORT_TRIES=20          # fresh ports tried when the chosen one is taken
readonly START_TIMEOUT_S=60     # pg_ctl -w -t
readonly SOCKET_PATH_MAX=100    # a Unix socket path must fit in sun_path (108)

die() {
  echo "pg_cluster.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start DIR | stop DIR [--remove] | restart DIR | createdb DIR NAME | check" >&2
  exit 64
}

# The folder of initdb, pg_ctl, postgres and psql, or exit 2.
find_bindir() {
  local candidates=() d
  if [ -n "${PG_BINDIR:-}" ]; then
    candidates+=("$PG_BINDIR")  # only there
  else
    if command -v pg_config >/dev/null 2>&1; then
      d="$(pg_config --bindir 2>/dev/null || true)"
      [ -n "$d" ] && candidates+=("$d")
    fi
    while IFS= read -r d; do candidates+=("$d"); done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
  fi
  for d in "${candidates[@]}"; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return
    fi
  done
  echo "pg_cluster.sh: PostgreSQL server binaries not installed (initdb, pg_ctl, postgres; Debian's postgresql package, which scripts/setup.sh installs)" >&2
  exit 2
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the cluster's owner: `nobody` when we are root.
as_owner() {
  if is_root; then
    (cd / && setpriv --reuid="$PG_USER" --regid="$PG_GROUP" --clear-groups -- "$@")
  else
    "$@"
  fi
}

psql_cmd() {  # psql_cmd PORT USER DB ARGS...: psql over TCP, no ~/.psqlrc
  local port="$1" user="$2" db="$3"
  shift 3
  local psql="$BINDIR/psql"
  [ -x "$psql" ] || psql="$(command -v psql)" || die "psql not found"
  "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$user" -d "$db" "$@"
}

# The folder holding data/ and the socket: DIR, or the one in DIR/rundir.
run_dir() {
  if [ -f "$DIR/rundir" ]; then cat "$DIR/rundir"; else echo "$DIR"; fi
}

# Whether `nobody` can reach and write a folder; names the first parent
# that stops it otherwise.
owner_can_use() {
  local dir="$1" p=""
  as_owner test -w "$dir" -a -x "$dir" 2>/dev/null && return 0
  local IFS=/
  for part in ${dir#/}; do
    p="$p/$part"
    if ! as_owner test -x "$p" 2>/dev/null; then
      echo "pg_cluster.sh: user $PG_USER cannot traverse $p (no o+x); the cluster goes under /tmp instead" >&2
      return 1
    fi
  done
  return 1
}

is_running() {  # is_running RUN
  [ -f "$1/data/postmaster.pid" ] || return 1
  [ -n "${BINDIR:-}" ] || BINDIR="$(find_bindir)"
  as_owner "$BINDIR/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

stop_cluster() {
  local run
  run="$(run_dir)"
  if is_running "$run"; then
    as_owner "$BINDIR/pg_ctl" -D "$run/data" stop -m fast -w -t "$START_TIMEOUT_S" >/dev/null ||
      die "could not stop the cluster in $run/data (see $DIR/log)"
  fi
}

# A port that nothing listens on now, outside Linux's ephemeral range (where
# the tests' port-0 listeners land).
pick_port() {
  local port
  for _ in $(seq 50); do
    port=$((15000 + RANDOM % 17000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

# launch PORT: starts the server; returns 3 when the port was taken.
launch() {
  local port="$1" run log_size out
  run="$(run_dir)"
  log_size="$(stat -c %s "$run/log" 2>/dev/null || echo 0)"
  if out="$(as_owner "$BINDIR/pg_ctl" -D "$run/data" -l "$run/log" -w -t "$START_TIMEOUT_S" \
    -o "-p $port" start 2>&1)"; then
    return 0
  fi
  if tail -c +"$((log_size + 1))" "$run/log" 2>/dev/null | grep -q "could not bind\|Address already in use\|could not create any TCP/IP sockets"; then
    return 3
  fi
  echo "$out" >&2
  tail -n 20 "$run/log" >&2 2>/dev/null || true
  die "the server did not start (see $DIR/log)"
}

cmd_start() {
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  stop_cluster
  local old_run
  old_run="$(run_dir)"
  [ "$old_run" != "$DIR" ] && rm -rf "$old_run"
  rm -rf "$DIR/data" "$DIR/log" "$DIR/url" "$DIR/port" "$DIR/rundir"

  local run="$DIR"
  if is_root; then
    chown "$PG_USER:$PG_GROUP" "$DIR"
    chmod 700 "$DIR"
    if ! owner_can_use "$DIR"; then
      run="$(mktemp -d /tmp/chaton-pg.XXXXXXXX)"
      chown "$PG_USER:$PG_GROUP" "$run"
      chmod 700 "$run"
      echo "$run" >"$DIR/rundir"
      ln -s "$run/log" "$DIR/log"
    fi
  fi
  touch "$run/log"
  is_root && chown "$PG_USER:$PG_GROUP" "$run/log"
  local socket_dir
  if [ "$(printf %s "$run/.s.PGSQL.65535" | wc -c)" -le "$SOCKET_PATH_MAX" ]; then
    socket_dir="$run"
  else
    socket_dir=""  # too long for a socket path: TCP only
  fi

  local init_opts=(-D "$run/data" -A trust -U postgres --no-sync -E UTF8)
  if ! as_owner "$BINDIR/initdb" "${init_opts[@]}" --locale=C.UTF-8 >>"$run/log" 2>&1; then
    rm -rf "$run/data"  # no C.UTF-8 locale here: the plain C locale
    as_owner "$BINDIR/initdb" "${init_opts[@]}" --no-locale >>"$run/log" 2>&1 ||
      { tail -n 20 "$run/log" >&2; die "initdb failed (see $DIR/log)"; }
  fi
  cat >>"$run/data/postgresql.conf" <<EOF

# pg_cluster.sh: a throw-away cluster for the tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$socket_dir'
max_connections = 200
shared_buffers = 32MB
fsync = on
synchronous_commit = on
full_page_writes = on
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF

  local port tries=0 rc
  while :; do
    port="$(pick_port)"
    rc=0
    launch "$port" || rc=$?
    [ "$rc" -eq 0 ] && break
    tries=$((tries + 1))
    [ "$tries" -lt "$PORT_TRIES" ] || die "no port could be bound after $PORT_TRIES tries"
  done
  echo "$port" >"$DIR/port"

  psql_cmd "$port" postgres postgres -c "CREATE ROLE chaton LOGIN CREATEDB" \
    -c "CREATE DATABASE chaton OWNER chaton" >/dev/null || die "could not create the chaton role and database"
  local url="postgresql://chaton@127.0.0.1:$port/chaton"
  echo "$url" >"$DIR/url"
  echo "$url"
}

cmd_stop() {
  [ -d "$DIR" ] || return 0
  DIR="$(cd "$DIR" && pwd)"
  stop_cluster
  if [ "${REMOVE:-}" = 1 ]; then
    local run
    run="$(run_dir)"
    [ "$run" != "$DIR" ] && rm -rf "$run"
    rm -rf "$DIR"
  fi
}

cmd_restart() {
  [ -f "$DIR/port" ] || die "no cluster in $DIR (no $DIR/port)"
  local port rc=0
  port="$(cat "$DIR/port")"
  stop_cluster
  launch "$port" || rc=$?
  [ "$rc" -eq 0 ] || die "port $port was taken while the cluster was down"
  cat "$DIR/url"
}

cmd_createdb() {
  local name="$1"
  [[ "$name" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "database name '$name': lower-case letters, digits and _ only, at most 63"
  [ -f "$DIR/port" ] || die "no cluster in $DIR (no $DIR/port)"
  local port
  port="$(cat "$DIR/port")"
  psql_cmd "$port" postgres postgres -c "CREATE DATABASE $name OWNER chaton" >/dev/null ||
    die "could not create database $name"
  echo "postgresql://chaton@127.0.0.1:$port/$name"
}

[ $# -ge 1 ] || usage
command="$1"
shift
# `stop` needs the binaries only when a server is running (see is_running).
[ "$command" = stop ] || BINDIR="$(find_bindir)"
case "$command" in
  check)
    echo "$BINDIR"
    ;;
  start)
    [ $# -eq 1 ] || usage
    DIR="$1"
    cmd_start
    ;;
  stop)
    [ $# -ge 1 ] || usage
    DIR="$1"
    REMOVE=""
    [ "${2:-}" = "--remove" ] && REMOVE=1
    cmd_stop
    ;;
  restart)
    [ $# -eq 1 ] || usage
    DIR="$1"
    cmd_restart
    ;;
  createdb)
    [ $# -eq 2 ] || usage
    DIR="$1"
    cmd_createdb "$2"
    ;;
  *) usage ;;
esac
