#!/bin/bash
# Benchmark (issue 4, paper Fig. 16): one graph of N per-device firewalls
# (native NSFs) through the real daemon on a private OVS: SAP lan -> one
# firewall per device MAC -> SAP wan, each firewall reached by rules that
# match its device's source MAC (towards wan) or destination MAC (back).
# Deploys N=100, then N=500 (target: <= 60 s on a 2-core machine), prints
# the deploy time, the per-SF cost and where the time goes (the daemon's
# per-step timings: resolve, schedule, network = the SFs' namespaces (the
# engine's prepare) + graph-LSI + ports + vlinks, compute = the rest of
# create + start scripts (a pool of workers), rules), then
# deletes the graph.  Bounded: the 500 case is skipped (with a message)
# when the 100 case extrapolates beyond 5 minutes.
# Usage: bench-many-sfs.sh [BUILD_DIR] [SIZES...]   (default sizes: 100 500)
# Needs root, OVS and nft (exit 77 otherwise); never fails on a figure.
if [ -n "${1:-}" ] && [ -d "$1" ]; then
    BUILD_DIR=$(cd "$1" && pwd); export BUILD_DIR; shift
fi
. "$(dirname "$0")/../e2e/lib.sh"
SIZES=${*:-100 500}
OE_REAL_BIN=$CORCH_BIN
OE_NS=
skip() { echo "bench-many-sfs: $*: skipped"; exit 77; }
curl() { if [ -n "$OE_NS" ]; then ip netns exec "$OE_NS" curl "$@"; else command curl "$@"; fi; }
oe_corch_exec() { exec ip netns exec "$OE_NS" "$OE_REAL_BIN" "$@"; }

e2e_init sp-many
[ -x "$OE_REAL_BIN" ] || skip "$OE_REAL_BIN not built"
command -v ovs-vswitchd >/dev/null || skip "no Open vSwitch"
command -v nft >/dev/null || skip "no nft"

# The node: a namespace with a private ovsdb-server + ovs-vswitchd
# (netdev datapath) and two "physical" interfaces.
NS=sp-many-node
ip netns add $NS || skip "cannot create namespace $NS"
e2e_on_exit "ip netns del $NS"
ip -n $NS link set lo up
OVS_DIR=$T/ovs; mkdir -p "$OVS_DIR"
export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR
ovsdb-tool create "$OVS_DIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$OVS_DIR/conf.db" --remote="punix:$OVS_DIR/db.sock" \
    --pidfile="$OVS_DIR/ovsdb-server.pid" --log-file="$OVS_DIR/ovsdb-server.log" \
    --unixctl="$OVS_DIR/ovsdb-server.ctl" --detach --no-chdir 2>>"$OVS_DIR/start.log"
e2e_on_exit "kill \$(cat '$OVS_DIR/ovsdb-server.pid')"
OVSDB=unix:$OVS_DIR/db.sock
ovs-vsctl --db="$OVSDB" --no-wait init
ip netns exec $NS ovs-vswitchd "$OVSDB" --pidfile="$OVS_DIR/ovs-vswitchd.pid" \
    --log-file="$OVS_DIR/ovs-vswitchd.log" --unixctl="$OVS_DIR/ovs-vswitchd.ctl" \
    --detach --no-chdir 2>>"$OVS_DIR/start.log"
e2e_on_exit "kill \$(cat '$OVS_DIR/ovs-vswitchd.pid')"
for _ in $(seq 50); do
    ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" version >/dev/null 2>&1 && break
    sleep 0.1
done
for i in 1 2; do
    ip link add sp-many-v$i netns $NS type veth peer name sp-many-h$i netns $NS
    ip -n $NS link set sp-many-v$i up
    ip -n $NS link set sp-many-h$i up
done

# The SF namespaces of this run (corch-<tag>-<instance>, the tag from the
# state directory): whatever happens, none stays.
TAG=$(python3 -c '
import sys
h = 2166136261
for b in sys.argv[1].encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%04x" % ((h ^ (h >> 16)) & 0xffff))' "$T/state")
sf_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^corch-$TAG-" || true; }
e2e_on_exit 'for n in $(sf_netns); do ip netns pids $n | xargs -r kill -9; ip netns del $n; done'

OE_NS=$NS
CORCH_BIN=oe_corch_exec corch_start --set vswitch.driver=ovs \
    --set vswitch.ovsdb="$OVSDB" --set vswitch.datapath_type=netdev \
    --set vswitch.interfaces=sp-many-v1,sp-many-v2 \
    --set compute.drivers=native --set log.level=debug \
    --set limits.max_body_bytes=67108864 || skip "c-orch does not start"
corch_login
[ -n "${TOKEN:-}" ] || skip "cannot log in"

# graph N: the Fig. 16 graph with N firewalls.
graph() {
    python3 - "$1" <<'PY'
import json, sys
n = int(sys.argv[1])
sfs, rules = [], []
for i in range(n):
    mac = "02:00:00:00:%02x:%02x" % (i >> 8, i & 0xff)
    sfs.append({"id": "fw%d" % i, "name": "firewall",
                "config": {"default": "allow", "rules": [
                    {"action": "deny", "protocol": "tcp", "dest_port": 23}]},
                "ports": [{"id": "a", "name": "lan"},
                          {"id": "b", "name": "wan"}]})
    def rule(rid, port_in, out, **match):
        m = {"port_in": port_in}
        m.update(match)
        rules.append({"id": rid, "priority": 10, "match": m,
                      "actions": {"output_to_port": out}})
    rule("l%d" % i, "service-access-point:lan", "sf:fw%d:a" % i,
         source_mac=mac)
    rule("a%d" % i, "sf:fw%d:a" % i, "service-access-point:lan")
    rule("b%d" % i, "sf:fw%d:b" % i, "service-access-point:wan")
    rule("w%d" % i, "service-access-point:wan", "sf:fw%d:b" % i, dest_mac=mac)
print(json.dumps({"sffg": {
    "id": "sp-many", "name": "per-device firewalls", "SFs": sfs,
    "saps": [{"id": "lan", "type": "interface",
              "interface": {"if-name": "sp-many-v1"}},
             {"id": "wan", "type": "interface",
              "interface": {"if-name": "sp-many-v2"}}],
    "flowrules": rules}}))
PY
}

# The daemon's own accounting of the last deploy (debug log): the step
# timings of nrm, and the engine's per-SF figures.
breakdown() {
    python3 - "$CORCH_LOG" "$1" "$2" <<'PY'
import re, sys
log, n, from_line = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = open(log, errors="replace").read().splitlines()[from_line:]
steps = None
ovs = None
prep = 0
for l in lines:
    m = re.search(r"(\d+) SFs, (\d+) flowrules: resolve (\d+) us, schedule "
                  r"(\d+) us, network (\d+) us \(SF namespaces (\d+) us\), "
                  r"compute (\d+) us, rules (\d+) us, commit (\d+) us", l)
    if m:
        v = [int(x) for x in m.groups()[2:]]
        steps = v[:3] + v[4:]
        prep = v[3]
    m = re.search(r"(\d+) SF ports: devices ([\d.]+) ms, one OVSDB "
                  r"transaction \(with ovs-vswitchd's reconfiguration\) "
                  r"([\d.]+) ms, port numbers ([\d.]+) ms", l)
    if m:
        ovs = (int(m.group(1)), float(m.group(2)), float(m.group(3)),
               float(m.group(4)))
ns = pt = pk = sc = 0.0
k = 0
for l in lines:
    m = re.search(r"package\+config ([\d.]+) ms, namespace ([\d.]+) ms, "
                  r"ports ([\d.]+) ms", l)
    if m:
        pk += float(m.group(1)); ns += float(m.group(2))
        pt += float(m.group(3)); k += 1
    m = re.search(r"started \(start script ([\d.]+) ms\)", l)
    if m:
        sc += float(m.group(1))
if steps:
    names = ["resolve", "schedule", "network (netns, ports, vlinks)",
             "compute (create + start)", "rules", "commit"]
    tot = sum(steps)
    print("  where the time goes (the daemon's step timings):")
    for nm, us in zip(names, steps):
        print("    %-30s %9.2f s  %6.1f%%  %7.2f ms/SF"
              % (nm, us / 1e6, 100.0 * us / max(tot, 1), us / 1e3 / n))
        if nm.startswith("network"):
            print("      %-28s %9.2f s           %7.2f ms/SF"
                  % ("SF namespaces (prepare)", prep / 1e6, prep / 1e3 / n))
            if ovs:
                print("      %-28s %9.2f s           %7.2f ms/SF"
                      % ("%d veth pairs" % ovs[0], ovs[1] / 1e3,
                         ovs[1] / n))
                print("      %-28s %9.2f s           %7.2f ms/SF"
                      % ("OVSDB transaction (1)", ovs[2] / 1e3, ovs[2] / n))
                print("      %-28s %9.2f s           %7.2f ms/SF"
                      % ("port numbers", ovs[3] / 1e3, ovs[3] / n))
else:
    print("  (no step timings in the log)")
if k:
    print("  compute, summed over the %d SFs (CPU-time-like: overlaps when "
          "SFs start in parallel):" % k)
    for nm, ms in (("package + config", pk), ("namespaces (in step 3)", ns),
                   ("ports into namespaces", pt), ("start scripts", sc)):
        print("    %-30s %9.2f s           %7.2f ms/SF" % (nm, ms / 1e3,
                                                          ms / k))
PY
}

LIMIT_S=60
for n in $SIZES; do
    if [ -n "${EST_S:-}" ] && [ "$(python3 -c "print(int($EST_S * $n / ${LAST_N} > 300))")" = 1 ]; then
        echo "bench-many-sfs: $n SFs would take about $(python3 -c "print(round($EST_S * $n / $LAST_N))") s (extrapolated from $LAST_N): more than 5 minutes, skipped"
        continue
    fi
    graph "$n" >"$T/g$n.json"
    from=$(wc -l <"$CORCH_LOG")
    t0=$(date +%s.%N)
    STATUS=$(curl -sS -m 900 -o "$T/body" -w '%{http_code}' -X PUT \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data-binary "@$T/g$n.json" "$CORCH_URL/v1/graphs/sp-many")
    t1=$(date +%s.%N)
    dt=$(python3 -c "print('%.2f' % ($t1 - $t0))")
    case $STATUS in
    200|201)
        up=$(sf_netns | wc -l)
        echo "bench-many-sfs: $n firewalls deployed in $dt s ($(python3 -c "print('%.1f' % ($dt * 1000 / $n))") ms per SF), $up SF namespaces"
        [ "$n" = 500 ] && echo "  500 SFs: $dt s, target <= $LIMIT_S s: $(python3 -c "print('met' if $dt <= $LIMIT_S else 'NOT met')")"
        breakdown "$n" "$from"
        EST_S=$dt; LAST_N=$n
        ;;
    *)
        echo "bench-many-sfs: $n firewalls: deploy failed after $dt s: status $STATUS: $(head -c 600 "$T/body")"
        ;;
    esac
    t0=$(date +%s.%N)
    STATUS=$(curl -sS -m 900 -o "$T/body" -w '%{http_code}' -X DELETE \
        -H "Authorization: Bearer $TOKEN" "$CORCH_URL/v1/graphs/sp-many")
    t1=$(date +%s.%N)
    echo "  delete: $(python3 -c "print('%.2f' % ($t1 - $t0))") s (status $STATUS), SF namespaces left: $(sf_netns | wc -l)"
done
exit 0
