#!/usr/bin/env python3
"""Where one CLI call's CPU goes, measured from outside (no agent, no JFR), so a loaded machine barely moves it.

    bench/jvm-cpu.py LABEL COMMAND [ARGS]...

COMMAND must become the JVM itself (the launcher execs java). Prints one line: wall time, the JVM's own
CPU (utime + stime of the process, read while it is a zombie, so after its last thread ended and without
its children), its system time, the CPU of the children it reaped (psql, pg_dump...), the CPU of its C1 and
C2 compiler threads and its peak RSS (both sampled from /proc every 20 ms), exit code and load average.
Output of COMMAND goes to $CPU_LOG (default /dev/null). With CPU_THREADS=1 also the CPU per thread name on
stderr. docs/performance.md ("jitwall") used it for interleaved before/after runs.
"""
import collections
import glob
import os
import re
import sys
import threading
import time

if len(sys.argv) < 3:
    sys.exit(__doc__)
label, cmd = sys.argv[1], sys.argv[2:]
tck = os.sysconf('SC_CLK_TCK')
t0 = time.time()
pid = os.fork()
if pid == 0:
    fd = os.open(os.environ.get('CPU_LOG', '/dev/null'), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.execvp(cmd[0], cmd)

per_thread = {}  # /proc path -> (thread name, CPU ticks)
hwm = [0]
done = False


def poll():
    while not done:
        for p in glob.glob(f'/proc/{pid}/task/*/stat'):
            try:
                s = open(p).read()
            except OSError:
                continue
            f = s[s.rindex(')') + 2:].split()
            per_thread[p] = (s[s.index('(') + 1:s.rindex(')')], int(f[11]) + int(f[12]))
        try:
            for line in open(f'/proc/{pid}/status'):
                if line.startswith('VmHWM:'):
                    hwm[0] = max(hwm[0], int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.02)


threading.Thread(target=poll, daemon=True).start()
# wait for the exit but do not reap: a zombie's stat still holds the whole process's CPU time
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
done = True
wall = time.time() - t0
s = open(f'/proc/{pid}/stat').read()
ut, st, cut, cst = (int(x) for x in s[s.rindex(')') + 2:].split()[11:15])
_, status = os.waitpid(pid, 0)
c1 = sum(v for c, v in per_thread.values() if c.startswith('C1'))
c2 = sum(v for c, v in per_thread.values() if c.startswith('C2'))
if os.environ.get('CPU_THREADS'):
    by_name = collections.Counter()
    for c, v in per_thread.values():
        by_name[re.sub(r'[-#0-9 ]+$', '', c)] += v
    sys.stderr.write(' '.join(f'{k}:{v / tck:.2f}' for k, v in by_name.most_common() if v) + '\n')
print(f"{label}\twall={wall:.2f}\tjvm={(ut + st) / tck:.2f}\tsys={st / tck:.2f}\tchildren={(cut + cst) / tck:.2f}"
      f"\tc1cpu={c1 / tck:.2f}\tc2cpu={c2 / tck:.2f}\thwm={hwm[0] // 1024}\trc={os.waitstatus_to_exitcode(status)}"
      f"\tload={os.getloadavg()[0]:.1f}", flush=True)
