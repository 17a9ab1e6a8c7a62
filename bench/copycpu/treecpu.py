#!/usr/bin/env python3
# Usage: treecpu.py POSTMASTER_PID CMD... (see the docstring); used for docs/performance.md, "copyjdbc".
"""treecpu.py POSTMASTER_PID CMD...: runs CMD; prints CPU-s of CMD's process tree by command name
(sampled every 10 ms, last value seen), the tree's total (getrusage of the waited child, exact) and the
CPU of the given PostgreSQL cluster (postmaster + reaped backends via cutime + live children), exact."""
import os, subprocess, sys, time, collections, resource
tick = os.sysconf('SC_CLK_TCK')
def stat(pid):
    s = open(f'/proc/{pid}/stat').read()
    comm = s[s.index('(') + 1:s.rindex(')')]
    f = s[s.rindex(')') + 2:].split()
    return comm, int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14])
def pg_total(pm):
    tot = 0
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            comm, ppid, own, kids = stat(p)
        except (OSError, ValueError):
            continue
        if int(p) == pm: tot += own + kids
        elif ppid == pm: tot += own
    return tot / tick
pm = int(sys.argv[1])
pg0 = pg_total(pm)
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.time()
proc = subprocess.Popen(sys.argv[2:])
seen = {}
while proc.poll() is None:
    tree = {proc.pid}
    procs = {}
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            procs[int(p)] = stat(p)
        except (OSError, ValueError):
            pass
    changed = True
    while changed:
        changed = False
        for pid, (comm, ppid, own, kids) in procs.items():
            if ppid in tree and pid not in tree:
                tree.add(pid); changed = True
    for pid in tree:
        if pid in procs and pid != proc.pid:
            seen[pid] = (procs[pid][0], procs[pid][2])
    time.sleep(0.01)
wall = time.time() - t0
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
time.sleep(0.5)
pg1 = pg_total(pm)
total = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
by = collections.Counter()
for pid, (comm, cpu) in seen.items():
    by[comm] += cpu / tick
kids = sum(v for k, v in by.items() if k != 'java')
line = f"wall {wall:.2f} s exit {proc.returncode} | tree {total:.2f} CPU-s: JVM {total - kids:.2f}"
for comm, cpu in by.most_common():
    if comm != 'java' and cpu >= 0.005: line += f", {comm} {cpu:.2f}"
line += f" | postgres {pg1 - pg0:.2f} | all {total + pg1 - pg0:.2f}"
print(line, file=sys.stderr)
