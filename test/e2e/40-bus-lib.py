#!/usr/bin/env python3
"""Helpers of the 40-bus-*.sh tests and of test/bench/bench-bus.sh.

They read what c-orch-sub --stamp writes (one JSON line per message:
{"topic","message","received","connected"}) and drive the REST API, so that
a deploy's completion and a description's arrival are timed by the same
clock.

  40-bus-lib.py deploy  URL TOKEN GRAPH_ID BODY_FILE SUB_FILE [TIMEOUT]
  40-bus-lib.py delete  URL TOKEN GRAPH_ID SUB_FILE [TIMEOUT]
      PUT / DELETE the graph, then wait for a description (from the node
      that answered) that shows it running / gone.  Prints the latency in
      ms from the HTTP response to the description's arrival (0 if it
      arrived first); exits 1 if none came.
  40-bus-lib.py compare URL TOKEN SUB_FILE SCHEMA
      The last description in SUB_FILE from the node at URL equals
      GET /v1/node (but for the CPU load), and both validate.
  40-bus-lib.py nodes SUB_FILE [SINCE]
      The node ids seen on the description topic (after time SINCE).
  40-bus-lib.py join SUB_FILE
      ms from connecting to the first description (exits 1 if none).
  40-bus-lib.py bench URL TOKEN BODY_TEMPLATE SUB_FILE N
      N deploys (the template's @ID@ replaced) each followed by a delete;
      prints p50 / p99 of the latency from the PUT response to the
      description showing the graph running (and the same for deletes).
"""
import json
import sys
import time
import urllib.request


def http(method, url, token, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def lines(path):
    out = []
    with open(path) as f:
        for ln in f:
            ln = ln.strip()
            if ln:
                try:
                    out.append(json.loads(ln))
                except ValueError:
                    pass  # A line being written.
    return out


def descriptions(path):
    return [m for m in lines(path) if m["topic"].endswith(":domain-description")]


def node_id(url, token):
    st, body = http("GET", url + "/v1/node", token)
    if st != 200:
        raise SystemExit("GET /v1/node: %d %s" % (st, body[:200]))
    return json.loads(body)


def wait_for(path, pred, since_count, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in descriptions(path)[since_count:]:
            if pred(m):
                return m
        time.sleep(0.002)
    return None


def graph_state(m, gid):
    for g in m["message"]["description"]["graphs"]:
        if g["id"] == gid:
            return g["status"]
    return None


def deploy_or_delete(args, delete):
    url, token, gid = args[0], args[1], args[2]
    if delete:
        sub, timeout = args[3], float(args[4]) if len(args) > 4 else 2.0
    else:
        body = open(args[3], "rb").read()
        sub, timeout = args[4], float(args[5]) if len(args) > 5 else 2.0
    me = node_id(url, token)["node_id"]
    since = len(descriptions(sub))
    if delete:
        st, out = http("DELETE", url + "/v1/graphs/" + gid, token)
        ok = st == 204
    else:
        st, out = http("PUT", url + "/v1/graphs/" + gid, token, body)
        ok = st in (200, 201)
    done = time.time()
    if not ok:
        raise SystemExit("%s %s: %d %s" % ("DELETE" if delete else "PUT", gid, st, out[:300]))

    def pred(m):
        if m["message"]["node_id"] != me:
            return False
        s = graph_state(m, gid)
        return s is None if delete else s == "running"

    m = wait_for(sub, pred, since, timeout)
    if not m:
        print("no description showing %s %s within %.1f s" % (gid, "gone" if delete else "running", timeout))
        return 1
    print("%.2f" % max(0.0, (m["received"] - done) * 1000.0))
    return 0


def strip_volatile(d):
    d = json.loads(json.dumps(d))
    d["resources"].pop("cpu_load", None)
    return d


def compare(args):
    url, token, sub, schema_path = args
    import jsonschema
    schema = json.load(open(schema_path))
    node = node_id(url, token)
    jsonschema.validate(node, schema)
    mine = [m for m in descriptions(sub) if m["message"]["node_id"] == node["node_id"]]
    if not mine:
        print("no description from", node["node_id"])
        return 1
    msg = mine[-1]["message"]
    for k in ("node_id", "seq", "timestamp", "description"):
        if k not in msg:
            print("message lacks", k)
            return 1
    jsonschema.validate(msg["description"], schema)
    a, b = strip_volatile(msg["description"]), strip_volatile(node)
    if a != b:
        print("bus:  ", json.dumps(a, sort_keys=True))
        print("REST: ", json.dumps(b, sort_keys=True))
        return 1
    return 0


def nodes(args):
    since = float(args[1]) if len(args) > 1 else 0.0
    ids = sorted({m["message"]["node_id"] for m in descriptions(args[0]) if m["received"] >= since})
    print(" ".join(ids))
    return 0


def join(args):
    d = descriptions(args[0])
    if not d:
        return 1
    print("%.2f" % ((d[0]["received"] - d[0]["connected"]) * 1000.0))
    return 0


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def bench(args):
    url, token, tmpl_path, sub, n = args[0], args[1], args[2], args[3], int(args[4])
    tmpl = open(tmpl_path).read()
    me = node_id(url, token)["node_id"]
    dep, dep_req, dele, missed, early = [], [], [], 0, 0
    for i in range(n):
        gid = "bench-bus-%d" % i
        since = len(descriptions(sub))
        t0 = time.time()
        st, out = http("PUT", url + "/v1/graphs/" + gid, token, tmpl.replace("@ID@", gid).encode())
        done = time.time()
        if st not in (200, 201):
            raise SystemExit("PUT %s: %d %s" % (gid, st, out[:300]))
        m = wait_for(sub, lambda m: m["message"]["node_id"] == me and graph_state(m, gid) == "running",
                     since, 2.0)
        if m:
            early += m["received"] < done
            dep.append(max(0.0, (m["received"] - done) * 1000.0))
            dep_req.append((m["received"] - t0) * 1000.0)
        else:
            missed += 1
        since = len(descriptions(sub))
        st, out = http("DELETE", url + "/v1/graphs/" + gid, token)
        done = time.time()
        m = wait_for(sub, lambda m: m["message"]["node_id"] == me and graph_state(m, gid) is None,
                     since, 2.0)
        if m:
            dele.append(max(0.0, (m["received"] - done) * 1000.0))
        else:
            missed += 1
    if not dep:
        print("no description arrived")
        return 1
    print("deploys: %d, descriptions missed: %d, arrived before the PUT response: %d"
          % (n, missed, early))
    print("deploy -> description at subscriber (from PUT response): p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p50 <= 50 ms)"
          % (pct(dep, 50), pct(dep, 99), max(dep)))
    print("deploy -> description at subscriber (from PUT request):  p50 %.2f ms, p99 %.2f ms"
          % (pct(dep_req, 50), pct(dep_req, 99)))
    if dele:
        print("delete -> description at subscriber (from DELETE response): p50 %.2f ms, p99 %.2f ms"
              % (pct(dele, 50), pct(dele, 99)))
    return 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "deploy":
        return deploy_or_delete(args, False)
    if cmd == "delete":
        return deploy_or_delete(args, True)
    if cmd == "compare":
        return compare(args)
    if cmd == "nodes":
        return nodes(args)
    if cmd == "join":
        return join(args)
    if cmd == "bench":
        return bench(args)
    raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main())
