#!/usr/bin/env python3
"""Summarises a JFR recording's CPU samples: top frames (self) and top backupkit/library frames
(inclusive). Usage: bench/jfr-top.py FILE.jfr [N]"""
import collections
import json
import subprocess
import sys

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 15
raw = subprocess.run(["jfr", "print", "--json", "--events", "jdk.ExecutionSample", path],
                     check=True, capture_output=True, text=True).stdout
events = json.loads(raw)["recording"]["events"]
self_c = collections.Counter()
incl = collections.Counter()
threads = collections.Counter()
for e in events:
    frames = e["values"]["stackTrace"]["frames"] if e["values"].get("stackTrace") else []
    names = [f["method"]["type"]["name"] + "." + f["method"]["name"] for f in frames]
    if names:
        self_c[names[0]] += 1
    for m in set(names):
        incl[m] += 1
    t = e["values"].get("sampledThread") or {}
    name = t.get("javaName") or t.get("osName") or "?"
    threads[name.rstrip("0123456789-")] += 1
total = len(events)
print(f"{total} CPU samples")
print("\nthreads:")
for k, v in threads.most_common(n):
    print(f"  {100 * v / total:5.1f}%  {k}")
print("\nself (top frame):")
for k, v in self_c.most_common(n):
    print(f"  {100 * v / total:5.1f}%  {k}")
print("\ninclusive (io.backupkit / org.postgresql / zstd / crypto):")
keep = [(k, v) for k, v in incl.items()
        if any(p in k for p in ("io.backupkit", "org.postgresql", "luben", "crypto", "Cipher", "Mac", "Argon"))]
for k, v in sorted(keep, key=lambda kv: -kv[1])[:n * 2]:
    print(f"  {100 * v / total:5.1f}%  {k}")
