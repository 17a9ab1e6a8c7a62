#!/usr/bin/env python3
"""Turns bench/run.sh samples (tool, db, step, round, wall_s, rss_kb, bytes; tab-separated) into the
markdown results page: one table of medians and ratios backupkit / peer, then the raw samples."""
import argparse
import statistics
import sys
from collections import defaultdict

MIB = 1 << 20

p = argparse.ArgumentParser()
p.add_argument("samples")
p.add_argument("--scale", required=True)
p.add_argument("--rounds", required=True)
p.add_argument("--sha", required=True)
p.add_argument("--db-sizes", default="")
p.add_argument("--pgbackrest", default="not run")
p.add_argument("--java-opts", default="")
p.add_argument("--compression", default="")
p.add_argument("--load-start", default="")
p.add_argument("--load-end", default="")
p.add_argument("--cpus", default="")
p.add_argument("--versions", default="")
p.add_argument("--date", default=None)
p.add_argument("--s3", default="not run")
a = p.parse_args()

rows = []
with open(a.samples) as f:
    for line in f:
        if not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        tool, db, step, rnd, wall, rss, size = f[:7]
        cpu = float(f[7]) if len(f) > 7 and f[7] else 0.0  # older sample files have no CPU column
        rows.append((tool, db, step, rnd, float(wall), int(rss or 0), int(float(size or 0)), cpu))

by = defaultdict(list)
for tool, db, step, rnd, wall, rss, size, cpu in rows:
    by[(tool, db, step)].append((wall, rss, size, cpu))


def med(tool, db, step, field):
    v = by.get((tool, db, step))
    if not v:
        return None
    i = {"wall": 0, "rss": 1, "size": 2, "cpu": 3}[field]
    return statistics.median(x[i] for x in v)


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "bytes":
        return f"{v / MIB:.1f} MiB" if v >= MIB / 10 else f"{v / 1024:.1f} KiB"
    if unit == "rss":
        return f"{v / 1024:.0f} MiB"
    return str(v)


table = []


def row(db, measure, bk, peer_name, peer, unit, target=None, absolute_limit=None):
    """One line; target = max ratio backupkit/peer, absolute_limit = (limit, text) on backupkit alone."""
    ratio = None if bk is None or not peer else bk / peer
    met = ""
    if target is not None and ratio is not None:
        met = "yes" if ratio <= target else "**no**"
        target_s = f"≤ {target:g}"
    elif absolute_limit is not None and bk is not None:
        met = "yes" if bk <= absolute_limit[0] else "**no**"
        target_s = absolute_limit[1]
    else:
        target_s = ""
    table.append((db, measure, fmt(bk, unit), peer_name, fmt(peer, unit),
                  "n/a" if ratio is None else f"{ratio:.2f}", target_s, met))


for db in ("pgbench", "mixed"):
    bk_wall = med("backupkit", db, "backup", "wall")
    bk_size = med("backupkit", db, "backup", "size")
    fc_target = 1.0 if db == "pgbench" else 0.35
    row(db, "backup wall", bk_wall, "pg_dump -Fc", med("pg_dump -Fc", db, "backup", "wall"), "s", fc_target)
    row(db, "backup wall", bk_wall, "pg_dump -Fp >/dev/null", med("pg_dump -Fp >/dev/null", db, "backup", "wall"), "s",
        1.15 if db == "pgbench" else None)
    row(db, "backup wall", bk_wall, "pg_dump -Fc -Z0 \\| restic", med("restic (pg_dump -Fc -Z0 |)", db, "backup", "wall"), "s")
    row(db, "stored size", bk_size, "pg_dump -Fc file", med("pg_dump -Fc", db, "backup", "size"), "bytes", 1.0)
    row(db, "stored size", bk_size, "restic (repo growth)", med("restic (pg_dump -Fc -Z0 |)", db, "backup", "size"), "bytes")
    bk2 = med("backupkit", db, "second", "size")
    row(db, "2nd backup, new bytes", bk2, "backupkit 1st backup", bk_size, "bytes", 0.08)
    row(db, "2nd backup, new bytes", bk2, "restic 2nd (repo growth)", med("restic (pg_dump -Fc -Z0 |)", db, "second", "size"),
        "bytes", 1.0)
    row(db, "2nd backup, new bytes", bk2, "2nd pg_dump -Fc file", med("pg_dump -Fc", db, "second", "size"), "bytes")
    restore_local = med("backupkit restore", db, "restore", "wall")
    row(db, "restore wall", restore_local, "pg_restore -j 2", med("pg_restore -j 2", db, "restore", "wall"), "s", 1.0)
    restore_s3 = med("backupkit restore (S3)", db, "restore", "wall")
    if restore_s3 is not None:
        row(db, "restore wall from S3 (S3Proxy)", restore_s3, "backupkit restore, local", restore_local, "s", 1.1)
    if med("backupkit", db, "backup", "cpu"):
        bk_cpu = med("backupkit", db, "backup", "cpu")
        row(db, "backup CPU (user+sys)", bk_cpu, "pg_dump -Fc", med("pg_dump -Fc", db, "backup", "cpu"), "s")
        read = med("backupkit bytes read", db, "backup", "size")
        if read:
            ns = bk_cpu * 1e9 / read
            table.append((db, "JVM CPU per byte of dump (whole CLI call)", f"{ns:.2f} ns", "", "", "", "≤ 4 ns" if db == "pgbench" else "",
                          ("yes" if ns <= 4 else "**no**") if db == "pgbench" else ""))
    bk_rss = med("backupkit", db, "backup", "rss")
    row(db, "peak RSS, backup", bk_rss, "pg_dump -Fc", med("pg_dump -Fc", db, "backup", "rss"), "rss",
        absolute_limit=(256 * 1024, "≤ 256 MiB"))
    row(db, "peak RSS, backup", bk_rss, "restic", med("restic (pg_dump -Fc -Z0 |)", db, "backup", "rss"), "rss")
    row(db, "peak RSS, restore", med("backupkit restore", db, "restore", "rss"), "pg_restore -j 2",
        med("pg_restore -j 2", db, "restore", "rss"), "rss", absolute_limit=(256 * 1024, "≤ 256 MiB"))

fixed = med("backupkit list, empty repository", "all", "fixed", "wall")
if fixed is not None:
    table.append(("all", "CLI fixed cost: `list`, empty password-protected repository", fmt(fixed, "s"),
                  "CPU s", fmt(med("backupkit list, empty repository", "all", "fixed", "cpu"), "s"), "", "≤ 0.5 s",
                  "yes" if fixed <= 0.5 else "**no**"))

# pgBackRest copies the whole cluster (both databases, physically, indexes included): compare with
# backupkit's two logical backups together.
pb_wall = med("pgBackRest full (cluster)", "cluster", "backup", "wall")
both_wall = None
both_size = None
if med("backupkit", "pgbench", "backup", "wall") is not None and med("backupkit", "mixed", "backup", "wall") is not None:
    both_wall = med("backupkit", "pgbench", "backup", "wall") + med("backupkit", "mixed", "backup", "wall")
    both_size = med("backupkit", "pgbench", "backup", "size") + med("backupkit", "mixed", "backup", "size")
if pb_wall is not None:
    row("cluster", "backup wall (both dbs)", both_wall, "pgBackRest full, zstd, process-max=2", pb_wall, "s")
    row("cluster", "stored size (both dbs)", both_size, "pgBackRest full (repo delta)",
        med("pgBackRest full (cluster)", "cluster", "backup", "size"), "bytes")
    row("cluster", "peak RSS, backup", med("backupkit", "pgbench", "backup", "rss"), "pgBackRest",
        med("pgBackRest full (cluster)", "cluster", "backup", "rss"), "rss")

out = []
from datetime import datetime, timezone

date = a.date or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
out.append(f"# backupkit bench: scale {a.scale}, {a.rounds} rounds, {date}, {a.sha}")
out.append("")
sizes = a.db_sizes.split()
size_text = ", ".join(f"{sizes[i]} {int(sizes[i + 1]) / MIB:.0f} MiB" for i in range(0, len(sizes) - 1, 2))
out.append(f"- databases: {size_text}; {a.cpus} CPUs; load average (1/5/15 min) at start {a.load_start}, at end {a.load_end}")
out.append(f"- backupkit: compression {a.compression}, AES-256-GCM, --jobs 2, run as `{a.java_opts}`")
out.append(f"- S3 (S3Proxy on loopback, filesystem backend): {a.s3}")
out.append(f"- pgBackRest: {a.pgbackrest}")
out.append(f"- {a.versions}")
out.append("")
out.append("Medians of all rounds; ratio = backupkit / peer (below 1 = backupkit smaller or faster).")
out.append("")
out.append("| database | measure | backupkit | peer | peer value | ratio | target | met |")
out.append("|---|---|---:|---|---:|---:|---|---|")
for r in table:
    out.append("| " + " | ".join(r) + " |")
out.append("")
out.append("<details><summary>raw samples</summary>")
out.append("")
out.append("| tool | database | step | round | wall s | CPU s | peak RSS MiB | bytes |")
out.append("|---|---|---|---|---:|---:|---:|---:|")
for tool, db, step, rnd, wall, rss, size, cpu in rows:
    out.append(f"| {tool.replace('|', chr(92) + '|')} | {db} | {step} | {rnd} | {wall:.2f} | {cpu:.2f} | {rss / 1024:.0f} | {size} |")
out.append("")
out.append("</details>")
print("\n".join(out))
