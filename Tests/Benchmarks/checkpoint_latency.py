#!/usr/bin/env python3
"""Strait's mirror (`strait run --mm2`) checkpoints and offset map: how long a consumer group's
commit on the source takes to show up as an MM2 checkpoint on the target, and how large the
offset map grows per million copied records for three shapes of source log.

There is no peer in this run: MirrorMaker 2 needs Java, which this benchmark does not assume.
The latency is judged against its target (p99 <= emit.checkpoints.interval.seconds + 1 s, the
ratio printed), the offset map against MM2's own offset-sync footprint computed from its
documented bounds (64 syncs per partition in memory, one record per partition once compacted).

Each part runs two `strait broker` processes, "A" (source) and "B" (target), on free ports
with temporary data directories (`--set auto.create.topics.enable=false`,
`--set group.initial.rebalance.delay.ms=0`). When `taskset` exists and there are 2+ CPUs both
brokers run pinned to the last CPU and everything else (this process, the agent, the
producers) to the other CPUs. The agent is `strait run --mm2 mm2.properties` with
    clusters = A, B
    A.bootstrap.servers = 127.0.0.1:APORT
    B.bootstrap.servers = 127.0.0.1:BPORT
    A->B.enabled = true
    A->B.topics = TOPIC
    emit.checkpoints.interval.seconds = --interval
    refresh.groups.interval.seconds = --refresh-groups
(and any --mm2-set line); topic T on A is copied to A.T on B.

1. Checkpoint latency. Topic `t` of --partitions partitions gets --checkpoint-records records
   of 100 B on A; then --groups consumer groups commit once each, on every partition, a random
   offset (AdminClient.alter_consumer_group_offsets, so they exist and are empty), all before
   the agent starts. A thread reads `A.checkpoints.internal` on B (partition 0, from the
   beginning, fetch.wait.max.ms=20) and notes when each (group, topic, partition,
   upstreamOffset) first arrives. Once every group's first checkpoints are there (the group list
   is known to the agent), for --duration s this script commits, at --commit-rate per second, a
   new offset for one random (group, partition): an offset that group never committed there,
   and never a (group, partition) whose previous commit is not checkpointed yet (a second commit
   inside one round would rightly replace the first). The latency of a commit is the arrival
   of its checkpoint minus the return of alter_consumer_group_offsets (both time.monotonic()).
   After the last commit the reader waits up to --settle s for the rest; what never arrived is
   counted (it must be 0). Reported: p50/p95/p99/max, commits never checkpointed, checkpoints
   whose translated offset differs from the upstream one (source and target offsets are the
   same here, so any difference is a translation error), the observed spacing of the full
   re-emissions and of the flow's heartbeats on B (the agent writes both from the loop that
   runs the checkpoint rounds, so they stretch when a round takes long), CPU use of the agent,
   the brokers and this script, and p99 / (interval + 1 s).

2. Offset map size, per source shape, each on its own topic of A with its own agent run
   (`A->B.topics = t_SHAPE`): --records records of 100 B over --partitions partitions,
   * plain: ordinary producer batches (confluent-kafka, acks=1, linger.ms=50, record i to
     partition i % partitions; or `strait perf produce` with --fill-with strait), where source
     and target offsets stay contiguous: ideally one run per partition;
   * txn: a transactional producer, transactions of --txn-size records, each to one partition
     (round-robin), all committed: every commit marker starts a new run;
   * abort: the same with every --abort-every-th transaction aborted (a stand-in for the gaps of
     compacted topics, which take long to produce).
   By default the shape's records are all produced before its agent starts (a backlog, often
   copied within one offset flush, so each run is written once); with --agent-first the agent
   runs first and copies while records arrive, and a run that grows is written again at every
   offset flush (offset.flush.interval.ms, 1 s). Once B's A.t_SHAPE end offsets reach the
   committed records and the offset map covers them,
   the agent is stopped and `strait-offset-map.A.internal` on B is read whole. Reported for the
   shape's records (keys of that topic): records as written (every rewrite of a growing run and
   every source-end record counts) and as compaction would leave them (latest value per key,
   tombstones dropped), with bytes (key + value) and bytes per million copied records, the runs
   found against the runs expected, and the records of MM2's `mm2-offset-syncs.B.internal` on A
   that Strait writes as well. MM2's comparison: its OffsetSyncStore keeps at most 64 syncs per
   partition, 64 x partitions x (key + value) bytes of sync records (key: topic STRING +
   partition INT32, value 16 B), and its compacted topic one record per partition; a constant
   footprint, but translation only to the nearest sync at or below a committed offset, not exact.

Every wait is bounded (--ready-timeout, --copy-timeout, --fill-timeout, --settle); on a timeout
the script says what had been reached, prints the agent's log tail and exits non-zero. All
processes it started are stopped and the temporary directory removed on the way out. --json
prints one JSON line with every figure (--json FILE writes it to FILE instead).

Examples:

    swift build -c release --product strait
    python3 Tests/Benchmarks/checkpoint_latency.py --quick
    python3 Tests/Benchmarks/checkpoint_latency.py
    python3 Tests/Benchmarks/checkpoint_latency.py --only latency --groups 2000 --interval 10
    python3 Tests/Benchmarks/checkpoint_latency.py --only map --shapes txn,abort --records 200000
    python3 Tests/Benchmarks/checkpoint_latency.py --only map --agent-first
"""

from __future__ import annotations

import gc
import math
import os
import random
import struct
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import (OFFSET_BEGINNING, Consumer, ConsumerGroupTopicPartitions, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient

from bench_cluster import (Broker, Process, add_cluster_args, fill_plain, help_mentions, note_unclean_stop,
                           perf_produce_available, setup_pinning, start_mm2_agent, stop_all)
from bench_host import (BenchError, announce_run, default_strait, doc_parser, exit_on_signals, finish,
                        host_busy_seconds, proc_vmrss_kb, record_failure, remove_workdir, self_cpu_seconds,
                        wait_for_binary, write_json)

SOURCE_ALIAS, TARGET_ALIAS = "A", "B"
CHECKPOINTS_TOPIC = f"{SOURCE_ALIAS}.checkpoints.internal"
OFFSET_MAP_TOPIC = f"strait-offset-map.{SOURCE_ALIAS}.internal"
OFFSET_SYNCS_TOPIC = f"mm2-offset-syncs.{TARGET_ALIAS}.internal"  # on the source (MM2's default location)
LATENCY_TOPIC = "t"
SHAPES = ("plain", "txn", "abort")
VALUE_BYTES = 100
MM2_SYNCS_PER_PARTITION = 64  # OffsetSyncStore's slots per partition
MM2_SYNC_VALUE_BYTES = 16  # upstreamOffset INT64 + offset INT64, no version
QUICK = {"groups": 100, "duration": 20.0, "records": 100_000}
FULL = {"groups": 1000, "duration": 60.0, "records": 1_000_000}


# --------------------------------------------------------------------------------------------
# MM2 / Strait record formats (big-endian; STRING = INT16 length + UTF-8)
# --------------------------------------------------------------------------------------------

def read_string(buf: bytes, pos: int) -> tuple[str | None, int]:
    (n,) = struct.unpack_from(">h", buf, pos)
    pos += 2
    if n < 0:
        return None, pos
    if pos + n > len(buf):
        raise ValueError(f"STRING of {n} bytes at {pos - 2} runs past the end ({len(buf)} bytes)")
    return buf[pos:pos + n].decode("utf-8"), pos + n


def parse_checkpoint(key: bytes, value: bytes) -> dict:
    group, pos = read_string(key, 0)
    topic, pos = read_string(key, pos)
    (partition,) = struct.unpack_from(">i", key, pos)
    version, upstream, offset = struct.unpack_from(">hqq", value, 0)
    metadata, _ = read_string(value, 18)
    if version != 0:
        raise ValueError(f"checkpoint value version {version}")
    return {"group": group, "topic": topic, "partition": partition, "upstream": upstream, "offset": offset,
            "metadata": metadata}


def parse_heartbeat(key: bytes, value: bytes) -> tuple[str, str, int]:
    """Heartbeat: key source alias, target alias; value version INT16, timestamp INT64 (ms)."""
    source, pos = read_string(key, 0)
    target, _ = read_string(key, pos)
    _version, timestamp = struct.unpack_from(">hq", value, 0)
    return source, target, timestamp


def parse_map_key(key: bytes) -> tuple[str, int, int]:
    """Offset-map key: source topic, partition, source offset (-1: the source log-end record)."""
    topic, pos = read_string(key, 0)
    partition, source_offset = struct.unpack_from(">iq", key, pos)
    return topic, partition, source_offset


def parse_sync_key(key: bytes) -> tuple[str, int]:
    topic, pos = read_string(key, 0)
    (partition,) = struct.unpack_from(">i", key, pos)
    return topic, partition


def string_bytes(text: str) -> int:
    return 2 + len(text.encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Brokers, agent, fills
# --------------------------------------------------------------------------------------------

def start_brokers(args, workdir: Path, label: str) -> tuple[Broker, Broker]:
    source = Broker(SOURCE_ALIAS, f"broker {SOURCE_ALIAS}", args.strait, args, workdir / label)
    target = Broker(TARGET_ALIAS, f"broker {TARGET_ALIAS}", args.strait, args, workdir / label)
    print(f"  brokers: {SOURCE_ALIAS} {source.bootstrap}, {TARGET_ALIAS} {target.bootstrap}", flush=True)
    return source, target


def stop_brokers(brokers, notes: list[str]):
    for broker in brokers:
        if broker is not None:
            broker.close_clients()
    for broker in reversed(brokers):
        if broker is not None:
            note_unclean_stop(broker.close(), broker.label, broker.process, notes)


def start_agent(args, source: Broker, target: Broker, topic: str, rundir: Path) -> Process:
    settings = [f"emit.checkpoints.interval.seconds={args.interval:g}",
                f"refresh.groups.interval.seconds={args.refresh_groups:g}", *args.mm2_set]
    return start_mm2_agent("agent", args.strait, (SOURCE_ALIAS, TARGET_ALIAS), source, target, topic, settings,
                           rundir)


def stop_agent(agent: Process, notes: list[str]):
    note_unclean_stop(agent.stop(), "agent", agent, notes)


def wait_copied(args, agent: Process, target: Broker, topic: str, partitions: int, goal: int, what: str) -> float:
    """Polls B's end offsets of `topic` until they sum to `goal`; returns seconds since the
    agent started."""
    deadline = agent.started + args.copy_timeout
    reached = 0
    exists = False
    while True:
        if not exists:
            exists = target.topic_partitions(topic) == partitions
        if exists:
            try:
                reached = sum(target.end_offsets(topic, partitions))
            except KafkaException:
                reached = 0
        now = time.monotonic()
        if reached >= goal:
            if reached > goal:
                print(f"note: {topic} holds {reached:,} records, {goal:,} expected", flush=True)
            return now - agent.started
        agent.check_alive(what)
        if now > deadline:
            raise BenchError(f"{what}: {reached:,} of {goal:,} records on {topic} after {args.copy_timeout:.0f} s "
                             f"(topic {'exists' if exists else 'not created'}); agent log tail:\n{agent.log_tail()}")
        time.sleep(0.1)


def fill(args, source: Broker, topic: str, records: int, fill_with: str | None = None) -> float:
    """Plain batches of 100 B values: `strait perf produce` (which spreads batches over partitions
    as it likes), or confluent-kafka with record i on partition i % partitions."""
    return fill_plain(args.strait, source.bootstrap, topic, records, VALUE_BYTES, args.partitions,
                      fill_with or args.fill_with, args.fill_timeout, round_robin=True)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


# --------------------------------------------------------------------------------------------
# 1. Checkpoint latency
# --------------------------------------------------------------------------------------------

class CheckpointReader:
    """Reads `A.checkpoints.internal` on B from the beginning in a thread; keeps the first
    arrival (time.monotonic()) of every (group, topic, partition, upstreamOffset), the spacing of
    identical re-emissions, and checkpoints whose offset differs from upstreamOffset."""

    def __init__(self, target: Broker):
        self.lock = threading.Lock()
        self.first_seen: dict[tuple[str, str, int, int], float] = {}
        self.keys_seen: set[tuple[str, str, int]] = set()
        self.last_emit: dict[tuple[str, str, int], tuple[int, int, float]] = {}
        self.reemit_gaps: list[float] = []
        self.records = 0
        self.mistranslated: list[dict] = []
        self.error: str | None = None
        self._stop = threading.Event()
        self.consumer = Consumer({"bootstrap.servers": target.bootstrap, "group.id": f"ckpt-{uuid.uuid4().hex[:8]}",
                                  "enable.auto.commit": False, "enable.partition.eof": False,
                                  "fetch.wait.max.ms": 20, "log.connection.close": False})
        self.consumer.assign([TopicPartition(CHECKPOINTS_TOPIC, 0, OFFSET_BEGINNING)])
        self.thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self._stop.is_set():
                batch = self.consumer.consume(10000, 0.05)
                now = time.monotonic()
                if not batch:
                    continue
                with self.lock:
                    for m in batch:
                        if m.error():
                            raise KafkaException(m.error())
                        if m.key() is None or m.value() is None:
                            continue
                        c = parse_checkpoint(m.key(), m.value())
                        self.records += 1
                        key = (c["group"], c["topic"], c["partition"])
                        self.keys_seen.add(key)
                        self.first_seen.setdefault(key + (c["upstream"],), now)
                        if c["offset"] != c["upstream"] and len(self.mistranslated) < 1000:
                            self.mistranslated.append(c)
                        previous = self.last_emit.get(key)
                        if previous is not None and previous[:2] == (c["upstream"], c["offset"]):
                            self.reemit_gaps.append(now - previous[2])
                        self.last_emit[key] = (c["upstream"], c["offset"], now)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            self.error = f"{type(exc).__name__}: {exc}"

    def arrival(self, key: tuple[str, str, int, int]) -> float | None:
        with self.lock:
            return self.first_seen.get(key)

    def check(self):
        if self.error:
            raise BenchError(f"reading {CHECKPOINTS_TOPIC}: {self.error}")

    def close(self):
        self._stop.set()
        self.thread.join(10)
        try:
            self.consumer.close()
        except Exception:  # noqa: BLE001
            pass


def alter_offsets(admin: AdminClient, requests: list[tuple[str, list[TopicPartition]]], timeout: float):
    """Commits offsets for several groups at once (one AlterConsumerGroupOffsets per group, as
    the client takes only one group per call); raises on the first failure."""
    futures = []
    for group, partitions in requests:
        futures += list(admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, partitions)],
                                                           request_timeout=timeout).items())
    for group, future in futures:
        try:
            result = future.result(timeout)
        except KafkaException as exc:
            raise BenchError(f"committing offsets of group {group}: {exc}") from exc
        bad = [tp for tp in result.topic_partitions if tp.error is not None]
        if bad:
            raise BenchError(f"committing offsets of group {group}: {bad[0].error} on partition {bad[0].partition}")


def latency_benchmark(args, workdir: Path, notes: list[str]) -> dict:
    rng = random.Random(args.seed)
    source = target = agent = reader = None
    brokers: list = []
    try:
        source, target = start_brokers(args, workdir, "latency")
        brokers = [source, target]
        remote = f"{SOURCE_ALIAS}.{LATENCY_TOPIC}"
        source.create_topic(LATENCY_TOPIC, args.partitions, args.ready_timeout)
        # Every partition needs records: a group's offset on an empty partition has nothing to
        # translate to, hence no checkpoint.
        seconds = fill(args, source, LATENCY_TOPIC, args.checkpoint_records, fill_with="confluent")
        ends = source.end_offsets(LATENCY_TOPIC, args.partitions)
        print(f"  filled {LATENCY_TOPIC}: {sum(ends):,} records in {seconds:.1f} s, ends {ends}", flush=True)
        if min(ends) == 0:
            raise BenchError(f"{LATENCY_TOPIC} has empty partitions after the fill (ends {ends}); "
                             f"raise --checkpoint-records")

        groups = [f"bench-group-{i:05d}" for i in range(args.groups)]
        used: dict[tuple[str, int], set[int]] = {}
        started = time.monotonic()
        for i in range(0, len(groups), 100):
            requests = []
            for group in groups[i:i + 100]:
                tps = []
                for p in range(args.partitions):
                    offset = rng.randint(0, ends[p])
                    used[(group, p)] = {offset}
                    tps.append(TopicPartition(LATENCY_TOPIC, p, offset))
                requests.append((group, tps))
            alter_offsets(source.admin, requests, args.ready_timeout)
        print(f"  {args.groups:,} groups committed once on each of {args.partitions} partitions in "
              f"{time.monotonic() - started:.1f} s", flush=True)

        agent = start_agent(args, source, target, LATENCY_TOPIC, workdir / "latency" / "agent")
        copy_s = wait_copied(args, agent, target, remote, args.partitions, sum(ends), "copying the latency topic")
        deadline = agent.started + args.ready_timeout
        while target.topic_partitions(CHECKPOINTS_TOPIC) < 1:
            agent.check_alive("waiting for the checkpoints topic")
            if time.monotonic() > deadline:
                raise BenchError(f"{CHECKPOINTS_TOPIC} not created on B within {args.ready_timeout:.0f} s of the "
                                 f"agent's start; agent log tail:\n{agent.log_tail()}")
            time.sleep(0.1)
        reader = CheckpointReader(target)
        wanted = args.groups * args.partitions
        deadline = time.monotonic() + args.ready_timeout + 2 * args.interval + args.refresh_groups
        while True:
            reader.check()
            with reader.lock:
                seen = len(reader.keys_seen)
            if seen >= wanted:
                break
            agent.check_alive("waiting for the first checkpoints")
            if time.monotonic() > deadline:
                raise BenchError(f"only {seen:,} of {wanted:,} (group, partition) checkpoints on B "
                                 f"{time.monotonic() - agent.started:.0f} s after the agent's start; "
                                 f"agent log tail:\n{agent.log_tail()}")
            time.sleep(0.1)
        first_all_s = time.monotonic() - agent.started
        print(f"  agent copied {sum(ends):,} records in {copy_s:.1f} s; first checkpoints of all {wanted:,} "
              f"(group, partition) pairs on B {first_all_s:.1f} s after its start", flush=True)

        # The commit phase.
        commits: list[dict] = []
        pending: dict[tuple[str, int], tuple[str, str, int, int]] = {}  # (group, p) -> its latest commit's key
        total = max(1, int(round(args.commit_rate * args.duration)))
        cpu_before = agent.cpu()
        brokers_before = source.process.cpu() + target.process.cpu()
        host_before, self_before = host_busy_seconds(), self_cpu_seconds()
        start = time.monotonic()
        start_wall_ms = time.time() * 1000
        max_behind = 0.0
        skipped_busy = 0
        for i in range(total):
            due = start + i / args.commit_rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            max_behind = max(max_behind, time.monotonic() - due)
            reader.check()
            agent.check_alive("the commit phase")
            # A (group, partition) whose previous commit is checkpointed (or never committed in
            # this phase), and an offset it never committed.
            for _attempt in range(1000):
                group, p = rng.choice(groups), rng.randrange(args.partitions)
                previous = pending.get((group, p))
                if previous is None or reader.arrival(previous) is not None:
                    break
                skipped_busy += 1
            else:
                raise BenchError("no (group, partition) without a commit waiting for its checkpoint; "
                                 "lower --commit-rate or raise --groups")
            offsets = used[(group, p)]
            if len(offsets) > ends[p]:
                continue
            offset = rng.randint(0, ends[p])
            while offset in offsets:
                offset = rng.randint(0, ends[p])
            offsets.add(offset)
            began = time.monotonic()
            alter_offsets(source.admin, [(group, [TopicPartition(LATENCY_TOPIC, p, offset)])], args.ready_timeout)
            returned = time.monotonic()
            key = (group, remote, p, offset)
            pending[(group, p)] = key
            commits.append({"key": key, "began": began, "returned": returned})
        commit_phase_s = time.monotonic() - start
        # Wait for the rest.
        settle_deadline = time.monotonic() + args.settle
        while True:
            reader.check()
            missing = [c for c in commits if reader.arrival(c["key"]) is None]
            if not missing or time.monotonic() > settle_deadline:
                break
            time.sleep(0.1)
        wall = time.monotonic() - start
        end_wall_ms = time.time() * 1000
        agent_cpu = agent.cpu() - cpu_before
        brokers_cpu = source.process.cpu() + target.process.cpu() - brokers_before
        script_cpu = self_cpu_seconds() - self_before  # the committer and the checkpoint reader
        other = (host_busy_seconds() - host_before) - agent_cpu - brokers_cpu - script_cpu
        agent_rss = (proc_vmrss_kb(agent.pid) or 0) / 1024
        reader.check()

        # The heartbeats come from the same loop as the checkpoint rounds: their spacing shows
        # how long a round takes.
        beats = sorted(ts for ts in (parse_heartbeat(k, v) for _p, _o, k, v in target.read_all("heartbeats", args.ready_timeout)
                                     if k is not None and v is not None)
                       if ts[:2] == (SOURCE_ALIAS, TARGET_ALIAS) and start_wall_ms <= ts[2] <= end_wall_ms)
        beat_gaps = sorted((b[2] - a[2]) / 1000 for a, b in zip(beats, beats[1:]))
        latencies = []
        early = 0
        for c in commits:
            arrived = reader.arrival(c["key"])
            if arrived is None:
                continue
            if arrived < c["returned"]:
                early += 1  # read while the commit call was returning: counted as 0
            latencies.append(max(0.0, arrived - c["returned"]))
        latencies.sort()
        commit_rtts = sorted(c["returned"] - c["began"] for c in commits)
        with reader.lock:
            gaps = sorted(reader.reemit_gaps)
            mistranslated = list(reader.mistranslated)
            checkpoint_records = reader.records
        target_s = args.interval + 1.0
        p99 = percentile(latencies, 0.99)
        result = {
            "groups": args.groups, "partitions": args.partitions, "interval_s": args.interval,
            "refresh_groups_s": args.refresh_groups, "commits": len(commits), "commit_phase_s": commit_phase_s,
            "commit_rate": len(commits) / commit_phase_s if commit_phase_s > 0 else None,
            "commit_call_p50_ms": percentile(commit_rtts, 0.5) * 1000, "commit_call_max_ms": commit_rtts[-1] * 1000 if commit_rtts else None,
            "committer_max_behind_s": max_behind, "busy_pairs_skipped": skipped_busy,
            "checkpointed": len(latencies), "never_checkpointed": len(missing), "settle_s": args.settle,
            "arrived_before_return": early,
            "p50_ms": percentile(latencies, 0.50) * 1000, "p95_ms": percentile(latencies, 0.95) * 1000,
            "p99_ms": p99 * 1000, "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
            "target_s": target_s, "p99_over_target": p99 / target_s if latencies else float("nan"),
            "meets_target": bool(latencies) and not missing and p99 <= target_s,
            "reemit_gap_p50_s": percentile(gaps, 0.5), "reemit_gap_p99_s": percentile(gaps, 0.99),
            "reemit_gap_max_s": gaps[-1] if gaps else float("nan"),
            "checkpoint_records_read": checkpoint_records,
            "heartbeats": len(beats), "heartbeat_gap_p50_s": percentile(beat_gaps, 0.5),
            "heartbeat_gap_max_s": beat_gaps[-1] if beat_gaps else float("nan"),
            "mistranslated": len(mistranslated), "mistranslated_examples": mistranslated[:5],
            "agent_copy_s": copy_s, "first_checkpoints_all_s": first_all_s,
            "agent_cpu_s": agent_cpu, "agent_cpu_util": agent_cpu / wall if wall > 0 else None,
            "brokers_cpu_util": brokers_cpu / wall if wall > 0 else None, "agent_rss_mb": agent_rss,
            "script_cpu_util": script_cpu / wall if wall > 0 else None,
            "other_cpu_util": max(0.0, other) / wall if wall > 0 else None,
            "agent_warnings": agent.log_count("warning"), "agent_errors": agent.log_count("error"),
        }
        if missing:
            result["missing_examples"] = [list(c["key"]) for c in missing[:5]]
        print(f"  {len(commits):,} commits in {commit_phase_s:.1f} s; checkpointed {len(latencies):,}, "
              f"never {len(missing):,}; latency p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
              f"p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms; agent CPU {result['agent_cpu_util']:.0%}",
              flush=True)
        stop_agent(agent, notes)
        agent = None
        return result
    finally:
        if reader is not None:
            reader.close()
        if agent is not None:
            stop_agent(agent, notes)
        stop_brokers(brokers, notes)


# --------------------------------------------------------------------------------------------
# 2. Offset map size
# --------------------------------------------------------------------------------------------

def transactional_fill(args, source: Broker, topic: str, records: int, abort_every: int) -> dict:
    """Transactions of --txn-size records, transaction i to partition i % partitions; every
    `abort_every`-th aborted (0: none). Returns what was committed, per partition."""
    committed_records = [0] * args.partitions
    committed_txns = [0] * args.partitions
    aborted_txns = 0
    failures = 0

    def on_delivery(err, _msg):
        nonlocal failures
        if err is not None:
            failures += 1

    producer = Producer({"bootstrap.servers": source.bootstrap, "transactional.id": f"bench-{uuid.uuid4().hex[:8]}",
                         "enable.idempotence": True, "acks": "all", "linger.ms": 5, "batch.size": 1_000_000,
                         "compression.type": "none", "delivery.report.only.error": True, "on_delivery": on_delivery,
                         "log.connection.close": False})
    value = b"x" * VALUE_BYTES
    start = time.monotonic()
    deadline = start + args.fill_timeout
    try:
        producer.init_transactions(args.ready_timeout)
        sent = 0
        txn = 0
        while sent < records:
            n = min(args.txn_size, records - sent)
            p = txn % args.partitions
            producer.begin_transaction()
            for _ in range(n):
                while True:
                    try:
                        producer.produce(topic, value, partition=p)
                        break
                    except BufferError:
                        producer.poll(0.01)
            txn += 1
            sent += n
            if abort_every and txn % abort_every == 0:
                # Sent and acknowledged first: abort_transaction would purge what is still queued,
                # and the source log would have no aborted records at all.
                if producer.flush(args.ready_timeout):
                    raise BenchError(f"filling {topic}: records of an aborted transaction not delivered "
                                     f"within {args.ready_timeout:.0f} s")
                producer.abort_transaction(args.ready_timeout)
                aborted_txns += 1
            else:
                producer.commit_transaction(args.ready_timeout)
                committed_records[p] += n
                committed_txns[p] += 1
            if time.monotonic() > deadline:
                raise BenchError(f"filling {topic}: {sent:,} of {records:,} records in transactions after "
                                 f"{args.fill_timeout:.0f} s")
    except KafkaException as exc:
        raise BenchError(f"filling {topic} with transactions: {exc}") from exc
    finally:
        producer.flush(10)
        del producer  # no reconnect attempts once the brokers stop
        gc.collect()
    if failures:
        raise BenchError(f"filling {topic}: {failures} records failed")
    return {"seconds": time.monotonic() - start, "committed_records": committed_records,
            "committed_txns": committed_txns, "aborted_txns": aborted_txns, "transactions": txn}


def map_view(records, topic: str) -> dict:
    """The offset-map records of one source topic, as written and as compaction would keep them."""
    raw_records = raw_bytes = source_end_records = tombstones = 0
    latest: dict[bytes, bytes | None] = {}
    for _partition, _offset, key, value in records:
        if key is None:
            continue
        t, _p, source_offset = parse_map_key(key)
        if t != topic:
            continue
        raw_records += 1
        raw_bytes += len(key) + len(value or b"")
        if source_offset == -1:
            source_end_records += 1
        if value is None:
            tombstones += 1
        latest[key] = value
    live = {k: v for k, v in latest.items() if v is not None}
    runs: dict[int, list[tuple[int, int, int]]] = {}
    for key, value in live.items():
        _t, p, source_offset = parse_map_key(key)
        if source_offset == -1:
            continue
        version, target_offset, span = struct.unpack_from(">hqq", value, 0)
        runs.setdefault(p, []).append((source_offset, target_offset, span))
    for p in runs:
        runs[p].sort()
    return {"raw_records": raw_records, "raw_bytes": raw_bytes, "source_end_records": source_end_records,
            "tombstones": tombstones, "live_records": len(live),
            "live_bytes": sum(len(k) + len(v) for k, v in live.items()),
            "runs": sum(len(r) for r in runs.values()), "runs_by_partition": runs}


def map_covers(view: dict, target_ends: list[int]) -> bool:
    """Every target partition's records are in the map's runs (target offsets from 0 up)."""
    for p, end in enumerate(target_ends):
        runs = view["runs_by_partition"].get(p, [])
        top = max((t + s for _so, t, s in runs), default=0)
        if top < end or sum(s for _so, _t, s in runs) < end:
            return False
    return True


def map_shape(args, source: Broker, target: Broker, shape: str, workdir: Path, notes: list[str]) -> dict:
    topic = f"t_{shape}"
    remote = f"{SOURCE_ALIAS}.{topic}"
    source.create_topic(topic, args.partitions, args.ready_timeout)
    rundir = workdir / "map" / f"agent-{shape}"
    agent = None
    try:
        if args.agent_first:
            # The agent copies while the producer writes: runs grow between offset flushes and
            # are written again, as in a mirror that keeps up.
            agent = start_agent(args, source, target, topic, rundir)
            deadline = time.monotonic() + args.ready_timeout
            while target.topic_partitions(remote) != args.partitions:
                agent.check_alive(f"waiting for {remote}")
                if time.monotonic() > deadline:
                    raise BenchError(f"{remote} not created on B within {args.ready_timeout:.0f} s of the agent's "
                                     f"start; agent log tail:\n{agent.log_tail()}")
                time.sleep(0.1)
        if shape == "plain":
            seconds = fill(args, source, topic, args.records)
            committed = source.end_offsets(topic, args.partitions)
            expected_runs = sum(1 for n in committed if n > 0)
            how = f"{args.fill_with}, plain batches"
        else:
            filled = transactional_fill(args, source, topic, args.records,
                                        args.abort_every if shape == "abort" else 0)
            seconds = filled["seconds"]
            committed = filled["committed_records"]
            # Each committed transaction is followed by its marker (and, for aborts, skipped
            # records): a new run per committed transaction.
            expected_runs = sum(filled["committed_txns"])
            how = (f"{filled['transactions']:,} transactions of {args.txn_size}, "
                   f"{filled['aborted_txns']:,} aborted")
        filled_at = time.monotonic()
        source_ends = source.end_offsets(topic, args.partitions)
        goal = sum(committed)
        print(f"  {shape}: {args.records:,} records sent in {seconds:.1f} s ({how}); {goal:,} committed, "
              f"source log end {sum(source_ends):,}", flush=True)
        if agent is None:
            agent = start_agent(args, source, target, topic, rundir)
        copy_s = wait_copied(args, agent, target, remote, args.partitions, goal, f"copying {topic}")
        # Backlog mode: from the agent's start; agent-first mode: after the last record was sent.
        copy_s = time.monotonic() - filled_at if args.agent_first else copy_s
        target_ends = target.end_offsets(remote, args.partitions)
        deadline = time.monotonic() + args.ready_timeout
        while True:
            view = map_view(target.read_all(OFFSET_MAP_TOPIC, args.ready_timeout), topic)
            if map_covers(view, target_ends):
                break
            agent.check_alive(f"waiting for the offset map of {topic}")
            if time.monotonic() > deadline:
                raise BenchError(f"offset map of {topic} does not cover B's {remote} ends {target_ends} "
                                 f"{args.ready_timeout:.0f} s after the copy ({view['runs']:,} runs); "
                                 f"agent log tail:\n{agent.log_tail()}")
            time.sleep(0.5)
        agent_cpu = agent.cpu()
        agent_rss = (proc_vmrss_kb(agent.pid) or 0) / 1024
    finally:
        if agent is not None:
            stop_agent(agent, notes)
    view = map_view(target.read_all(OFFSET_MAP_TOPIC, args.ready_timeout), topic)
    syncs = [r for r in source.read_all(OFFSET_SYNCS_TOPIC, args.ready_timeout)
             if r[2] is not None and parse_sync_key(r[2])[0] == topic]
    copied = sum(target.end_offsets(remote, args.partitions))
    sync_record = string_bytes(topic) + 4 + MM2_SYNC_VALUE_BYTES
    mm2_bound = MM2_SYNCS_PER_PARTITION * args.partitions * sync_record
    per_m = 1e6 / copied if copied else float("nan")
    result = {
        "shape": shape, "topic": topic, "agent_first": args.agent_first, "records_sent": args.records, "records_copied": copied,
        "source_log_end": sum(source_ends), "fill_s": seconds, "copy_s": copy_s,
        "agent_cpu_s": agent_cpu, "agent_rss_mb": agent_rss,
        "expected_runs": expected_runs, "runs": view["runs"],
        "map_records": view["raw_records"], "map_bytes": view["raw_bytes"],
        "map_source_end_records": view["source_end_records"], "map_tombstones": view["tombstones"],
        "map_live_records": view["live_records"], "map_live_bytes": view["live_bytes"],
        "map_bytes_per_m": view["raw_bytes"] * per_m, "map_live_bytes_per_m": view["live_bytes"] * per_m,
        "offset_syncs_records": len(syncs), "offset_syncs_bytes": sum(len(k) + len(v or b"") for _p, _o, k, v in syncs),
        "mm2_sync_record_bytes": sync_record, "mm2_64_slot_bytes": mm2_bound,
        "mm2_compacted_bytes": args.partitions * sync_record,
        "live_over_mm2": view["live_bytes"] / mm2_bound, "raw_over_mm2": view["raw_bytes"] / mm2_bound,
    }
    if copied != goal:
        notes.append(f"{shape}: {copied:,} records on {remote} after the agent stopped, {goal:,} expected")
        print(f"note: {notes[-1]}", flush=True)
    when = f"caught up {copy_s:.1f} s after the fill" if args.agent_first else f"in {copy_s:.1f} s"
    print(f"  {shape}: copied {copied:,} {when}; map {view['raw_records']:,} records / "
          f"{view['raw_bytes']:,} B as written, {view['live_records']:,} / {view['live_bytes']:,} B compacted; "
          f"{view['runs']:,} runs (expected {expected_runs:,}); {len(syncs):,} offset syncs on {SOURCE_ALIAS}",
          flush=True)
    return result


def map_benchmark(args, workdir: Path, notes: list[str]) -> list[dict]:
    brokers: list = []
    results = []
    try:
        source, target = start_brokers(args, workdir, "map")
        brokers = [source, target]
        for shape in args.shapes:
            results.append(map_shape(args, source, target, shape, workdir, notes))
    finally:
        stop_brokers(brokers, notes)
    return results


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

def markdown(latency: dict | None, maps: list[dict], args) -> str:
    out = []
    if latency:
        r = latency
        out.append(f"| Checkpoint latency: {r['groups']:,} groups x {r['partitions']} partitions, "
                   f"emit.checkpoints.interval.seconds = {r['interval_s']:g}, {r['commits']:,} commits over "
                   f"{r['commit_phase_s']:.0f} s | Strait |")
        out.append("|---|---:|")
        out.append(f"| p50 / p95 / p99 / max, ms | {r['p50_ms']:,.0f} / {r['p95_ms']:,.0f} / {r['p99_ms']:,.0f} / "
                   f"{r['max_ms']:,.0f} |")
        out.append(f"| commits never checkpointed (within {r['settle_s']:g} s) | {r['never_checkpointed']:,} |")
        out.append(f"| target p99 <= interval + 1 s = {r['target_s']:g} s | "
                   f"{'met' if r['meets_target'] else 'NOT met'} |")
        out.append(f"| p99 / (interval + 1 s) | {r['p99_over_target']:.2f} (lower better) |")
        out.append(f"| checkpoints with offset != upstreamOffset (must be 0 here) | {r['mistranslated']:,} |")
        out.append(f"| full re-emission spacing p50 / max, s | {r['reemit_gap_p50_s']:.2f} / "
                   f"{r['reemit_gap_max_s']:.2f} |")
        out.append(f"| heartbeat spacing p50 / max, s (emit.heartbeats.interval.seconds, default 1) | "
                   f"{r['heartbeat_gap_p50_s']:.2f} / {r['heartbeat_gap_max_s']:.2f} |")
        out.append(f"| first checkpoints of every group after agent start, s | {r['first_checkpoints_all_s']:.1f} |")
        out.append(f"| CPU during the commit phase, agent / both brokers / this script (100% = one core) | "
                   f"{r['agent_cpu_util']:.0%} / {r['brokers_cpu_util']:.0%} / {r['script_cpu_util']:.0%} |")
        out.append(f"| agent RSS at the end, MB | {r['agent_rss_mb']:.0f} |")
        out.append("")
        out.append("No peer: MirrorMaker 2 needs Java, which is not used here; the ratio to the target is shown "
                   "instead.")
    if maps:
        if out:
            out.append("")
        mode = "agent copying during the fill" if args.agent_first else "backlog copied after the fill"
        out.append(f"| Offset map, {args.partitions} partitions, 100 B values, {mode} | records copied | runs (expected) | "
                   f"map records / bytes as written | bytes per M copied | compacted records / bytes | "
                   f"compacted bytes per M | MM2 64-slot bound, bytes | compacted / MM2 bound | "
                   f"offset syncs on {SOURCE_ALIAS} |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        titles = {"plain": "plain batches", "txn": f"transactions of {args.txn_size}",
                  "abort": f"transactions of {args.txn_size}, every {args.abort_every}th aborted"}
        for r in maps:
            out.append(f"| {titles[r['shape']]} | {r['records_copied']:,} | {r['runs']:,} ({r['expected_runs']:,}) | "
                       f"{r['map_records']:,} / {r['map_bytes']:,} | {r['map_bytes_per_m']:,.0f} | "
                       f"{r['map_live_records']:,} / {r['map_live_bytes']:,} | {r['map_live_bytes_per_m']:,.0f} | "
                       f"{r['mm2_64_slot_bytes']:,} | {r['live_over_mm2']:.2f} | {r['offset_syncs_records']:,} |")
        out.append("")
        out.append("(as written: every record in the map topic, including rewrites of a growing run and source "
                   "log-end records; compacted: the latest value per key. MM2's bound: 64 offset syncs per "
                   "partition of key topic+partition and a 16 B value, a constant footprint, but MM2 translates "
                   "only to the last sync at or below a committed offset; its compacted offset-syncs topic holds "
                   "one such record per partition.)")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = doc_parser(__doc__)
    p.add_argument("--strait", default=default_strait(),
                   help="the strait binary, brokers and agent (default: .build/release/strait)")
    p.add_argument("--quick", action="store_true",
                   help=f"small counts: {QUICK['groups']} groups, {QUICK['duration']:g} s, {QUICK['records']:,} records "
                        f"(explicit flags win)")
    p.add_argument("--only", choices=("latency", "map"), help="run one part only")
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--groups", type=int, default=None, help=f"consumer groups (default {FULL['groups']:,})")
    p.add_argument("--duration", type=float, default=None,
                   help=f"seconds of commits (default {FULL['duration']:g})")
    p.add_argument("--commit-rate", type=float, default=10, help="commits per second during --duration")
    p.add_argument("--interval", type=float, default=5, help="emit.checkpoints.interval.seconds")
    p.add_argument("--refresh-groups", type=float, default=10, help="refresh.groups.interval.seconds")
    p.add_argument("--checkpoint-records", type=int, default=80_000,
                   help="records on the latency topic (the offsets groups commit)")
    p.add_argument("--settle", type=float, default=None,
                   help="after the last commit, how long to wait for missing checkpoints, s "
                        "(default 2 x interval + 5)")
    p.add_argument("--records", type=int, default=None,
                   help=f"records per offset-map shape (default {FULL['records']:,})")
    p.add_argument("--shapes", default=",".join(SHAPES), help="offset-map shapes: plain,txn,abort")
    p.add_argument("--txn-size", type=int, default=100, help="records per transaction")
    p.add_argument("--abort-every", type=int, default=10, help="abort shape: every n-th transaction aborted")
    p.add_argument("--agent-first", action="store_true",
                   help="offset map: start the agent before the fill, so it copies while records arrive "
                        "(default: the backlog is produced first, then copied)")
    p.add_argument("--fill-with", choices=("auto", "strait", "confluent"), default="confluent",
                   help="producer of the plain shape: confluent-kafka, record i to partition i %% partitions "
                        "(default), or `strait perf produce` (faster, but it spreads batches unevenly and may "
                        "leave partitions empty); auto: strait when the binary has `perf produce`")
    p.add_argument("--seed", type=int, default=1)
    add_cluster_args(p)
    p.add_argument("--ready-timeout", type=float, default=60,
                   help="bound on start-ups, topic creation, commits and reading internal topics, s")
    p.add_argument("--copy-timeout", type=float, default=600, help="bound on one copy by the agent, s")
    p.add_argument("--fill-timeout", type=float, default=900, help="bound on one fill of a source topic, s")
    p.add_argument("--keep-dir", action="store_true", help="keep the temporary directory (logs, data)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print one JSON line with every figure (or write it to FILE)")
    args = p.parse_args(argv)
    preset = QUICK if args.quick else FULL
    for name, value in preset.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.settle is None:
        args.settle = 2 * args.interval + 5
    args.shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    unknown = [s for s in args.shapes if s not in SHAPES]
    if unknown:
        p.error(f"unknown shape(s) {', '.join(unknown)}; choose from {', '.join(SHAPES)}")
    if args.groups < 1 or args.partitions < 1 or args.commit_rate <= 0 or args.txn_size < 1:
        p.error("--groups, --partitions, --txn-size must be >= 1 and --commit-rate > 0")
    # Children run in their own directories; a symlink is kept as it is (a rebuild may replace
    # what it points to).
    args.strait = os.path.abspath(args.strait)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    exit_on_signals()
    if not wait_for_binary(args.strait, 120, 2):
        print(f"error: no Strait binary at {args.strait} (swift build -c release --product strait)", file=sys.stderr)
        return 2
    if not help_mentions(args.strait, ["run"], ("--mm2",)):
        print(f"error: {args.strait} has no `run --mm2` (rebuild it)", file=sys.stderr)
        return 2
    if args.fill_with == "auto":
        args.fill_with = "strait" if perf_produce_available(args.strait) else "confluent"
    pinning = setup_pinning(args, "the agent")
    command = announce_run()
    print(f"strait: {args.strait}; plain shape filled with {args.fill_with}")
    print(f"pinning: {pinning}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="strait-checkpoint-bench-"))
    latency = None
    maps: list[dict] = []
    failures: list[str] = []
    notes: list[str] = []
    started = time.monotonic()
    try:
        if args.only in (None, "latency"):
            print(f"checkpoint latency: {args.groups:,} groups, {args.partitions} partitions, "
                  f"{args.commit_rate:g} commits/s for {args.duration:g} s, interval {args.interval:g} s", flush=True)
            try:
                latency = latency_benchmark(args, workdir, notes)
            except BenchError as exc:
                record_failure(failures, f"checkpoint latency: {exc}")
        if args.only in (None, "map"):
            print(f"offset map: {args.records:,} records per shape ({', '.join(args.shapes)}), "
                  f"{args.partitions} partitions", flush=True)
            try:
                maps = map_benchmark(args, workdir, notes)
            except BenchError as exc:
                record_failure(failures, f"offset map: {exc}")
    finally:
        stop_all()
        remove_workdir(workdir, args.keep_dir)

    if latency and latency.get("other_cpu_util") is not None and latency["other_cpu_util"] > 0.15:
        print(f"\nwarning: other processes used {latency['other_cpu_util']:.0%} of a core during the commit phase; "
              f"latencies may be disturbed")
    print(f"\npinning: {pinning.split(':')[0]}; no MirrorMaker 2 run (it needs Java): the latency is compared "
          f"with its target, the map with MM2's offset-sync bounds\n")
    print(markdown(latency, maps, args))
    if latency:
        if latency["never_checkpointed"]:
            failures.append(f"{latency['never_checkpointed']} commits never checkpointed, e.g. "
                            f"{latency.get('missing_examples')}")
        if latency["mistranslated"]:
            failures.append(f"{latency['mistranslated']} checkpoints translate to an offset other than the "
                            f"upstream one, e.g. {latency['mistranslated_examples'][:2]}")
    if args.json:
        write_json(args.json, {"command": command, "pinning": pinning, "args": vars(args), "latency": latency,
                               "offset_map": maps, "failures": failures, "notes": notes,
                               "elapsed_s": time.monotonic() - started})
    return finish(started, failures)


if __name__ == "__main__":
    sys.exit(main())
