#!/bin/sh
# SPDX-License-Identifier: MIT
#
# cluster-demo: a small local gtd cluster (gtd(8) "Cluster"): one etcd
# member and three gtd nodes (n1, n2, n3) of zone "demo" on loopback, in
# a temporary directory.  Every node's config has the same failover child
# "ticker" of scope cluster: one node wins it, and when that node dies
# another one starts it.  Ctrl-C stops everything (by pid) and removes
# the directory.
#
# usage: cluster-demo.sh [BUILDDIR]
# $ETCD (default etcd) is the etcd binary; $GTD_DEMO_PORT (default 24379)
# the client port of etcd, the next one its peer port.
set -eu

bin=$(cd "${1:-build}" && pwd)
etcd=${ETCD:-etcd}
cport=${GTD_DEMO_PORT:-24379}
pport=$((cport + 1))
url=http://127.0.0.1:$cport
dir=$(mktemp -d /tmp/gtd-cluster-demo-XXXXXX)
pids=

cleanup() {
	trap - EXIT INT TERM
	for p in $pids; do
		kill "$p" 2>/dev/null || :
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || :
	done
	rm -rf "$dir"
	echo "cluster demo stopped"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

command -v "$etcd" >/dev/null || {
	echo "cluster-demo: no $etcd (install etcd-server)" >&2
	exit 1
}
"$etcd" --name demo --data-dir "$dir/etcd" \
    --listen-client-urls "$url" --advertise-client-urls "$url" \
    --listen-peer-urls "http://127.0.0.1:$pport" \
    --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "demo=http://127.0.0.1:$pport" \
    >"$dir/etcd.log" 2>&1 &
pids="$!"

for n in n1 n2 n3; do
	cat >"$dir/$n.json" <<EOF
{
  "cluster": { "etcd": ["$url"], "node": "$n", "lease_ttl_ms": 3000 },
  "children": [
    { "name": "ticker", "scope": "cluster", "failover": true,
      "cmd": ["sh", "-c",
        "while :; do echo \"tick, fence \$GTD_FENCE, on \$GTD_SOCKET\"; sleep 2; done"] }
  ]
}
EOF
	PATH=$bin:$PATH "$bin/gtd" -z demo -c "$dir/$n.json" \
	    -s "$dir/$n.sock" 2>"$dir/$n.log" &
	pids="$! $pids"
done

cat <<EOF
gtd cluster demo in $dir: etcd on $url, nodes n1 n2 n3 (zone demo).
In another terminal:
  export PATH=$bin:\$PATH
  gtctl -s $dir/n1.sock cluster          # the nodes and their claims
  gtctl -s $dir/n2.sock find ticker      # whoever holds it, from n2
  gtctl -s $dir/n3.sock which_children scope=cluster
  gtctl -s $dir/n1.sock open web scope=cluster -- sleep infinity
  kill -9 <pid of the node holding ticker>   # it fails over in ~4 s
Logs: $dir/n1.log ...  Stop the demo with Ctrl-C.
EOF
wait
