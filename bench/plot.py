"""Latency (p50, p99) against load (concurrency) from the bench's results.json.

Usage: python3 plot.py results.json out.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

results = json.load(open(sys.argv[1]))
scenarios = ["open", "get", "list_filter", "list_deep"]
stores = list(results["stores"])
fig, axes = plt.subplots(len(stores), len(scenarios), figsize=(4 * len(scenarios), 3.6 * len(stores)), squeeze=False)
for row, store in enumerate(stores):
    for col, scenario in enumerate(scenarios):
        ax = axes[row][col]
        levels = results["stores"][store]["scenarios"].get(scenario, [])
        xs = [l["concurrency"] for l in levels]
        ax.plot(xs, [l["p50_ms"] for l in levels], "o-", label="p50")
        ax.plot(xs, [l["p99_ms"] for l in levels], "s-", label="p99")
        if scenario == "list_deep":
            small = results["stores"][store]["scenarios"].get("list_deep_small", [])
            ax.plot([l["concurrency"] for l in small], [l["p99_ms"] for l in small], "^--",
                    label="p99 at %d" % results["plan"]["small"])
        if scenario == "open":
            base = results["stores"][store].get("db_baseline", [])
            base = [l for l in base if l.get("p99_ms") is not None]
            ax.plot([l["concurrency"] for l in base], [l["p99_ms"] for l in base], "x:",
                    color="grey", label="database baseline p99")
        if scenario == "get":
            base = results["stores"][store].get("db_read_baseline", [])
            base = [l for l in base if l.get("p99_ms") is not None]
            ax.plot([l["concurrency"] for l in base], [l["p99_ms"] for l in base], "+:",
                    color="black", label="database read p99")
        if scenario in ("get", "list_filter", "list_deep"):
            base = results.get("http_baseline", [])
            ax.plot([l["concurrency"] for l in base], [l["p99_ms"] for l in base], "x:",
                    color="grey", label="HTTP limit p99")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrency (connections)")
        ax.set_ylabel("latency (ms)")
        ax.set_title("%s: %s" % (store, scenario))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
title = "disputes bench: latency against load, %d disputes" % results["plan"]["large"]
if results.get("preliminary"):
    title += " (PRELIMINARY: shared machine)"
fig.suptitle(title)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=90)
