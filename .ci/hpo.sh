#!/usr/bin/env bash
# descent-hpo's shared-study services for CI, started and stopped here:
# PostgreSQL from Debian's packages (a throw-away cluster owned by the
# unprivileged `postgres` user, in a temporary directory, on 127.0.0.1 only)
# and Python Optuna (pinned, from PyPI, in a virtual environment outside the
# repository). Runs the many-writers, fault and Optuna interop tests against
# them, then the kill soak on SQLite and on PostgreSQL.
#
#   .ci/hpo.sh                      everything (as .ci/run does)
#   .ci/hpo.sh start-pg DIR PORT    start a cluster by hand; prints its URL
#   .ci/hpo.sh stop-pg DIR          stop it and remove DIR
set -euo pipefail
cd "$(dirname "$0")/.."

OPTUNA_VERSION=5.0.0   # its RDB schema: alembic v3.2.0.a, schema_version 12
PG_PORT=${DESCENT_HPO_PG_PORT:-55439}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_pg() {
    local dir=$1 port=$2 bin
    bin=$(pg_bin)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >/dev/null
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres descent
    echo "postgresql://postgres@127.0.0.1:$port/descent"
}

stop_pg() {
    local dir=$1
    as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
}

# Hosts: PostgreSQL in one network namespace and two workers in two others,
# joined by veth pairs with addresses of their own (10.231.1.0/24 and
# 10.231.2.0/24); the workers get only the URL. Nothing outside the
# namespaces is contacted; they are removed at the end.
netns_test() {
    local pg=dh-hpo-pg w1=dh-hpo-w1 w2=dh-hpo-w2 dir=$work/pg-ns bin xtask=target/release/xtask
    if ! ip netns add $pg 2>/dev/null; then
        echo "SKIPPED: hosts test: cannot create network namespaces here (needs root with CAP_NET_ADMIN and iproute2)"
        return 0
    fi
    # shellcheck disable=SC2064
    trap "as_pg '$(pg_bin)/pg_ctl' -D '$dir/data' -m immediate -w stop >/dev/null 2>&1 || true; ip netns del $pg 2>/dev/null || true; ip netns del $w1 2>/dev/null || true; ip netns del $w2 2>/dev/null || true; stop_pg '$work/pg'; rm -rf '$work'" EXIT
    ip netns add $w1
    ip netns add $w2
    ip link add dh-pg1 netns $pg type veth peer name dh-w1 netns $w1
    ip link add dh-pg2 netns $pg type veth peer name dh-w2 netns $w2
    ip -n $pg addr add 10.231.1.1/24 dev dh-pg1
    ip -n $pg addr add 10.231.2.1/24 dev dh-pg2
    ip -n $w1 addr add 10.231.1.2/24 dev dh-w1
    ip -n $w2 addr add 10.231.2.2/24 dev dh-w2
    for ns in $pg $w1 $w2; do ip -n $ns link set lo up; done
    ip -n $pg link set dh-pg1 up
    ip -n $pg link set dh-pg2 up
    ip -n $w1 link set dh-w1 up
    ip -n $w2 link set dh-w2 up
    bin=$(pg_bin)
    mkdir -p "$dir"
    chown postgres: "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >/dev/null
    echo "host all all 10.231.0.0/16 trust" >>"$dir/data/pg_hba.conf"
    ip netns exec $pg runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-c listen_addresses=10.231.1.1,10.231.2.1 -p 5432 -k $dir" start >/dev/null
    ip netns exec $pg runuser -u postgres -- "$bin/createdb" -h "$dir" -U postgres descent
    local name=hosts-$$
    ip netns exec $w1 $xtask hpo worker-quick "postgresql://postgres@10.231.1.1:5432/descent" $name 40 &
    local a=$!
    ip netns exec $w2 $xtask hpo worker-quick "postgresql://postgres@10.231.2.1:5432/descent" $name 40 &
    local b=$!
    wait $a
    wait $b
    ip netns exec $w1 $xtask hpo check "postgresql://postgres@10.231.1.1:5432/descent" $name 80
    echo "hosts test: PostgreSQL in netns $pg, workers in $w1 (10.231.1.2) and $w2 (10.231.2.2): ok"
}

case ${1:-all} in
start-pg) start_pg "$2" "$3"; exit ;;
stop-pg) stop_pg "$2"; exit ;;
all) ;;
*) echo "usage: $0 [start-pg DIR PORT | stop-pg DIR]" >&2; exit 2 ;;
esac

echo "== hpo: PostgreSQL and Python Optuna $OPTUNA_VERSION"
if [ -z "$(pg_bin)" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
work=$(mktemp -d /tmp/descent-hpo-ci.XXXXXX)
chmod 755 "$work"
trap 'stop_pg "$work/pg"; rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "optuna==$OPTUNA_VERSION" "psycopg[binary]==3.3.9" "plotly==7.1.0"
url=$(start_pg "$work/pg" "$PG_PORT")

export DESCENT_HPO_PG_URL=$url
export DESCENT_HPO_PYTHON=$work/venv/bin/python
export DESCENT_REQUIRE_HPO_SERVICES=1
cargo test -p descent-hpo --test rdb_workers --test rdb_faults --test optuna_interop --test pbt_shared -- --nocapture
cargo xtask soak hpo --kills 50
cargo xtask soak hpo --kills 50 --url "$url"
netns_test
echo "== hpo: done"
