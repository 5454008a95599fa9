#!/usr/bin/env python3
"""Strait's mirror (`strait run --mm2`) against a naive consume->produce bridge written with
confluent-kafka: backlog copy throughput and replication latency, one run, same two brokers.

Two `strait broker` processes, "source" and "target", run on free ports with temporary data
directories (`--set auto.create.topics.enable=false` so that no topic appears by accident, and
`--set group.initial.rebalance.delay.ms=0` so that neither contender waits out the 3 s first-join
delay of its group: the mirror's work group lives on the target, the bridge's consumer group on
the source). When `taskset` exists and there are 2+ CPUs both brokers run pinned to the last CPU
and everything else (this process, the contenders, the producers) to the other CPUs.

1. Backlog copy, for 100 B values (--records) and 1 KB values (--records-1k). Per repeat a fresh
   source topic of --partitions partitions is filled with keyless records, acks=1, no
   compression, by `strait perf produce --bootstrap SRC --topic T --records N --record-size B
   --partitions P --acks 1 --linger-ms 50 --batch-size 1000000` (or, when that binary has no
   `perf produce`, by confluent-kafka with linger.ms=50, batch.size=1000000). Then, in
   alternating order per repeat:

   * mirror: an mm2.properties
         clusters = src, dst
         src.bootstrap.servers = 127.0.0.1:SRCPORT
         dst.bootstrap.servers = 127.0.0.1:DSTPORT
         src->dst.enabled = true
         src->dst.topics = T
     and `strait run --mm2 mm2.properties`, which creates `src.T` on the target with the same
     partition count and copies T into it;
   * bridge: `python3 mirror_vs_bridge.py bridge-worker ...` in its own process: a Consumer
     (unique group.id, subscribe, auto.offset.reset=earliest, enable.auto.commit=false,
     isolation.level=read_committed) drained with consume(1000, 0) (poll(0.1) when idle) and an
     idempotent Producer (acks=all, linger.ms=5, batch.size=1000000) that re-sends every record
     with its key, value, headers and CreateTime to the same partition of `bridge.T` (created
     beforehand with the same partition count), poll(0) after every batch.

   Each contender is timed from the start of its process until the sum over partitions of the
   target topic's high watermarks reaches the source topic's record count (polled every 50 ms
   with Consumer.get_watermark_offsets); then it gets SIGTERM (SIGKILL after 15 s). Reported:
   records/s = records / that time (start-up included, as an operator sees it), the time to the
   first copied record (start-up: connections, topic creation, group join), the rate from then on
   (records copied after the first poll that saw any / the time since), the contender's
   CPU-seconds (utime+stime from /proc at that moment), its maximum RSS, and the two brokers'
   CPU-seconds during the copy. Topics are deleted after each repeat. Small --records make the
   start-up dominate the first figure; the "after the first record" row is the copy rate proper.

2. Latency at a fixed rate, per contender: a fresh source topic, the contender started and a
   probe record per partition copied through (so it is running), then a producer process sends
   --rate records/s of 100 B for --duration s (acks=all, linger.ms=--latency-linger-ms, default
   5 as librdkafka's, round-robin over the partitions) whose values start with the send time
   (time.time_ns()) and a sequence number (records read twice are counted apart). Two consumers in this process (threads) read the target topic from the
   beginning and the source topic as a reference (produce->consume with no copy in between) and
   take, per record, receive time minus embedded send time ("end-to-end"). Records sent in the
   first --warmup s (2) are ignored; p50/p99/max in ms, and the copier's CPU use over the run.
   (The target records keep the source CreateTime, so a source-append->target-append figure
   cannot be read from timestamps; end-to-end it is.) A latency that grows through the run (max
   far above p50, in seconds) means the path did not keep up with --rate; the reference row
   tells whether the brokers themselves kept up.

Every wait is bounded (--copy-timeout, --ready-timeout, --fill-timeout, --drain-timeout); on a
timeout the script says what had been reached, prints the contender's log tail and exits
non-zero. All processes are stopped and temporary directories removed on the way out.

The table printed at the end is Markdown for docs/benchmarks.md; --json prints one JSON line
with every figure (--json FILE writes it to FILE instead).

Examples:

    swift build -c release --product strait
    python3 Tests/Benchmarks/mirror_vs_bridge.py
    python3 Tests/Benchmarks/mirror_vs_bridge.py --repeat 3 --json results.json
    python3 Tests/Benchmarks/mirror_vs_bridge.py --strait .build/debug/strait --records 200000 \\
        --records-1k 50000 --duration 5 --rate 2000
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import (OFFSET_BEGINNING, TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError,
                             KafkaException, Producer, TopicPartition)

from bench_cluster import (Broker, Process, add_cluster_args, fill_plain, help_mentions, note_unclean_stop,
                           perf_produce_available, setup_pinning, start_mm2_agent, stop_all)
from bench_host import (BenchError, announce_run, default_strait, doc_parser, exit_on_signals, finish,
                        host_busy_seconds, median, proc_cpu_seconds, proc_rss_mb, record_failure, remove_workdir,
                        self_cpu_seconds, write_json)

HERE = Path(__file__).resolve()
CASES = (("100B", 100), ("1KB", 1024))
SEND_TIME_DIGITS = 20  # a latency record's value: send time (ns), sequence number, padding
SEQUENCE_DIGITS = 10


# --------------------------------------------------------------------------------------------
# Worker modes (run in their own process so their CPU is measured apart)
# --------------------------------------------------------------------------------------------

def bridge_worker(argv: list[str]) -> int:
    """The naive bridge: consume from the source, produce the same record to the target, until
    SIGTERM; then flush and print one JSON line."""
    p = argparse.ArgumentParser(prog="mirror_vs_bridge.py bridge-worker")
    p.add_argument("--source", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--target-topic", required=True)
    a = p.parse_args(argv)
    stopping = False

    def on_term(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    failures = 0
    first_error = None

    def on_delivery(err, _msg):
        nonlocal failures, first_error
        if err is not None:
            failures += 1
            first_error = first_error or str(err)

    consumer = Consumer({
        "bootstrap.servers": a.source,
        "group.id": f"bridge-{uuid.uuid4().hex}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": False,
    })
    producer = Producer({
        "bootstrap.servers": a.target,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "batch.size": 1_000_000,
        "compression.type": "none",
        "delivery.report.only.error": True,
        "on_delivery": on_delivery,
    })
    consumer.subscribe([a.topic])
    copied = 0
    target = a.target_topic

    def forward(m):
        kind, ts = m.timestamp()
        extra = {"partition": m.partition()}
        if kind != TIMESTAMP_NOT_AVAILABLE:
            extra["timestamp"] = ts
        headers = m.headers()
        if headers:
            extra["headers"] = headers
        while True:
            try:
                producer.produce(target, m.value(), m.key(), **extra)
                return
            except BufferError:
                producer.poll(0.05)

    while not stopping:
        # Take what is already fetched without waiting; block (briefly) only when idle, so the
        # loop neither spins nor holds records back to fill a batch.
        batch = consumer.consume(1000, 0)
        if not batch:
            one = consumer.poll(0.1)
            batch = [one] if one is not None else []
        for m in batch:
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(m.error())
            forward(m)
            copied += 1
        producer.poll(0)
    unflushed = producer.flush(30)
    consumer.close()
    print(json.dumps({"copied": copied, "delivery_failures": failures, "first_error": first_error,
                      "unflushed": unflushed}), flush=True)
    return 0 if failures == 0 and unflushed == 0 else 1


def paced_producer(argv: list[str]) -> int:
    """Sends --rate records/s for --duration s, values starting with time.time_ns(); prints one
    JSON line when every record is delivered."""
    p = argparse.ArgumentParser(prog="mirror_vs_bridge.py paced-producer")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--partitions", type=int, required=True)
    p.add_argument("--linger-ms", type=int, default=1)
    a = p.parse_args(argv)
    failures = 0

    def on_delivery(err, _msg):
        nonlocal failures
        if err is not None:
            failures += 1

    producer = Producer({
        "bootstrap.servers": a.bootstrap,
        "acks": "all",
        "linger.ms": a.linger_ms,
        "compression.type": "none",
        "enable.idempotence": False,
        "delivery.report.only.error": True,
        "on_delivery": on_delivery,
    })
    pad = b"x" * max(0, a.size - SEND_TIME_DIGITS - SEQUENCE_DIGITS)
    total = int(a.rate * a.duration)
    sent = 0
    max_behind = 0.0
    start = time.perf_counter()
    while sent < total:
        now = time.perf_counter()
        due = min(total, int((now - start) * a.rate) + 1)
        max_behind = max(max_behind, (due - sent) / a.rate)
        while sent < due:
            value = b"%020d%010d" % (time.time_ns(), sent) + pad
            while True:
                try:
                    producer.produce(a.topic, value, partition=sent % a.partitions)
                    break
                except BufferError:
                    producer.poll(0.01)
            sent += 1
        producer.poll(0)
        pause = start + sent / a.rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    elapsed = time.perf_counter() - start
    unflushed = producer.flush(60)
    print(json.dumps({"sent": sent, "seconds": elapsed, "max_behind_s": max_behind,
                      "delivery_failures": failures, "unflushed": unflushed}), flush=True)
    return 0 if failures == 0 and unflushed == 0 else 1


# --------------------------------------------------------------------------------------------
# Contenders
# --------------------------------------------------------------------------------------------

def start_mirror(args, source: Broker, target: Broker, topic: str, rundir: Path) -> Process:
    if not re.fullmatch(r"[A-Za-z0-9_]+", topic):
        raise BenchError(f"topic {topic!r} would need escaping in a regex and in a properties file")
    return start_mm2_agent("mirror agent", args.strait, ("src", "dst"), source, target, topic, args.mm2_set, rundir)


def start_bridge(source: Broker, target: Broker, topic: str, target_topic: str, rundir: Path) -> Process:
    cmd = [sys.executable, str(HERE), "bridge-worker", "--source", source.bootstrap, "--target", target.bootstrap,
           "--topic", topic, "--target-topic", target_topic]
    return Process("bridge", cmd, rundir / "bridge.log", rundir, stdout_pipe=True)


def start_contender(kind: str, args, source: Broker, target: Broker, topic: str, partitions: int,
                    rundir: Path) -> tuple[Process, str]:
    rundir.mkdir(parents=True, exist_ok=True)
    if kind == "mirror":
        return start_mirror(args, source, target, topic, rundir), f"src.{topic}"
    target_topic = f"bridge.{topic}"
    target.create_topic(target_topic, partitions, args.ready_timeout)
    return start_bridge(source, target, topic, target_topic, rundir), target_topic


def stop_contender(proc: Process, kind: str, notes: list[str]):
    note_unclean_stop(proc.stop(), f"{kind}:", proc, notes)
    if proc.stdout.strip():
        try:
            report = json.loads(proc.stdout.strip().splitlines()[-1])
            if report.get("delivery_failures") or report.get("unflushed"):
                notes.append(f"{kind}: {report}")
                print(f"note: {kind} reported {report}", flush=True)
        except ValueError:
            pass


def wait_copied(args, proc: Process, target: Broker, topic: str, partitions: int, goal: int,
                timeout: float, what: str) -> dict:
    """Polls the target's end offsets until they sum to `goal`; samples the contender's CPU and
    RSS meanwhile. Returns times measured from the contender's start."""
    deadline = proc.started + timeout
    exists = False
    reached = 0
    first = None
    first_reached = 0
    max_rss = 0.0
    cpu = 0.0
    while True:
        now = time.monotonic()
        if not exists:
            exists = target.topic_partitions(topic) > 0
        if exists:
            try:
                reached = sum(target.end_offsets(topic, partitions))
            except KafkaException:
                reached = 0
        now = time.monotonic()
        sample_cpu = proc_cpu_seconds(proc.pid)
        if sample_cpu is not None:
            cpu = sample_cpu
        max_rss = max(max_rss, proc_rss_mb(proc.pid) or 0.0)
        if reached > 0 and first is None:
            first = now - proc.started
            first_reached = reached
        if reached >= goal:
            seconds = now - proc.started
            # The rate once copying had begun: start-up (connections, topic creation, group join)
            # left out. None when everything arrived between two polls.
            steady = (goal - first_reached) / (seconds - first) if seconds > first and goal > first_reached else None
            return {"seconds": seconds, "first_record_s": first, "steady_records_per_s": steady, "cpu_s": cpu,
                    "max_rss_mb": max_rss, "records_on_target": reached}
        if not proc.alive():
            raise BenchError(f"{what}: {proc.name} exited with {proc.proc.returncode} after "
                             f"{now - proc.started:.1f} s with {reached:,} of {goal:,} records on {topic}; "
                             f"log tail:\n{proc.log_tail()}")
        if now > deadline:
            raise BenchError(f"{what}: {reached:,} of {goal:,} records on {topic} after {timeout:.0f} s "
                             f"(topic {'exists' if exists else 'not created'}); {proc.name} log tail:\n"
                             f"{proc.log_tail()}")
        time.sleep(0.05)


# --------------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------------

def fill(args, source: Broker, topic: str, records: int, size: int) -> dict:
    source.create_topic(topic, args.partitions, args.ready_timeout)
    seconds = fill_plain(args.broker_strait, source.bootstrap, topic, records, size, args.partitions, args.fill_with,
                         args.fill_timeout, round_robin=False)
    on_source = sum(source.end_offsets(topic, args.partitions))
    if on_source != records:
        print(f"note: {topic} holds {on_source:,} records, {records:,} were sent", flush=True)
    return {"records": on_source, "seconds": seconds}


def backlog_case(args, source: Broker, target: Broker, label: str, size: int, records: int, rep: int,
                 workdir: Path, notes: list[str]) -> dict:
    topic = f"bk_{label.lower()}_r{rep + 1}_{uuid.uuid4().hex[:6]}"
    filled = fill(args, source, topic, records, size)
    goal = filled["records"]
    print(f"  filled {topic}: {goal:,} records of {size} B in {filled['seconds']:.1f} s "
          f"({goal / filled['seconds']:,.0f}/s, {args.fill_with})", flush=True)
    result = {"case": label, "value_bytes": size, "records": goal, "repeat": rep + 1, "topic": topic,
              "fill_seconds": filled["seconds"]}
    order = ["mirror", "bridge"] if rep % 2 == 0 else ["bridge", "mirror"]
    targets = []
    try:
        for kind in order:
            rundir = workdir / f"{topic}-{kind}"
            before = source.cpu() + target.cpu()
            host_before, self_before, wall_before = host_busy_seconds(), self_cpu_seconds(), time.monotonic()
            proc, target_topic = start_contender(kind, args, source, target, topic, args.partitions, rundir)
            targets.append(target_topic)
            try:
                r = wait_copied(args, proc, target, target_topic, args.partitions, goal, args.copy_timeout,
                                f"{kind} backlog {label} repeat {rep + 1}")
                r["brokers_cpu_s"] = source.cpu() + target.cpu() - before
                # CPU used on the host by anything else than the contender, the brokers and this
                # script during the copy: noise when high.
                other = (host_busy_seconds() - host_before) - r["cpu_s"] - r["brokers_cpu_s"] - \
                    (self_cpu_seconds() - self_before)
                r["other_cpu_util"] = max(0.0, other) / max(1e-9, time.monotonic() - wall_before)
            finally:
                stop_contender(proc, kind, notes)
            r["records_per_s"] = goal / r["seconds"]
            result[kind] = r
            print(f"  {kind:<6} {label:<4} {r['records_per_s']:>12,.0f} records/s  {r['seconds']:7.2f} s "
                  f"(first record {r['first_record_s'] or 0:.2f} s, then {r['steady_records_per_s'] or 0:,.0f}/s)  CPU {r['cpu_s']:6.2f} s  "
                  f"RSS {r['max_rss_mb']:6.0f} MB  brokers CPU {r['brokers_cpu_s']:6.2f} s  "
                  f"other host load {r['other_cpu_util']:.0%}", flush=True)
    finally:
        if not args.keep_dir:
            target.delete_topics(targets)
            source.delete_topics([topic])
    return result


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[index]


def latency_stats(samples: list[tuple[int, float]], cut_ns: int) -> dict:
    values = sorted(lat for sent, lat in samples if sent >= cut_ns)
    return {"records": len(values), "p50_ms": percentile(values, 0.50), "p99_ms": percentile(values, 0.99),
            "max_ms": values[-1] if values else float("nan")}


class LatencyReader:
    """Reads a topic of one cluster from the beginning in a thread; per record seen for the first
    time appends (embedded send time, receive time - send time in ms); counts records seen again.
    Probe records are skipped."""

    def __init__(self, broker: Broker, topic: str, partitions: int, out: list):
        self.topic = topic
        self.out = out
        self.seen: set[int] = set()
        self.duplicates = 0
        self.error = None
        self._stop = threading.Event()
        self.consumer = Consumer({"bootstrap.servers": broker.bootstrap,
                                  "group.id": f"latency-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False,
                                  "fetch.wait.max.ms": 100, "enable.partition.eof": False})
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        self.thread = threading.Thread(target=self._run, name=f"read-{topic}", daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self._stop.is_set():
                # Take what is fetched without waiting for a full batch (consume(n, timeout) waits
                # for n records or the timeout), block briefly only when idle.
                batch = self.consumer.consume(10000, 0)
                if not batch:
                    one = self.consumer.poll(0.05)
                    batch = [one] if one is not None else []
                for m in batch:
                    now_ns = time.time_ns()
                    if m.error():
                        if m.error().code() == KafkaError._PARTITION_EOF:
                            continue
                        raise KafkaException(m.error())
                    value = m.value()
                    if value.startswith(b"probe"):
                        continue
                    sent_ns = int(value[:SEND_TIME_DIGITS])
                    sequence = int(value[SEND_TIME_DIGITS:SEND_TIME_DIGITS + SEQUENCE_DIGITS])
                    if sequence in self.seen:
                        self.duplicates += 1
                        continue
                    self.seen.add(sequence)
                    self.out.append((sent_ns, (now_ns - sent_ns) / 1e6))
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            self.error = repr(exc)

    def close(self):
        self._stop.set()
        self.thread.join(timeout=10)
        try:
            self.consumer.close()
        except Exception:  # noqa: BLE001
            pass


def latency_case(args, source: Broker, target: Broker, kind: str, rep: int, workdir: Path,
                 notes: list[str]) -> dict:
    topic = f"lat_{kind}_r{rep + 1}_{uuid.uuid4().hex[:6]}"
    partitions = args.partitions
    source.create_topic(topic, partitions, args.ready_timeout)
    rundir = workdir / f"{topic}-{kind}"
    proc, target_topic = start_contender(kind, args, source, target, topic, partitions, rundir)
    paced = None
    readers: list[LatencyReader] = []
    try:
        probe = Producer({"bootstrap.servers": source.bootstrap, "acks": "all", "linger.ms": 0})
        for p in range(partitions):
            probe.produce(topic, b"probe", partition=p)
        if probe.flush(args.ready_timeout):
            raise BenchError(f"latency {kind}: probe records not delivered to {topic}")
        wait_copied(args, proc, target, target_topic, partitions, partitions, args.ready_timeout,
                    f"latency {kind}: waiting for the probes")
        ready_s = time.monotonic() - proc.started

        copied: list[tuple[int, float]] = []
        direct: list[tuple[int, float]] = []
        readers = [LatencyReader(target, target_topic, partitions, copied),
                   LatencyReader(source, topic, partitions, direct)]
        cmd = [sys.executable, str(HERE), "paced-producer", "--bootstrap", source.bootstrap, "--topic", topic,
               "--rate", str(args.rate), "--duration", str(args.duration), "--size", "100",
               "--partitions", str(partitions), "--linger-ms", str(args.latency_linger_ms)]
        cpu_before = proc_cpu_seconds(proc.pid) or 0.0
        paced = Process("paced producer", cmd, rundir / "producer.log", rundir, stdout_pipe=True)
        sent = None
        produced = None
        deadline = time.monotonic() + args.duration + args.drain_timeout
        while True:
            time.sleep(0.05)
            for reader in readers:
                if reader.error:
                    raise BenchError(f"latency {kind}: reading {reader.topic}: {reader.error}")
            if sent is None and not paced.alive():
                paced.stop()
                if paced.proc.returncode != 0:
                    raise BenchError(f"latency {kind}: producer exited with {paced.proc.returncode}: "
                                     f"{paced.stdout.strip()} {paced.log_tail()}")
                produced = json.loads(paced.stdout.strip().splitlines()[-1])
                sent = produced["sent"]
            if sent is not None and len(copied) >= sent and len(direct) >= sent:
                copier_cpu = (proc_cpu_seconds(proc.pid) or cpu_before) - cpu_before
                break
            if not proc.alive():
                proc.check_alive(f"the latency run ({len(copied):,} records copied)")
            if time.monotonic() > deadline:
                raise BenchError(f"latency {kind}: after {args.duration + args.drain_timeout:.0f} s, "
                                 f"{len(copied):,} records read from {target_topic} and {len(direct):,} from "
                                 f"{topic} of {sent if sent is not None else 'unknown (producer still running)'} "
                                 f"sent; {proc.name} log tail:\n{proc.log_tail()}")
        first_ns = min(s for s, _ in direct + copied)
        cut_ns = first_ns + int(args.warmup * 1e9)
        result = {"kind": kind, "repeat": rep + 1, "rate": args.rate, "duration_s": args.duration,
                  "sent": sent, "producer": produced, "ready_s": ready_s,
                  "copied": latency_stats(copied, cut_ns), "direct": latency_stats(direct, cut_ns),
                  "duplicates": readers[0].duplicates, "copier_cpu_s": copier_cpu,
                  "copier_cpu_util": copier_cpu / max(1e-9, (time.time_ns() - first_ns) / 1e9)}
        c, d = result["copied"], result["direct"]
        if result["duplicates"]:
            notes.append(f"latency {kind}: {result['duplicates']} records arrived twice on {target_topic}")
            print(f"note: {notes[-1]}", flush=True)
        print(f"  latency {kind:<6} p50 {c['p50_ms']:8.2f} ms  p99 {c['p99_ms']:8.2f} ms  max {c['max_ms']:8.2f} ms "
              f"({c['records']:,} records after warm-up)   no copy: p50 {d['p50_ms']:.2f} p99 {d['p99_ms']:.2f} "
              f"max {d['max_ms']:.2f} ms   copier CPU {copier_cpu:.2f} s ({result['copier_cpu_util']:.0%}); "
              f"producer at most {produced['max_behind_s'] * 1000:.0f} ms behind",
              flush=True)
        return result
    finally:
        if paced is not None:
            paced.stop()
        for reader in readers:
            reader.close()
        stop_contender(proc, kind, notes)
        if not args.keep_dir:
            target.delete_topics([target_topic])
            source.delete_topics([topic])


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------

def summarize(backlog: list[dict], latency: list[dict]) -> dict:
    summary: dict = {"backlog": {}, "latency": {}}
    for label, size in CASES:
        runs = [r for r in backlog if r["case"] == label and "mirror" in r and "bridge" in r]
        if not runs:
            continue
        per = {"value_bytes": size, "records": runs[0]["records"], "runs": len(runs)}
        for kind in ("mirror", "bridge"):
            per[kind] = {k: median([r[kind][k] for r in runs])
                         for k in ("records_per_s", "seconds", "first_record_s", "steady_records_per_s", "cpu_s",
                                   "max_rss_mb", "brokers_cpu_s")}
        per["ratio"] = per["mirror"]["records_per_s"] / per["bridge"]["records_per_s"]
        summary["backlog"][label] = per
    for kind in ("mirror", "bridge"):
        runs = [r for r in latency if r["kind"] == kind]
        if runs:
            summary["latency"][kind] = {k: median([r["copied"][k] for r in runs]) for k in ("p50_ms", "p99_ms", "max_ms")}
            summary["latency"][kind]["records"] = median([r["copied"]["records"] for r in runs])
            summary["latency"][kind]["copier_cpu_util"] = median([r["copier_cpu_util"] for r in runs])
            # The same records read from the source topic in the same run: what the brokers and
            # clients cost without any copy.
            for k in ("p50_ms", "p99_ms", "max_ms"):
                summary["latency"][kind]["no_copy_" + k] = median([r["direct"][k] for r in runs])
    return summary


def fmt_rate(value) -> str:
    return f"{value:,.0f}" if value else "n/a"


def markdown(summary: dict, args) -> str:
    out = []
    b = summary["backlog"]
    if b:
        out.append("| Backlog copy | Strait mirror | Naive bridge | Mirror / bridge |")
        out.append("|---|---:|---:|---:|")
        for label, per in b.items():
            m, g = per["mirror"], per["bridge"]
            name = f"{per['records']:,} × {per['value_bytes']} B"
            out.append(f"| {name}: records/s | {m['records_per_s']:,.0f} | {g['records_per_s']:,.0f} | "
                       f"{per['ratio']:.2f} |")
            out.append(f"| {name}: MB/s | {m['records_per_s'] * per['value_bytes'] / 1e6:,.1f} | "
                       f"{g['records_per_s'] * per['value_bytes'] / 1e6:,.1f} | {per['ratio']:.2f} |")
            out.append(f"| {name}: first record after, s | {m['first_record_s'] or 0:.2f} | "
                       f"{g['first_record_s'] or 0:.2f} | |")
            ms, gs = m["steady_records_per_s"], g["steady_records_per_s"]
            out.append(f"| {name}: records/s after the first record | {fmt_rate(ms)} | {fmt_rate(gs)} | "
                       f"{f'{ms / gs:.2f}' if ms and gs else ''} |")
            out.append(f"| {name}: copier CPU-s | {m['cpu_s']:.2f} | {g['cpu_s']:.2f} | "
                       f"{m['cpu_s'] / g['cpu_s'] if g['cpu_s'] else float('nan'):.2f} (lower better) |")
            out.append(f"| {name}: brokers' CPU-s | {m['brokers_cpu_s']:.2f} | {g['brokers_cpu_s']:.2f} | |")
            out.append(f"| {name}: copier max RSS, MB | {m['max_rss_mb']:.0f} | {g['max_rss_mb']:.0f} | |")
    lat = summary["latency"]
    if lat:
        if out:
            out.append("")
        out.append(f"| End-to-end latency at {args.rate:,.0f} records/s, 100 B, {args.duration:g} s "
                   f"(first {args.warmup:g} s ignored) | p50 ms | p99 ms | max ms | copier CPU | "
                   f"no copy p50 / p99 / max ms |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for key, title in (("mirror", "Strait mirror"), ("bridge", "Naive bridge")):
            if key in lat:
                v = lat[key]
                out.append(f"| {title} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['max_ms']:.2f} | "
                           f"{v['copier_cpu_util']:.0%} | {v['no_copy_p50_ms']:.2f} / {v['no_copy_p99_ms']:.2f} / "
                           f"{v['no_copy_max_ms']:.2f} |")
        out.append("")
        out.append("(no copy: the same records read from the source topic in the same run; copier CPU: "
                   "CPU-seconds / seconds of the run, 100% = one core)")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = doc_parser(__doc__)
    p.add_argument("--strait", default=default_strait(),
                   help="the strait binary (default: .build/release/strait)")
    p.add_argument("--broker-strait", default=None,
                   help="binary for the brokers and `perf produce` (default: --strait), e.g. a release "
                        "broker under a debug agent")
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--records", type=int, default=5_000_000, help="backlog of 100 B records (0 skips)")
    p.add_argument("--records-1k", type=int, default=1_000_000, help="backlog of 1 KB records (0 skips)")
    p.add_argument("--repeat", type=int, default=1, help="runs per case; medians shown")
    p.add_argument("--rate", type=float, default=10_000, help="records/s of the latency run (0 skips it)")
    p.add_argument("--duration", type=float, default=20, help="seconds of the latency run")
    p.add_argument("--warmup", type=float, default=2, help="seconds of latency records ignored at the start")
    p.add_argument("--latency-linger-ms", type=int, default=5,
                   help="linger.ms of the latency producer (default 5, librdkafka's default)")
    p.add_argument("--fill-with", choices=("auto", "strait", "confluent"), default="auto",
                   help="backlog producer (auto: `strait perf produce` when the binary has it)")
    add_cluster_args(p)
    p.add_argument("--copy-timeout", type=float, default=900, help="bound on one backlog copy, s")
    p.add_argument("--fill-timeout", type=float, default=900, help="bound on one backlog fill, s")
    p.add_argument("--ready-timeout", type=float, default=60,
                   help="bound on start-ups, topic creation and the latency probes, s")
    p.add_argument("--drain-timeout", type=float, default=60,
                   help="after the latency producer's --duration, how long to wait for the rest, s")
    p.add_argument("--keep-dir", action="store_true", help="keep the temporary directory and the topics")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print one JSON line with every figure (or write it to FILE)")
    args = p.parse_args(argv)
    args.broker_strait = args.broker_strait or args.strait
    # Children run in their own directories: relative paths would not resolve there.
    args.strait = str(Path(args.strait).resolve())
    args.broker_strait = str(Path(args.broker_strait).resolve())
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    exit_on_signals()
    for binary in {args.strait, args.broker_strait}:
        if not Path(binary).exists():
            print(f"error: no Strait binary at {binary} (swift build -c release --product strait)", file=sys.stderr)
            return 2
    if not help_mentions(args.strait, ["run"], ("--mm2",)):
        print(f"error: {args.strait} has no `run --mm2` (built before the mirror? rebuild it)", file=sys.stderr)
        return 2
    if args.fill_with == "auto":
        args.fill_with = "strait" if perf_produce_available(args.broker_strait) else "confluent"
    pinning = setup_pinning(args, "the contenders")
    command = announce_run()
    print(f"agent: {args.strait}; brokers: {args.broker_strait}; backlog filled with {args.fill_with}")
    print(f"pinning: {pinning}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="strait-mirror-bench-"))
    backlog: list[dict] = []
    latency: list[dict] = []
    failures: list[str] = []
    notes: list[str] = []
    started = time.monotonic()
    source = target = None
    try:
        source = Broker("source", "source broker", args.broker_strait, args, workdir)
        target = Broker("target", "target broker", args.broker_strait, args, workdir)
        print(f"source broker {source.bootstrap}, target broker {target.bootstrap}, workdir {workdir}", flush=True)
        cases = [(label, size, n) for (label, size), n in zip(CASES, (args.records, args.records_1k)) if n > 0]
        for rep in range(args.repeat):
            for label, size, n in cases:
                print(f"backlog {label}, repeat {rep + 1}/{args.repeat}", flush=True)
                try:
                    backlog.append(backlog_case(args, source, target, label, size, n, rep, workdir, notes))
                except BenchError as exc:
                    record_failure(failures, f"backlog {label} repeat {rep + 1}: {exc}")
                    source.process.check_alive("the backlog copy")
                    target.process.check_alive("the backlog copy")
            if args.rate > 0:
                order = ["mirror", "bridge"] if rep % 2 == 0 else ["bridge", "mirror"]
                print(f"latency at {args.rate:,.0f} records/s for {args.duration:g} s, repeat {rep + 1}/{args.repeat}",
                      flush=True)
                for kind in order:
                    try:
                        latency.append(latency_case(args, source, target, kind, rep, workdir, notes))
                    except BenchError as exc:
                        record_failure(failures, f"latency {kind} repeat {rep + 1}: {exc}")
                        source.process.check_alive("the latency run")
                        target.process.check_alive("the latency run")
    except BenchError as exc:
        record_failure(failures, str(exc))
    finally:
        stop_all_failed = []
        for broker in (target, source):
            if broker is not None:
                broker.close_clients()
        for broker in (target, source):
            if broker is not None:
                how = broker.close()
                if "exit 0" not in how:
                    stop_all_failed.append(f"{broker.label} {how}; log tail:\n{broker.process.log_tail()}")
        stop_all()
        for s in stop_all_failed:
            print(f"note: {s}", flush=True)
        remove_workdir(workdir, args.keep_dir)

    summary = summarize(backlog, latency)
    noisy = [f"{r['case']} {kind} run {r['repeat']}" for r in backlog for kind in ("mirror", "bridge")
             if kind in r and r[kind]["other_cpu_util"] > 0.15]
    if noisy:
        print(f"\nwarning: other processes used > 15% of a core during: {', '.join(noisy)}; those figures are disturbed")
    print(f"\n{args.partitions} partitions, keyless records, no compression; backlog: medians of {args.repeat} run(s), "
          f"each contender timed from its start until the target's end offsets reach the source's count; "
          f"latency: end-to-end (send -> read on the target); pinning: {pinning.split(':')[0]}\n")
    print(markdown(summary, args))
    if args.json:
        write_json(args.json, {"command": command, "pinning": pinning, "args": vars(args), "summary": summary,
                               "backlog_runs": backlog, "latency_runs": latency, "failures": failures,
                               "notes": notes, "elapsed_s": time.monotonic() - started})
    return finish(started, failures)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "bridge-worker":
        sys.exit(bridge_worker(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "paced-producer":
        sys.exit(paced_producer(sys.argv[2:]))
    sys.exit(main())
