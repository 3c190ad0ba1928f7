#!/usr/bin/env python3
"""Turns keyva_watch_bench's watch.json into its part of bench/RESULTS.md.

Writes, into --out: watch_targets.md (the target "PUT with 100 watchers ÷ without" for both
watched kinds — every change to every watcher, a folder per watcher — PASS/MISS, and the p99
from a PUT's answer to its event at a watcher) and watch.md (the watch feed section: every
phase with PUT/s, PUT latency, CPU per PUT of keyvad and of the bench, and the delivery
latency). Standard library only. Every ratio compares phases of the same run.
"""
import argparse
import json
import os


def Fmt(n):
    return "{:,.0f}".format(n)


def Ms(us):
    return "{:.2f}".format(us / 1000.0)


def PerPut(seconds, puts):
    if seconds is None or not puts:
        return "—"
    return "{:.1f}".format(seconds / puts * 1e6)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--json", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    doc = json.load(open(a.json))
    s, summary, phases = doc["settings"], doc["summary"], doc["phases"]
    n = s["watchers"]
    kinds = [("every_change", "every change to every watcher"),
             ("own_folder", "a folder per watcher")]

    t = []
    w = t.append
    w("| target | watchers follow | PUT/s with %d watchers | PUT/s without | ratio | goal | "
      "result | answer → event p50 / p99 ms |" % n)
    w("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for key, name in kinds:
        k = summary[key]
        ev = k["event_latency_us"]
        w("| PUT with %d watchers ÷ without | %s | %s | %s | %.2f× | %.1f× | **%s** | "
          "%s / **%s** |" % (
              n, name, Fmt(k["put_rps_with"]), Fmt(summary["put_rps_without"]), k["ratio"],
              summary["goal"], k["result"], Ms(ev["p50"]), Ms(ev["p99"])))
    w("")
    w("%s. Details: the watch feed section." % (
        "%s errors, %s missed" % (Fmt(summary["errors"]), Fmt(summary["missed"]))
        if summary["errors"] or summary["missed"] else "No errors, no event missed"))
    with open(os.path.join(a.out, "watch_targets.md"), "w") as f:
        f.write("\n".join(t) + "\n")

    md = []
    w = md.append
    w("keyva_watch_bench against one keyvad `--sync=none` on 127.0.0.1: %d writers (keep-alive, "
      "one PUT in flight each, %d-byte values, uniform random keys out of %s) for %g s per "
      "phase: with no watcher, with %d SSE watchers on every change (`GET /watch`: each PUT "
      "is delivered to every watcher), and with as many watchers on a folder each "
      "(`GET /watch?prefix=wb/NNN/`, the keys spread evenly over the folders: each PUT is "
      "delivered once), in a rotating order over %d round(s); the ratios are of the medians. The bench "
      "runs its writers and its watchers on a thread each and shares the machine's %d cores "
      "with keyvad, so the watchers' reading costs keyvad CPU too: the CPU columns give both "
      "per PUT. Delivery latency: from the writer reading a PUT's answer to a watcher reading "
      "its event, for every PUT and watcher (an event read before the answer counts as 0). "
      "Raw numbers: [results/watch.json](results/watch.json); method: "
      "[README.md](README.md#the-watch-bench-benchwatch)." % (
          s["writers"], s["value_size"], Fmt(s["keys"]), s["duration_s"], n, s["rounds"],
          s["cores"]))
    w("")
    w("| round | watchers follow | PUT/s | PUT p50 / p99 ms | keyvad CPU µs/PUT | bench CPU µs/PUT | "
      "events delivered | answer → event p50 / p99 ms | before the answer | missed |")
    w("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for ph in phases:
        lat = ph["put_latency_us"]
        watched = ph["watchers"] > 0
        el = ph.get("event_latency_us", {})
        follow = "—" if not watched else "%d × %s" % (ph["watchers"], ph["watching"])
        w("| %d | %s | %s | %s / %s | %s | %s | %s | %s | %s | %s |" % (
            ph["round"], follow, Fmt(ph["put_rps"]), Ms(lat["p50"]), Ms(lat["p99"]),
            PerPut(ph["server_cpu_s"], ph["puts"]), PerPut(ph["client_cpu_s"], ph["puts"]),
            Fmt(ph["events"]) if watched else "—",
            "%s / %s" % (Ms(el["p50"]), Ms(el["p99"])) if watched else "—",
            Fmt(ph["before_ack"]) if watched else "—",
            Fmt(ph["missed"]) if watched else "—"))
    errors = [ph for ph in phases if ph["errors"]]
    if errors:
        w("")
        for ph in errors:
            w("- round %d, %d watchers (%s): %d errors (first: %s)" % (
                ph["round"], ph["watchers"], ph["watching"], ph["errors"],
                ph.get("first_error", "?")))
    with open(os.path.join(a.out, "watch.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
