#!/usr/bin/env python3
"""Turns the HTTP bench's runs (bench/http/run.sh's http.jsonl) into its report.

Writes, into --out: http.json (every run, the calibration and the targets), http.md (the HTTP
section of bench/RESULTS.md: the load generator check against nginx's fixed 200, throughput and
latency beside every peer, keyvad/peer ratios), http_targets.md (the targets with PASS/MISS,
and the load generator check in one line), http_throughput.dat and http_targets.dat (gnuplot
data for charts.gnuplot); prints the load generator check's line.
Standard library only. Every ratio compares numbers from the same run of run.sh.
"""
import argparse
import json
import os

SERVERS = ["keyvad-always", "keyvad-none", "nginx", "etcd", "webdis"]
SERVER_TITLES = {
    "keyvad-always": "keyvad sync=always",
    "keyvad-none": "keyvad sync=none",
    "nginx": "nginx fixed 200",
    "etcd": "etcd v2",
    "webdis": "webdis+redis",
}
OPS = ["get", "mix", "put"]
OP_TITLES = {"get": "GET", "mix": "90% GET / 10% PUT", "put": "PUT"}

# (name, keyvad server, op, peer server, peer op, goal): keyvad req/s >= goal x peer req/s.
# keyvad's GET and mix are those of sync=always, its default.
TARGETS = [
    ("keyvad GET ≥ 0.8× nginx fixed 200", "keyvad-always", "get", "nginx", "get", 0.8),
    ("keyvad GET ≥ 0.6× nginx fixed 200 (first bar)", "keyvad-always", "get", "nginx", "get",
     0.6),
    ("keyvad GET ≥ 1.0× webdis GET", "keyvad-always", "get", "webdis", "get", 1.0),
    ("keyvad 90/10 mix ≥ 1.0× webdis mix", "keyvad-always", "mix", "webdis", "mix", 1.0),
    ("keyvad PUT sync=none ≥ 1.0× webdis SET", "keyvad-none", "put", "webdis", "put", 1.0),
    ("keyvad PUT sync=always ≥ 2.0× etcd PUT", "keyvad-always", "put", "etcd", "put", 2.0),
]

# The calibration runs against nginx's fixed 200 (run.sh runs them beside nginx's get): the same
# GET with the bench's client, as one fixed request, and formatted per request (kv.lua before).
CALIBRATION = [
    ("get", "wrk + kv.lua (pre-built requests, random keys: the bench's client)"),
    ("get-fixed", "wrk, one fixed request (no Lua per request)"),
    ("get-format", "wrk + per-request formatting (kv.lua before)"),
]

def Rps(run):
    w = run["wrk"]
    if w.get("failed") or not w.get("duration_us"):
        return None
    return w["requests"] / w["duration_us"] * 1e6


def Errors(run):
    w = run["wrk"]
    if w.get("failed"):
        return None
    return sum(w["errors"].values())


def ClientUsPerRequest(run):
    """wrk's CPU time (user + system) per answered request, in microseconds, or None."""
    cpu, w = run.get("client_cpu_s"), run["wrk"]
    if cpu is None or w.get("failed") or not w.get("requests"):
        return None
    return cpu / w["requests"] * 1e6


def Fmt(n):
    return "{:,.0f}".format(n)


def Ms(us):
    return "{:.2f}".format(us / 1000.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--duration", type=int, required=True)
    p.add_argument("--keys", type=int, required=True)
    p.add_argument("--value-size", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--skipped", default="[]")
    for name in ["nginx", "etcd", "webdis", "redis", "wrk"]:
        p.add_argument("--%s-version" % name, default="")
    a = p.parse_args()

    runs = [json.loads(line) for line in open(a.results) if line.strip()]
    skipped = json.loads(a.skipped)
    by = {}  # (server, op, connections) -> run
    for r in runs:
        if "round" not in r:  # calibration runs are summed apart, below
            by[(r["server"], r["op"], r["connections"])] = r
    conns = sorted({r["connections"] for r in runs if r["op"] != "preload"})
    servers = [s for s in SERVERS if any(r["server"] == s for r in runs)]
    ops = [o for o in OPS if any(r["op"] == o for r in runs)]
    loads = [r["load1"] for r in runs if r["op"] != "preload"]

    def RpsOf(server, op, c):
        r = by.get((server, op, c))
        return Rps(r) if r else None

    targets = []
    for name, ks, kop, ps, pop, goal in TARGETS:
        for c in conns:
            k, peer = RpsOf(ks, kop, c), RpsOf(ps, pop, c)
            ratio = k / peer if k and peer else None
            targets.append({
                "target": name, "connections": c, "keyvad_server": ks, "peer_server": ps,
                "keyvad_rps": k, "peer_rps": peer, "ratio": ratio, "goal": goal,
                "result": None if ratio is None else ("PASS" if ratio >= goal else "MISS"),
            })

    # Calibration: per connection count and variant, the interleaved rounds summed (requests
    # over time, CPU over requests).
    calibration = []
    for c in conns:
        row = {"connections": c}
        for op, _ in CALIBRATION:
            rs = [r for r in runs if "round" in r and r["server"] == "nginx" and r["op"] == op
                  and r["connections"] == c and Rps(r) is not None]
            requests = sum(r["wrk"]["requests"] for r in rs)
            seconds = sum(r["wrk"]["duration_us"] for r in rs) / 1e6
            def PerRequest(field):
                if not requests or any(r.get(field) is None for r in rs):
                    return None
                return sum(r[field] for r in rs) / requests * 1e6
            row[op] = {"rounds": len(rs), "requests": requests,
                       "rps": requests / seconds if seconds else None,
                       "errors": sum(Errors(r) or 0 for r in rs),
                       "client_us_per_request": PerRequest("client_cpu_s"),
                       "server_us_per_request": PerRequest("server_cpu_s")}
        fixed = row["get-fixed"]["rps"]
        row["get_vs_fixed"] = row["get"]["rps"] / fixed if row["get"]["rps"] and fixed else None
        row["format_vs_fixed"] = (row["get-format"]["rps"] / fixed
                                  if row["get-format"]["rps"] and fixed else None)
        if any(row[op]["rps"] for op, _ in CALIBRATION):
            calibration.append(row)

    versions = {n: getattr(a, n + "_version") for n in ["nginx", "etcd", "webdis", "redis", "wrk"]}
    doc = {
        "settings": {"duration_s": a.duration, "keys": a.keys, "value_size": a.value_size,
                     "wrk_threads": a.threads, "connections": conns, "cores": os.cpu_count()},
        "versions": versions, "skipped": skipped, "runs": runs, "calibration": calibration,
        "targets": targets,
    }
    with open(os.path.join(a.out, "http.json"), "w") as f:
        json.dump(doc, f, indent=1)

    # gnuplot data: one row per workload x connections, one column per server.
    with open(os.path.join(a.out, "http_throughput.dat"), "w") as f:
        f.write("workload " + " ".join('"%s"' % SERVER_TITLES[s] for s in SERVERS) + "\n")
        for c in conns:
            for op in ops:
                cells = []
                for s in SERVERS:
                    v = RpsOf(s, op, c)
                    cells.append("%.0f" % v if v else "-")
                f.write('"%s c=%d" %s\n' % (OP_TITLES[op], c, " ".join(cells)))
    with open(os.path.join(a.out, "http_targets.dat"), "w") as f:
        f.write('target "measured" "goal"\n')
        for t in targets:
            label = "%s c=%d" % (t["target"].replace("keyvad ", "").replace(" ≥ ", " vs "),
                                 t["connections"])
            f.write('"%s" %s %.2f\n' % (label, "%.3f" % t["ratio"] if t["ratio"] else "-",
                                        t["goal"]))

    md = []
    w = md.append
    w("keyvad against nginx %s (a fixed 200: the machine's ceiling), etcd %s (v2 keys API) and "
      "webdis %s in front of redis %s, all on 127.0.0.1 and measured in this run with wrk %s: "
      "%d threads, %s connections, %d s per run, uniform random keys out of %s preloaded ones, "
      "%d-byte values, every request pre-built before the run. wrk and the servers share the "
      "machine's %d cores, so every server also competes with its client for CPU. Load average "
      "(1 min) at the start of the runs: %s. "
      "Raw numbers: [results/http.json](results/http.json); method: "
      "[README.md](README.md#the-http-bench-benchhttp)." % (
          versions["nginx"] or "?", versions["etcd"] or "?", versions["webdis"] or "?",
          versions["redis"] or "?", versions["wrk"] or "?", a.threads,
          " and ".join(str(c) for c in conns), a.duration, Fmt(a.keys), a.value_size,
          os.cpu_count(),
          "%.2f–%.2f" % (min(loads), max(loads)) if loads else "?"))
    w("")
    for s in skipped:
        w("- Not measured: %s" % s)
    if skipped:
        w("")

    # Calibration: one line for run.sh's output and the targets, a table for http.md.
    def CalibrationLine(row):
        def Cell(op):
            v = row[op]
            if not v["rps"]:
                return "—"
            cu = v["client_us_per_request"]
            return "%s req/s (wrk %s µs CPU/request)" % (Fmt(v["rps"]),
                                                         "%.1f" % cu if cu else "?")
        def Ratio(x):
            return "%.2f×" % x if x else "—"
        return "c=%d: bench's client %s = %s of one fixed request %s; per-request formatting " \
            "as before %s = %s" % (
                row["connections"], Cell("get"), Ratio(row["get_vs_fixed"]), Cell("get-fixed"),
                Cell("get-format"), Ratio(row["format_vs_fixed"]))
    calibration_line = ("Load generator check, nginx fixed 200 in this run: " +
                        "; ".join(CalibrationLine(r) for r in calibration) + ".")
    if calibration:
        print("   " + calibration_line)

    tmd = []
    tmd.append("Each target compares keyvad with a peer measured in the same run of "
               "bench/run.sh, same workload and connections (HTTP details below).")
    tmd.append("")
    w = tmd.append
    w("| target | connections | keyvad req/s | peer req/s | ratio | goal | result |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for t in targets:
        w("| %s | %d | %s | %s | %s | %.1f× | %s |" % (
            t["target"], t["connections"],
            Fmt(t["keyvad_rps"]) if t["keyvad_rps"] else "—",
            Fmt(t["peer_rps"]) if t["peer_rps"] else "—",
            "%.2f×" % t["ratio"] if t["ratio"] else "—", t["goal"],
            "**%s**" % t["result"] if t["result"] else "not measured"))
    if calibration:
        tmd.append("")
        tmd.append(calibration_line + " Details: the HTTP section's load generator check.")
    with open(os.path.join(a.out, "http_targets.md"), "w") as f:
        f.write("\n".join(tmd) + "\n")
    w = md.append
    if calibration:
        w("#### Load generator check: nginx's fixed 200")
        w("")
        w("The client shares the cores with the server, so what it spends per request is taken "
          "from the server. nginx's fixed 200 (the ceiling) is measured three ways, interleaved "
          "in %d short rounds per connection count so that a change in the machine's load hits "
          "all three alike: with the bench's client, with wrk sending one fixed request from C "
          "(what wrk itself costs, no Lua per request), and with the per-request formatting the "
          "bench used before. Each cell: requests/s (wrk's CPU µs per request / nginx's CPU µs "
          "per request; both grow when other work shares the cores). The bench's client near "
          "1.0× the fixed request means the load generator adds little to wrk's own cost; "
          "requests/s swing with the machine's load, CPU per request much less." %
          max(row["get"]["rounds"] for row in calibration))
        w("")
        w("| connections | " + " | ".join(title for _, title in CALIBRATION) +
          " | bench's client ÷ fixed | before ÷ fixed |")
        w("| ---: | " + " | ".join("---:" for _ in CALIBRATION) + " | ---: | ---: |")
        for row in calibration:
            cells = []
            for op, _ in CALIBRATION:
                v = row[op]
                cu, su = v["client_us_per_request"], v["server_us_per_request"]
                cells.append("%s (%s / %s)" % (Fmt(v["rps"]), "%.1f" % cu if cu else "?",
                                               "%.1f" % su if su else "?")
                             if v["rps"] else "—")
            w("| %d | %s | %s | %s |" % (
                row["connections"], " | ".join(cells),
                "%.2f×" % row["get_vs_fixed"] if row["get_vs_fixed"] else "—",
                "%.2f×" % row["format_vs_fixed"] if row["format_vs_fixed"] else "—"))
        w("")
    w("![requests per second per server and workload](results/http_throughput.png)")
    w("")
    w("![targets: measured ratio and goal](results/http_targets.png)")
    w("")
    w("#### Throughput: requests/s (p50 / p99 latency in ms)")
    w("")
    w("| workload | connections | " + " | ".join(SERVER_TITLES[s] for s in servers) + " |")
    w("| --- | ---: | " + " | ".join("---:" for _ in servers) + " |")
    any_errors = False
    for c in conns:
        for op in ops:
            cells = []
            for s in servers:
                r = by.get((s, op, c))
                if not r or Rps(r) is None:
                    cells.append("—")
                    continue
                lat = r["wrk"]["latency_us"]
                cell = "%s (%s / %s)" % (Fmt(Rps(r)), Ms(lat["p50"]), Ms(lat["p99"]))
                if Errors(r):
                    cell += " ²"
                    any_errors = True
                cells.append(cell)
            w("| %s | %d | %s |" % (OP_TITLES[op], c, " | ".join(cells)))
    w("")
    w("nginx answers every method with its fixed 200: its PUT and mix rows are the ceiling for "
      "requests carrying a 100-byte body.")
    if any_errors:
        w("")
        w("² the run saw socket errors, timeouts or non-2xx answers; see http.json.")
    w("")

    w("#### Ratios: keyvad ÷ peer (same workload, same connections; above 1: keyvad is faster)")
    w("")
    pairs = [("keyvad-always", "nginx"), ("keyvad-always", "etcd"), ("keyvad-always", "webdis"),
             ("keyvad-none", "webdis"), ("keyvad-none", "nginx")]
    pairs = [pr for pr in pairs if pr[0] in servers and pr[1] in servers]
    w("| workload | connections | " +
      " | ".join("%s ÷ %s" % (SERVER_TITLES[k], SERVER_TITLES[p]) for k, p in pairs) + " |")
    w("| --- | ---: | " + " | ".join("---:" for _ in pairs) + " |")
    for c in conns:
        for op in ops:
            cells = []
            for k, peer in pairs:
                kv, pv = RpsOf(k, op, c), RpsOf(peer, op, c)
                cells.append("%.2f×" % (kv / pv) if kv and pv else "—")
            w("| %s | %d | %s |" % (OP_TITLES[op], c, " | ".join(cells)))
    w("")
    pre = [r for r in runs if r["op"] == "preload"]
    if pre:
        w("Preload (%s PUTs of distinct keys over 64 connections, before the runs): %s." % (
            Fmt(a.keys), "; ".join(
                "%s %s req/s%s" % (SERVER_TITLES[r["server"]], Fmt(Rps(r)) if Rps(r) else "failed",
                                   " (with errors)" if Errors(r) else "")
                for r in pre)))
    with open(os.path.join(a.out, "http.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
