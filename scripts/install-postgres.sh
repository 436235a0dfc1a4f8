#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries for the database-source tests and benchmark
# (tests/postgres_server.py starts a throwaway server from them) when no
# /usr/lib/postgresql/*/bin/initdb exists. Debian packages only; no cluster is created and no
# service is started (the tests run their own server on a free port). Needs root (as on the
# project's machines and CI).
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi
# Test workers run side by side (pytest-xdist): the first installs, the others wait for it
# and then find the package there. apt and dpkg would refuse a second installer anyway.
exec 9>/tmp/crimestat-apt.lock
flock 9
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-postgres.sh: PostgreSQL is missing and installing it needs root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the package from starting its own cluster service during installation.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    created_policy=1
fi
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
if [ "$created_policy" -eq 1 ]; then
    rm -f "$policy"
fi
ls /usr/lib/postgresql/*/bin/initdb
