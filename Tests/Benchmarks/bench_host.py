"""What the benchmark scripts share about the host they run on: free ports, per-process and
host-wide CPU and memory from /proc, CPU lists for pinning, medians over repeats; child processes
(stopping one by its pid, its log tail, waiting for a port, a binary or a topic); and the start
and end of a run (argument parser, signals, header lines, failures, JSON record, exit code), so
that every script reports the same way."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

CLK_TCK = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parents[2]


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


def proc_cpu_seconds(pid: int) -> float | None:
    """utime+stime of a process (all threads), None once it is gone."""
    try:
        fields = proc_stat_fields(pid)
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def self_cpu_seconds() -> float:
    """CPU of this process, user + system, librdkafka's threads included."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


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


def proc_rss_mb(pid: int) -> float | None:
    kb = proc_vmrss_kb(pid)
    return None if kb is None else kb / 1024


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


def pin_apart(args, client_cpus: str | None = None) -> tuple[str | None, set[int]]:
    """Settles the brokers' CPUs (choose_broker_cpus) and moves this process onto `client_cpus`,
    by default every CPU the brokers do not get (all of them when the brokers would get all);
    what it starts later (clients, librdkafka threads) inherits that. Returns why the brokers are
    not pinned (None when they are) and the CPUs this process now runs on (empty when not)."""
    refused = choose_broker_cpus(args)
    if refused:
        return refused, set()
    available = set(os.sched_getaffinity(0))
    mine = parse_cpu_list(client_cpus) if client_cpus else available - parse_cpu_list(args.broker_cpus)
    mine = mine or available
    os.sched_setaffinity(0, mine)
    return None, mine


# --------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------

def terminate(proc: subprocess.Popen, timeout: float, wait: Callable[[float], object] | None = None) -> bool:
    """SIGTERM to this child alone (by its pid, never by name), up to `timeout` s for it to exit,
    then SIGKILL and 10 s more. `wait(timeout)` replaces proc.wait when the caller must also read
    the child's output (communicate). True when it exited after the SIGTERM, False when killed."""
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        (wait or proc.wait)(timeout)
        return True
    except subprocess.TimeoutExpired:
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        return False


def log_tail(path: Path, lines: int) -> str:
    """The last `lines` lines of a child's log, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def wait_listening(port: int, timeout: float, check_alive: Callable[[], None]) -> bool:
    """Waits until something accepts connections on 127.0.0.1:`port`; `check_alive()` runs before
    every attempt and raises once the process that should listen is gone. False after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        check_alive()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def wait_for_binary(path: str, seconds: float, poll: float) -> bool:
    """The binary may be replaced by a rebuild: wait a little for it to come back."""
    deadline = time.monotonic() + seconds
    while not Path(path).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def wait_topic_ready(lookup: Callable[[], object], partitions: int, timeout: float) -> tuple[bool, object]:
    """Polls `lookup()`, a topic's metadata from AdminClient.list_topics (None while it is
    absent), every 0.1 s until the topic has `partitions` partitions, each with a leader. Returns
    whether it got there within `timeout` s, and the last metadata seen (for the message)."""
    deadline = time.monotonic() + timeout
    while True:
        t = lookup()
        if t is not None and t.error is None and len(t.partitions) == partitions and \
                all(p.leader >= 0 for p in t.partitions.values()):
            return True, t
        if time.monotonic() > deadline:
            return False, t
        time.sleep(0.1)


def default_strait() -> str:
    """$STRAIT_BIN, else the release build of this checkout."""
    return os.environ.get("STRAIT_BIN") or str(REPO / ".build" / "release" / "strait")


# --------------------------------------------------------------------------------------------
# Start and end of a run
# --------------------------------------------------------------------------------------------

def doc_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser whose --help shows the script's docstring: its first paragraph as the
    description, and from `Examples:` on as written."""
    return argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter,
                                   epilog=doc[doc.index("Examples:"):])


def exit_on_signals(cleanup: Callable[[], None] | None = None):
    """SIGTERM and SIGHUP end the run through SystemExit(128 + signal), so that `finally` blocks
    (and atexit handlers) stop what it started; `cleanup` runs first when given."""

    def on_signal(signum, _frame):
        if cleanup is not None:
            cleanup()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)


def announce_run() -> str:
    """Prints the command line and the host (CPUs, Python, confluent-kafka and librdkafka), so
    that a pasted result says where it comes from; returns the command line for the JSON record."""
    import confluent_kafka  # here, not at the top: client_vs_kcat.py uses this module without it

    command = " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv)
    print(f"command: {command}")
    print(f"host: {platform.node()}, {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
          f"confluent-kafka {confluent_kafka.__version__}, librdkafka {confluent_kafka.libversion()[0]}")
    return command


def record_failure(failures: list[str], message: str):
    """A part of the run failed: said now, listed again at the end (finish), and the run goes on."""
    failures.append(message)
    print(f"FAILED {message}", flush=True)


def remove_workdir(workdir: Path, keep: bool):
    """Removes the run's temporary directory, or says where it is kept (--keep-dir)."""
    if keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def write_json(dest: str, record: dict):
    """One JSON line with every figure: printed when `dest` is `-` (--json alone), else written
    to that file."""
    line = json.dumps(record, default=str)
    if dest == "-":
        print(line)
    else:
        Path(dest).write_text(line + "\n")
        print(f"\nJSON written to {dest}")


def finish(started: float, failures: list[str]) -> int:
    """Prints the run's total time and its failures; the exit code: 1 when anything failed."""
    print(f"\ntotal {time.monotonic() - started:.0f} s")
    if failures:
        print("\nFAILURES:")
        for f in failures:
            print(f"- {f}")
        return 1
    return 0
