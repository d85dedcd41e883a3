#!/usr/bin/env bash
# A PostgreSQL server for the store's tests, on 127.0.0.1 only: `start` installs Debian's
# package when missing (as root), starts its cluster and makes the test role and database;
# `stop` stops the cluster again. The tests read SIMPLEPOOL_TEST_PG (default below) and
# skip, saying why, when nothing answers there.
set -euo pipefail
URL_DEFAULT="postgres://simplepool:simplepool@127.0.0.1:5432/simplepool_test"

cluster () {
  pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 { print $1, $2 }'
}

case "${1:-}" in
  start)
    if ! command -v pg_ctlcluster >/dev/null; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
      else
        echo "PostgreSQL is not installed and cannot be installed here: the store's PostgreSQL tests will skip" >&2
        exit 0
      fi
    fi
    read -r version name < <(cluster) || { echo "no PostgreSQL cluster: the store's PostgreSQL tests will skip" >&2; exit 0; }
    pg_ctlcluster "$version" "$name" start -- -o "-c listen_addresses=127.0.0.1" 2>/dev/null || pg_ctlcluster "$version" "$name" status >/dev/null
    su postgres -c "psql -q -v ON_ERROR_STOP=0 -c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'simplepool') THEN CREATE ROLE simplepool LOGIN PASSWORD 'simplepool'; END IF; END \\\$\\\$\"" >/dev/null
    su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname = 'simplepool_test'\" | grep -q 1 || createdb -O simplepool simplepool_test"
    echo "PostgreSQL $version/$name is up for the tests at $URL_DEFAULT"
    ;;
  stop)
    read -r version name < <(cluster) || exit 0
    pg_ctlcluster "$version" "$name" stop 2>/dev/null || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
