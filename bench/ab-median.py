#!/usr/bin/env python3
"""Medians of bench/ab-backup.sh output, per database and label; ratios against the labels fc and fp when present."""
import sys, re, statistics as st, collections
d = collections.defaultdict(lambda: collections.defaultdict(list))
for f in sys.argv[1:]:
    for line in open(f):
        m = re.match(r'(\S+) (\S+) r\d+ wall (\S+) cpu (\S+) pg (\S+) rss (\d+)', line)
        if not m: continue
        l, db, w, c, p, r = m.groups()
        d[db][l].append((float(w), float(c), float(p), int(r)))
for db in d:
    fc = st.median(x[0] for x in d[db]['fc']) if 'fc' in d[db] else None
    fp = st.median(x[0] for x in d[db]['fp']) if 'fp' in d[db] else None
    for l, xs in sorted(d[db].items()):
        w = st.median(x[0] for x in xs)
        print(f"{db:8} {l:5} n={len(xs)} wall {w:.2f} ({min(x[0] for x in xs):.2f}-{max(x[0] for x in xs):.2f}) cpu {st.median(x[1] for x in xs):.2f} pg {st.median(x[2] for x in xs):.2f} total {st.median(x[1]+x[2] for x in xs):.2f} rss {min(x[3] for x in xs)}-{max(x[3] for x in xs)}" + (f"  /Fc {w/fc:.3f}" if fc else "") + (f"  /Fp {w/fp:.3f}" if fp else ""))
