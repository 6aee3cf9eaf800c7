#!/usr/bin/env bash
# start-pg.sh DIR [PORT] -> prints postgres://postgres@127.0.0.1:PORT/postgres (a throwaway cluster for CI)
set -euo pipefail
DIR=$(realpath -m "${1:?data folder}"); PORT=${2:-54329}
rm -rf "$DIR"; mkdir -p "$DIR"; LOG="$DIR/setup.log"
if ! dpkg -s postgresql >/dev/null 2>&1; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >>"$LOG" 2>&1
fi
PGV=$(ls /usr/lib/postgresql | sort -n | tail -1)
BIN=/usr/lib/postgresql/$PGV/bin
RUN=""; if [ "$(id -u)" = 0 ]; then RUN="runuser -u postgres --"; chown postgres "$DIR"; chmod o+x "$(dirname "$DIR")" || true; fi
$RUN "$BIN/initdb" -D "$DIR/data" -U postgres -A trust --no-sync -E UTF8 >>"$LOG" 2>&1
$RUN "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >>"$LOG" 2>&1
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
