"""What the benchmark scripts share about the host they run on: free ports, per-process and
host-wide CPU and memory from /proc, CPU lists for pinning, and medians over repeats."""

from __future__ import annotations

import os
import shutil
import socket
import statistics

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A benchmark step failed; the message says what was seen."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stat_fields(pid: int) -> list[bytes]:
    """/proc/<pid>/stat from field 3 (state) on; fields[7] is minflt, [11] utime, [12] stime
    (clock ticks, all threads). Raises OSError once the process is gone."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    return data[data.rindex(b")") + 2:].split()


def proc_vmrss_kb(pid: int) -> int | None:
    """VmRSS (kB) from /proc/<pid>/status, None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def host_busy_seconds() -> float:
    """CPU-seconds all CPUs spent busy (not idle/iowait) since boot, from /proc/stat."""
    with open("/proc/stat", "rb") as f:
        fields = f.readline().split()
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    values = [int(v) for v in fields[1:9]]
    return (sum(values) - values[3] - values[4]) / CLK_TCK


def parse_cpu_list(text: str) -> set[int]:
    """A taskset-style CPU list: `0,2-3`."""
    cpus: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            cpus.update(range(int(lo), int(hi) + 1))
        elif part:
            cpus.add(int(part))
    return cpus


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def choose_broker_cpus(args) -> str | None:
    """Settles `args.broker_cpus` for `--no-pin`/`--broker-cpus`: None (and why not, returned)
    when brokers cannot be pinned apart, else the given list or the last CPU."""
    available = sorted(os.sched_getaffinity(0))
    reason = None
    if args.no_pin:
        reason = "no (--no-pin)"
    elif not shutil.which("taskset"):
        reason = "no (taskset not found)"
    elif len(available) < 2:
        reason = f"no (only {len(available)} CPU available)"
    if reason:
        args.broker_cpus = None
        return reason
    if not args.broker_cpus:
        args.broker_cpus = str(available[-1])
    return None
