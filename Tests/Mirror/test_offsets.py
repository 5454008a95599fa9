"""Mirror II: heartbeats, checkpoints, offset syncs and Strait's offset map on the clusters, exact
translation of committed offsets, `strait failover`, group offset sync and `strait topology`.
Every record is identified by a unique value, so "the target copy of source offset x" is read
from the data, never assumed; MM2's records are decoded by mm2_records.py."""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import subprocess
import threading
import time
import warnings

import pytest
from confluent_kafka import (OFFSET_BEGINNING, Consumer, ConsumerGroupTopicPartitions, KafkaError, KafkaException, Producer,
                             TopicPartition)
from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata
from kafka.structs import TopicPartition as KTopicPartition

import mm2_records
from mirror_env import delete_records, mm2, produce, strait_binary, unique, wait_until

FAST = {"refresh.topics.interval.seconds": 1, "emit.checkpoints.interval.seconds": 1}
CHECKPOINTS = "A.checkpoints.internal"
OFFSET_MAP = "strait-offset-map.A.internal"
SYNCS = "mm2-offset-syncs.B.internal"


# ----- reading logs -----------------------------------------------------------------------------

def read_log(bootstrap: str, topic: str, isolation: str = "read_committed", timeout: float = 30) -> dict[int, list]:
    """Every record of every partition of `topic`, from the log start to the end as it is now:
    {partition: [(offset, key, value)]}; {} when the topic does not exist."""
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("probe")})
    try:
        metadata = probe.list_topics(topic, timeout=10).topics.get(topic)
    finally:
        probe.close()
    if metadata is None or metadata.error is not None:
        return {}
    partitions = sorted(metadata.partitions)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("log"), "enable.auto.commit": False,
                         "enable.partition.eof": True, "isolation.level": isolation})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    found: dict[int, list] = {p: [] for p in partitions}
    at_end: set[int] = set()
    deadline = time.monotonic() + timeout
    try:
        while len(at_end) < len(partitions):
            assert time.monotonic() < deadline, f"reading {topic}: no end of {set(partitions) - at_end}"
            for message in consumer.consume(1000, 0.2):
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        at_end.add(message.partition())
                    continue
                found[message.partition()].append((message.offset(), message.key(), message.value()))
    finally:
        consumer.close()
    return found


def watermarks(bootstrap: str, topic: str, partitions: int) -> dict[int, tuple[int, int]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("marks")})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in range(partitions)}
    finally:
        consumer.close()


def internal_records(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    """(key, value) of a one-partition internal topic, in order."""
    return [(key, value) for _, key, value in read_log(bootstrap, topic, "read_uncommitted").get(0, [])]


def checkpoints(broker) -> list[mm2_records.Checkpoint]:
    return [mm2_records.checkpoint(k, v) for k, v in internal_records(broker.bootstrap, CHECKPOINTS)]


def latest_checkpoints(broker) -> dict[tuple[str, str, int], mm2_records.Checkpoint]:
    return {(c.group, c.topic, c.partition): c for c in checkpoints(broker)}


def offset_map(broker) -> mm2_records.OffsetMap:
    result = mm2_records.OffsetMap()
    for key, value in internal_records(broker.bootstrap, OFFSET_MAP):
        result.apply(key, value)
    return result


# ----- what a translation must give, from the data ----------------------------------------------

class Truth:
    """Source and target of one topic, read record by record: the source's committed records
    (aborted ones and control records are absent), and the copies on the target by value."""

    def __init__(self, source: dict[int, list], target: dict[int, list], target_ends: dict[int, int]):
        self.source = {p: sorted((offset, value) for offset, _, value in rows) for p, rows in source.items()}
        self.target = target
        self.last_copy: dict[int, dict[bytes, int]] = {}
        for p, rows in target.items():
            copies = self.last_copy.setdefault(p, {})
            for offset, _, value in rows:
                copies[value] = max(offset, copies.get(value, -1))
        self.target_ends = target_ends

    def first_record(self, partition: int, offset: int) -> bytes | None:
        """The value of the first committed source record at or after `offset`."""
        for source_offset, value in self.source.get(partition, []):
            if source_offset >= offset:
                return value
        return None

    def target_offset(self, partition: int, offset: int) -> int:
        value = self.first_record(partition, offset)
        if value is None:
            return self.target_ends[partition]
        copies = self.last_copy.get(partition, {})
        assert value in copies, f"partition {partition}: source record {value!r} was never copied"
        return copies[value]

    def around(self, partition: int, low: int, high: int) -> list[tuple[int, int | None]]:
        """(target offset, source offset it is a copy of) for target offsets low..high, for messages."""
        source_of = {value: offset for offset, value in self.source.get(partition, [])}
        return [(o, source_of.get(v)) for o, _, v in self.target.get(partition, []) if low <= o <= high]

    def missing(self) -> list:
        """Committed source records without a copy on the target."""
        return [(p, o, v) for p, rows in self.source.items() for o, v in rows if v not in self.last_copy.get(p, {})]


def truth(a, b, topic: str, partitions: int) -> Truth:
    target = f"A.{topic}"
    return Truth(read_log(a.bootstrap, topic), read_log(b.bootstrap, target, "read_uncommitted"),
                 {p: high for p, (_, high) in watermarks(b.bootstrap, target, partitions).items()})


def target_truth(b, topic: str, partitions: int, source: dict[int, list]) -> Truth:
    target = f"A.{topic}"
    return Truth(source, read_log(b.bootstrap, target, "read_uncommitted"),
                 {p: high for p, (_, high) in watermarks(b.bootstrap, target, partitions).items()})


# ----- groups -----------------------------------------------------------------------------------

def commit_with_admin(broker, group: str, offsets: dict[tuple[str, int], int]):
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p, o) for (t, p), o in offsets.items()])
    result = broker.admin().alter_consumer_group_offsets([request])[group].result(timeout=30)
    errors = [tp for tp in result.topic_partitions if tp.error]
    assert not errors, f"{group}: {errors}"


def commit_with_kafka_python(broker, group: str, offsets: dict[tuple[str, int], int]):
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False)
    try:
        consumer.commit({KTopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()})
    finally:
        consumer.close(autocommit=False)


def commit_with_consumer(broker, group: str, offsets: dict[tuple[str, int], int]):
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
    finally:
        consumer.close()


def committed(broker, group: str, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int | None]:
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        found = consumer.committed([TopicPartition(t, p) for t, p in partitions], timeout=20)
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): (tp.offset if tp.offset >= 0 else None) for tp in found}


def first_records_confluent(broker, group: str, partitions: list[tuple[str, int]], quiet: float) -> dict:
    """The first record (offset, value) a consumer of `group` reads per partition, starting at the
    group's committed offsets; None for a partition that gave nothing."""
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "latest"})
    consumer.assign([TopicPartition(t, p) for t, p in partitions])

    def poll():
        return [(m.topic(), m.partition(), m.offset(), m.value()) for m in consumer.consume(500, 0.2) if not m.error()]
    return first_records(poll, consumer.close, partitions, quiet)


def first_records_kafka_python(broker, group: str, partitions: list[tuple[str, int]], quiet: float) -> dict:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="latest")
    consumer.assign([KTopicPartition(t, p) for t, p in partitions])

    def poll():
        rows = []
        for tp, messages in consumer.poll(timeout_ms=200).items():
            rows += [(tp.topic, tp.partition, m.offset, m.value) for m in messages]
        return rows
    return first_records(poll, lambda: consumer.close(autocommit=False), partitions, quiet)


def first_records(poll, close, partitions, quiet: float) -> dict:
    """Polls until every partition gave a record, or nothing new came for `quiet` seconds (and
    at least 2 s passed, for the partitions that are to give nothing)."""
    first: dict[tuple[str, int], tuple[int, bytes]] = {}
    start = last_new = time.monotonic()
    try:
        while len(first) < len(partitions) and time.monotonic() - start < 30:
            for topic, partition, offset, value in sorted(poll(), key=lambda r: r[2]):
                if (topic, partition) not in first:
                    first[(topic, partition)] = (offset, value)
                    last_new = time.monotonic()
            now = time.monotonic()
            if now - start >= 2 and now - last_new >= quiet:
                break
    finally:
        close()
    return {tp: first.get(tp) for tp in partitions}


def wait_for_nothing_left(check, timeout: float, message: str, interval: float = 1):
    """Waits until `check()` returns no problems; times out naming the first ones left."""
    deadline = time.monotonic() + timeout
    while True:
        problems = check()
        if not problems:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}: {len(problems)} left, "
                                 f"such as {problems[:5]}")
        time.sleep(interval)


def checkpoint_upstream(broker, group: str, topic: str, partition: int) -> int | None:
    found = latest_checkpoints(broker).get((group, topic, partition))
    return found.upstream_offset if found else None


def wait_for_committed(broker, group: str, want: dict, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = committed(broker, group, list(want))
        if got == want:
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}: committed {got}, wanted {want}")


# ----- CLI --------------------------------------------------------------------------------------

def strait(*arguments: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([strait_binary(), *arguments], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def failover(agent, group: str, *extra: str) -> dict:
    result = strait("failover", "--mm2", str(agent.config_path), "--group", group, "--source", "A", "--target", "B",
                    "--json", *extra)
    assert result.returncode == 0, f"failover {group}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess, what: str):
    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0, f"{what}: exit 0\n{result.stdout}"
    assert len(output) == 1 and output[0].strip(), f"{what}: one line wanted, got {output}"


# ----- sources ----------------------------------------------------------------------------------

def make_compacted(a, topic: str, partitions: int, count: int = 300) -> None:
    """A compacted topic whose log has gaps: records with shared keys are cleaned away (every
    even offset but the keys' last ones, and offsets 100 to 129 as one long gap)."""
    a.create_topic(topic, partitions, {"cleanup.policy": "compact", "segment.bytes": "2048",
                                       "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "0"})
    records = []
    for p in range(partitions):
        for i in range(count):
            shared = i % 2 == 0 or 100 <= i < 130
            key = f"shared-{p}-{(i // 2) % 5}" if shared else f"own-{p}-{i}"
            records.append({"key": key.encode(), "value": f"{topic}/{p}/{i}".encode(), "partition": p})
    produce(a.bootstrap, topic, records, **{"linger.ms": 0, "batch.num.messages": 7})

    def compacted_and_settled():
        first = read_log(a.bootstrap, topic)
        if not all(len(first.get(p, [])) < count * 0.6 for p in range(partitions)):
            return False
        time.sleep(1.5)
        return read_log(a.bootstrap, topic) == first
    wait_until(compacted_and_settled, 60, "the compacted source to be cleaned and settle", interval=0.5)


def make_transactions(a, topic: str, partitions: int, rng: random.Random) -> None:
    """Committed and aborted transactions, so the log holds control records and aborted data,
    with a few plain records in between; it ends with an aborted round."""
    a.create_topic(topic, partitions)
    producer = Producer({"bootstrap.servers": a.bootstrap, "transactional.id": unique("tx"), "linger.ms": 5})
    producer.init_transactions(30)
    plain = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 0})
    for round_ in range(10):
        producer.begin_transaction()
        for p in range(partitions):
            for i in range(rng.randint(0, 12) if round_ else 3):
                producer.produce(topic, f"{topic}/r{round_}/{p}/{i}".encode(), partition=p)
        assert producer.flush(30) == 0  # an abort drops what was not sent yet: aborted data must reach the log
        if round_ % 3 == 1 or round_ == 9:
            producer.abort_transaction(30)
        else:
            producer.commit_transaction(30)
        if round_ % 4 == 2:
            for p in range(partitions):
                plain.produce(topic, f"{topic}/plain{round_}/{p}".encode(), partition=p)
            assert plain.flush(30) == 0


class BatchStream(threading.Thread):
    """Writes groups of 1 to 6 records to a plain topic, each group flushed on its own, so every
    group starts a batch; `starts` holds those first offsets per partition."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, seconds: float, rng: random.Random):
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.partitions, self.seconds, self.rng = bootstrap, topic, partitions, seconds, rng
        self.starts: dict[int, set[int]] = {p: set() for p in range(partitions)}
        self.written = 0
        self.failures: list = []
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2, "enable.idempotence": True})

    def write(self, groups: int):
        for _ in range(groups):
            partition = self.rng.randrange(self.partitions)
            delivered = []
            for _ in range(self.rng.randint(1, 6)):
                self.producer.produce(self.topic, f"{self.topic}/{partition}/{self.written}".encode(),
                                      partition=partition,
                                      on_delivery=lambda err, msg: self.failures.append(err) if err else delivered.append(msg.offset()))
                self.written += 1
            assert self.producer.flush(30) == 0
            if delivered:
                self.starts[partition].add(min(delivered))
            time.sleep(0.01)

    def run(self):
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            self.write(1)


# ----- the tests --------------------------------------------------------------------------------

def test_decoder_and_run_rules_on_hand_written_bytes():
    """The test module's own decoder and run rules, against bytes written by hand."""
    hb = mm2_records.heartbeat(b"\x00\x01A\x00\x01B", b"\x00\x00" + (1_700_000_000_123).to_bytes(8, "big"))
    assert hb == mm2_records.Heartbeat("A", "B", 0, 1_700_000_000_123)
    cp = mm2_records.checkpoint(b"\x00\x02g1\x00\x03A.t\x00\x00\x00\x02",
                                b"\x00\x00" + (7).to_bytes(8, "big") + (5).to_bytes(8, "big") + b"\x00\x02md")
    assert cp == mm2_records.Checkpoint("g1", "A.t", 2, 0, 7, 5, "md")
    sync = mm2_records.offset_sync(b"\x00\x01t\x00\x00\x00\x01", (9).to_bytes(8, "big") + (4).to_bytes(8, "big"))
    assert sync == mm2_records.OffsetSync("t", 1, 9, 4)
    with pytest.raises(ValueError):
        mm2_records.checkpoint(b"\x00\x02g1\x00\x03A.t\x00\x00\x00\x02", b"\x00\x00" + bytes(16))

    def run(source, target, span):
        return (mm2_records.string("t") + (0).to_bytes(4, "big") + source.to_bytes(8, "big", signed=True),
                b"\x00\x00" + target.to_bytes(8, "big") + span.to_bytes(8, "big"))
    runs = mm2_records.OffsetMap()
    for key, value in [run(0, 0, 10), run(12, 10, 5), run(20, 15, 5), run(14, 20, 11)]:
        runs.apply(key, value)
    runs.apply(*run(-1, 40, 1_700_000_000_000))
    # [0,10)->0, [12,14)->10, [14,25)->20: on 14-16 and 20-24 the copies at higher offsets win.
    assert runs.runs("t", 0) == [mm2_records.Run(0, 0, 10), mm2_records.Run(12, 10, 2), mm2_records.Run(14, 20, 11)]
    assert runs.ends[("t", 0)] == mm2_records.SourceEnd(40, 1_700_000_000_000)
    assert [runs.translate("t", 0, g) for g in (0, 9, 10, 11, 12, 13, 14, 20, 24, 25, 99)] == \
        [0, 9, 10, 10, 10, 11, 20, 26, 30, 31, 31]


def test_failover_is_exact(brokers, agents):
    seed = int(os.environ.get("STRAIT_TEST_SEED") or time.time())
    rng = random.Random(seed)
    print(f"\nseed {seed}")
    a, b = brokers("a"), brokers("b", **{"group.initial.rebalance.delay.ms": "0"})
    prefix = unique("fo")
    compacted, transactional, plain = f"{prefix}-compacted", f"{prefix}-txn", f"{prefix}-plain"
    partitions = {compacted: 3, transactional: 3, plain: 3}
    make_compacted(a, compacted, 3)
    make_transactions(a, transactional, 3, rng)
    a.create_topic(plain, 3)
    stream = BatchStream(a.bootstrap, plain, 3, seconds=14, rng=rng)
    stream.write(150)
    delete_records(a, plain, 1, 7)

    # The target's compaction stays away while the test reads its copies (as in test_flows).
    excluded = r"segment\.bytes, min\.cleanable\.dirty\.ratio, delete\.retention\.ms"
    properties = mm2({"A": a, "B": b}, ["A->B"], topics=f"{prefix}-.*", **{"config.properties.exclude": excluded},
                     **{"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}, **FAST)
    stream.start()
    agent = agents(properties, "agent")

    def copying():
        topics = b.topics()
        try:
            return all(f"A.{t}" in topics for t in partitions) and sum(
                high for _, high in watermarks(b.bootstrap, f"A.{plain}", 3).values()) > 0
        except KafkaException as error:  # seen once, at the topics' creation: "All broker connections are down"
            print(f"watermarks of A.{plain}: {error}")
            return False
    wait_until(copying, 60, "the copy to start", interval=0.1)
    # kill -9 twice while copying: the second agent resumes from positions stored before the
    # first kill and is killed in turn, so parts of the target hold two or three copies.
    for kill in (1, 2):
        time.sleep(0.7 if kill == 1 else 1.5)
        assert kill == 2 or stream.is_alive(), "the first kill comes while the source is written"
        agent.kill()
        agent.start()
        wait_until(lambda: agent.log().count("A->B: copying") > kill, 40, f"agent {kill + 1} to copy", interval=0.2)
    stream.join(60)
    assert not stream.failures, stream.failures[:3]

    truths: dict[str, Truth] = {}

    def copied_everything():
        for topic, count in partitions.items():
            truths[topic] = truth(a, b, topic, count)
            if truths[topic].missing():
                return False
        return True
    wait_until(copied_everything, 90, "every committed source record on the target", interval=1)
    ends = {t: b.end_offsets(f"A.{t}") for t in partitions}

    def settled():
        nonlocal ends
        now, ends = ends, {t: b.end_offsets(f"A.{t}") for t in partitions}
        return now == ends
    wait_until(settled, 30, "the target to stop growing (re-copies after the kills done)", interval=2)
    truths.update({t: truth(a, b, t, count) for t, count in partitions.items()})
    copies = sum(len(rows) for t in partitions for rows in read_log(b.bootstrap, f"A.{t}", "read_uncommitted").values())
    originals = sum(len(rows) for t in partitions for rows in truths[t].source.values())
    print(f"{originals} source records, {copies} copies: {copies - originals} duplicates from the kills")
    if copies == originals:
        warnings.warn("the kills made no duplicates: the failover is checked without them")

    # Interesting offsets per source partition.
    pools: dict[tuple[str, int], dict[str, set[int]]] = {}
    committed_source = {t: read_log(a.bootstrap, t) for t in partitions}
    uncommitted_source = read_log(a.bootstrap, transactional, "read_uncommitted")
    for topic, count in partitions.items():
        for p, (low, high) in watermarks(a.bootstrap, topic, count).items():
            present = {o for o, _, _ in committed_source[topic][p]}
            pool = {"edges": {low, low + 1, high}, "records": set(rng.sample(sorted(present), min(12, len(present)))),
                    "anywhere": {rng.randrange(low, high + 1) for _ in range(6)}}
            if topic == compacted:
                pool["gaps"] = set(range(low, high)) - present
                assert pool["gaps"], f"{topic}-{p} has no compaction gaps"
            if topic == transactional:
                seen = {o for o, _, _ in uncommitted_source[p]}
                pool["aborted"] = seen - present
                pool["control"] = set(range(low, high)) - seen
                assert pool["aborted"] and pool["control"], f"{topic}-{p}: aborted {pool['aborted']}, control {pool['control']}"
            if topic == plain:
                pool["batch starts"] = {s for s in stream.starts[p] if s >= low}
                if p == 1:
                    assert low == 7, "records deleted at the start of the log"
            pools[(topic, p)] = pool

    # Points: the edges and up to three of every other kind of every partition, then random
    # ones; a group commits one offset per partition, hence 48 groups.
    groups = [f"{prefix}-group{i:02d}" for i in range(48)]
    points: dict[str, dict[tuple[str, int], int]] = {g: {} for g in groups}
    must = []
    for tp, pool in pools.items():
        for name, offsets in pool.items():
            must += [(tp, o) for o in (sorted(offsets) if name == "edges" else rng.sample(sorted(offsets), min(3, len(offsets))))]
    rng.shuffle(must)
    for tp, offset in must:
        free = [g for g in groups if tp not in points[g]]
        if free:
            points[min(free, key=lambda g: (len(points[g]), rng.random()))][tp] = offset
    for g in groups:
        for tp in rng.sample(sorted(pools), rng.randint(5, 7)):
            if tp not in points[g]:
                points[g][tp] = rng.choice(sorted(set().union(*pools[tp].values())))
    assert sum(len(p) for p in points.values()) >= 200

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: (commit_with_admin if i % 2 == 0 else commit_with_kafka_python)(a, groups[i], points[groups[i]]),
                      range(len(groups))))
    assert committed(a, groups[1], list(points[groups[1]])) == points[groups[1]], "kafka-python's commits on A"

    def not_checkpointed():
        latest = latest_checkpoints(b)
        return [(g, t, p, o, latest.get((g, f"A.{t}", p))) for g in groups for (t, p), o in points[g].items()
                if (g, f"A.{t}", p) not in latest or latest[(g, f"A.{t}", p)].upstream_offset != o]
    wait_for_nothing_left(not_checkpointed, 60, "a checkpoint of every committed offset (group, topic, partition, "
                          "committed, latest checkpoint)")

    # The source is lost: failover from B alone.
    agent.kill()
    assert a.terminate() is not None
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        printed = dict(zip(groups, pool.map(lambda g: failover(agent, g), groups)))

    wrong = []
    for g in groups:
        output = printed[g]
        assert (output["group"], output["source"], output["target"], output["committed"]) == (g, "A", "B", True), output
        rows = {(row["sourceTopic"], row["partition"]): row for row in output["partitions"]}
        assert set(rows) == set(points[g]), f"{g}: partitions printed {sorted(rows)}, committed {sorted(points[g])}"
        for (topic, p), offset in points[g].items():
            row = rows[(topic, p)]
            assert row["topic"] == f"A.{topic}" and row["upstreamOffset"] == offset, row
            assert {"sourceEnd", "checkpointLag", "copyLag"} <= set(row), row
            want = truths[topic].target_offset(p, offset)
            if row["offset"] != want:
                wrong.append((g, topic, p, offset, [k for k, v in pools[(topic, p)].items() if offset in v],
                              row["offset"], want, "ahead: skips records" if row["offset"] > want else "behind: re-reads"))

    target_partitions = [(f"A.{t}", p) for t, count in partitions.items() for p in range(count)]
    for g in groups:
        on_b = committed(b, g, target_partitions)
        want = {(row["topic"], row["partition"]): row["offset"] for row in printed[g]["partitions"]}
        assert {tp: o for tp, o in on_b.items() if o is not None} == want, f"{g}: committed on B {on_b}, printed {want}"

    def first_reads(index_and_group):
        index, g = index_and_group
        read = first_records_kafka_python if index % 2 else first_records_confluent
        return read(b, g, [(f"A.{t}", p) for t, p in points[g]], quiet=1)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        reads = dict(zip(groups, pool.map(first_reads, enumerate(groups))))
    lost_or_reread = []
    for i, g in enumerate(groups):
        for (topic, p), offset in points[g].items():
            want = truths[topic].first_record(p, offset)
            got = reads[g][(f"A.{topic}", p)]
            if (got[1] if got else None) != want:
                lost_or_reread.append(("kafka-python" if i % 2 else "confluent-kafka", g, topic, p, offset,
                                       [k for k, v in pools[(topic, p)].items() if offset in v], got, want))

    # The offset map on B, read by the run rules, gives the same answers.
    runs = offset_map(b)
    differ = [(t, p, o, runs.translate(t, p, o), truths[t].target_offset(p, o))
              for g in groups for (t, p), o in points[g].items() if runs.translate(t, p, o) != truths[t].target_offset(p, o)]

    problems = []
    if wrong:
        details = [f"{w}; map {runs.translate(w[1], w[2], w[3])}; target (offset, copy of source offset) "
                   f"{truths[w[1]].around(w[2], min(w[5], w[6]) - 3, max(w[5], w[6]) + 3)}; runs near: "
                   f"{[r for r in runs.runs(w[1], w[2]) if r.source + r.span >= w[3] - 20 and r.source <= w[3] + 20]}"
                   for w in wrong[:10]]
        problems.append(f"{len(wrong)} failover offsets differ (group, topic, partition, committed, kind, printed, "
                        f"exact, effect):\n" + "\n".join(details))
    if lost_or_reread:
        problems.append(f"{len(lost_or_reread)} first reads differ (client, group, topic, partition, committed, kind, "
                        f"read, wanted):\n" + "\n".join(map(str, lost_or_reread[:20])))
    if differ:
        problems.append(f"the offset map's runs translate differently (topic, partition, offset, map, exact): {differ[:20]}")
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("location", ["source", "target"])
def test_mm2_topics_decode(brokers, agents, location):
    a, b = brokers("a"), brokers("b")
    started = int(time.time() * 1000)
    prefix = unique("decode")
    topic, transactional = f"{prefix}-plain", f"{prefix}-txn"
    a.create_topic(topic, 2)
    for n in range(6):
        produce(a.bootstrap, topic, [{"value": f"{topic}/{n}/{i}".encode(), "partition": i % 2} for i in range(10 + n)])
    make_transactions(a, transactional, 1, random.Random(7))
    settings = dict(FAST, topics=f"{prefix}-.*")
    if location == "target":
        settings["offset-syncs.topic.location"] = "target"
    agent = agents(mm2({"A": a, "B": b}, ["A->B"], **settings))
    groups = {f"{prefix}-g{i}": {} for i in range(5)}
    source = {t: read_log(a.bootstrap, t) for t in (topic, transactional)}
    ends = {t: watermarks(a.bootstrap, t, 2 if t == topic else 1) for t in (topic, transactional)}
    uncommitted = read_log(a.bootstrap, transactional, "read_uncommitted")[0]
    aborted = sorted({o for o, _, _ in uncommitted} - {o for o, _, _ in source[transactional][0]})
    control = sorted(set(range(*ends[transactional][0])) - {o for o, _, _ in uncommitted})
    for i, g in enumerate(groups):
        for t in (topic, transactional):
            for p, (low, high) in ends[t].items():
                groups[g][(t, p)] = [low, high, (low + high) // 2 + p, 10 + 6 * i, high - 1][i]
        groups[g][(transactional, 0)] = [0, aborted[0], control[0], aborted[-1], control[len(control) // 2]][i]
        commit_with_consumer(a, g, groups[g])

    def not_checkpointed():
        latest = latest_checkpoints(b)
        return [(g, t, p, o, latest.get((g, f"A.{t}", p))) for g, offsets in groups.items() for (t, p), o in offsets.items()
                if (g, f"A.{t}", p) not in latest or latest[(g, f"A.{t}", p)].upstream_offset != o]
    wait_for_nothing_left(not_checkpointed, 60, "checkpoints of every committed offset")
    time.sleep(2.5)  # more heartbeats

    # Topics and their configs.
    sync_cluster, other = (a, b) if location == "source" else (b, a)
    for cluster, name in ((b, "heartbeats"), (b, CHECKPOINTS), (b, OFFSET_MAP), (sync_cluster, SYNCS)):
        assert cluster.partitions(name) == 1, f"{name}: {cluster.partitions(name)} partitions"
        assert cluster.topic_config(name)["cleanup.policy"] == "compact", name
    assert SYNCS not in other.topics(), f"offset syncs on the {location} only"
    assert "heartbeats" not in a.topics() and "A.heartbeats" not in b.topics(), "no flow writes heartbeats to A"

    # Heartbeats, every second.
    beats = [mm2_records.heartbeat(k, v) for k, v in internal_records(b.bootstrap, "heartbeats")]
    assert beats and {(h.source, h.target, h.version) for h in beats} == {("A", "B", 0)}
    stamps = [h.timestamp for h in beats]
    assert started - 5000 <= stamps[0] and stamps[-1] <= int(time.time() * 1000) + 5000, stamps
    assert stamps == sorted(stamps) and len(stamps) >= 3, stamps
    assert all(0 < later - earlier <= 3000 for earlier, later in zip(stamps, stamps[1:])), stamps

    # Checkpoints: each one's offset is exact, from the data and from the offset map.
    truths = {t: target_truth(b, t, 2 if t == topic else 1, source[t]) for t in (topic, transactional)}
    runs = offset_map(b)
    all_checkpoints = checkpoints(b)
    for c in all_checkpoints:
        assert c.version == 0 and c.topic.startswith("A.") and isinstance(c.metadata, str), c
        source_topic = c.topic[2:]
        if c.group not in groups:
            continue
        assert c.upstream_offset == groups[c.group][(source_topic, c.partition)], c
        exact = truths[source_topic].target_offset(c.partition, c.upstream_offset)
        assert c.offset == exact, (
            f"{c}: exact translation {exact}; checkpoints of that partition "
            f"{[(x.upstream_offset, x.offset) for x in all_checkpoints if (x.group, x.topic, x.partition) == (c.group, c.topic, c.partition)]}; "
            f"runs {runs.runs(source_topic, c.partition)}; source records {[o for o, _ in truths[source_topic].source[c.partition]]}")
        assert runs.translate(source_topic, c.partition, c.upstream_offset) == exact, \
            f"{c}: the offset map's runs {runs.runs(source_topic, c.partition)} translate differently"
    for t, marks in ends.items():
        for p, (_, high) in marks.items():
            end = runs.ends.get((t, p))
            assert end is not None and end.end == high and started - 5000 <= end.timestamp, (t, p, end, high)
            assert runs.runs(t, p), f"runs of {t}-{p}"

    # Offset syncs: source offset -> target offset of the same record.
    syncs = [mm2_records.offset_sync(k, v) for k, v in internal_records(sync_cluster.bootstrap, SYNCS)]
    values = {t: {p: dict((o, v) for o, _, v in rows) for p, rows in source[t].items()} for t in source}
    target_values = {t: {p: dict((o, v) for o, _, v in rows)
                         for p, rows in read_log(b.bootstrap, f"A.{t}", "read_uncommitted").items()} for t in source}
    assert {(s.topic, s.partition) for s in syncs} == {(t, p) for t in source for p in source[t]}, syncs
    for s in syncs:
        assert values[s.topic][s.partition].get(s.upstream_offset) is not None, f"{s}: no source record there"
        assert target_values[s.topic][s.partition].get(s.offset) == values[s.topic][s.partition][s.upstream_offset], \
            f"{s}: the target record there is not the source record's copy"

    # The CLI agrees: translate (A up) and a dry-run failover (B only).
    g = next(iter(groups))
    result = strait("offsets", "translate", "--mm2", str(agent.config_path), "--group", g, "--source", "A",
                    "--target", "B", "--json")
    assert result.returncode == 0, result.stderr
    translated = json.loads(result.stdout)
    rows = {(r["sourceTopic"], r["partition"]): r for r in translated["partitions"]}
    assert set(rows) == set(groups[g]), translated
    for (t, p), offset in groups[g].items():
        assert rows[(t, p)]["upstreamOffset"] == offset and rows[(t, p)]["topic"] == f"A.{t}"
        assert rows[(t, p)]["offset"] == truths[t].target_offset(p, offset), rows[(t, p)]
    dry = failover(agent, g, "--dry-run")
    assert dry["committed"] is False
    assert {(r["sourceTopic"], r["partition"]): r["offset"] for r in dry["partitions"]} == \
        {tp: rows[tp]["offset"] for tp in rows}
    assert set(committed(b, g, [(f"A.{t}", p) for t, p in groups[g]]).values()) == {None}, "a dry run commits nothing"


def test_group_offset_sync(brokers, agents):
    a, b = brokers("a"), brokers("b", **{"group.initial.rebalance.delay.ms": "0"})
    topic = unique("follow")
    target = f"A.{topic}"
    a.create_topic(topic, 2)
    for n in range(10):
        produce(a.bootstrap, topic, [{"value": f"{topic}/{n}/{i}".encode(), "partition": i % 2} for i in range(20)])
    agents(mm2({"A": a, "B": b}, ["A->B"], topics=topic,
               **{"sync.group.offsets.enabled": "true", "sync.group.offsets.interval.seconds": 1}, **FAST))
    wait_until(lambda: target in b.topics() and b.end_offsets(target) == {0: 100, 1: 100}, 60, "the copy")
    exact = target_truth(b, topic, 2, read_log(a.bootstrap, topic))
    idle, active = unique("idle"), unique("active")
    tps = [(target, 0), (target, 1)]

    def translated(offsets):
        return {(target, p): exact.target_offset(p, o) for (_, p), o in offsets.items()}

    # A consumer of `active` runs on B and commits 10 itself.
    assigned, stop, errors = threading.Event(), threading.Event(), []

    def run_active():
        consumer = Consumer({"bootstrap.servers": b.bootstrap, "group.id": active, "enable.auto.commit": False,
                             "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
        try:
            consumer.subscribe([target])
            while not stop.is_set():
                consumer.poll(0.2)
                if not assigned.is_set() and len(consumer.assignment()) == 2:
                    consumer.commit(offsets=[TopicPartition(target, p, 10) for p in range(2)], asynchronous=False)
                    assigned.set()
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            consumer.close()
    thread = threading.Thread(target=run_active, daemon=True)
    thread.start()
    try:
        wait_until(assigned.is_set, 30, "the active consumer on B")
        assert committed(b, active, tps) == {(target, 0): 10, (target, 1): 10}

        first = {(topic, 0): 30, (topic, 1): 41}
        commit_with_admin(a, idle, first)
        commit_with_admin(a, active, {(topic, 0): 80, (topic, 1): 90})
        wait_for_committed(b, idle, translated(first), 30, "B's idle group to follow the first commit")
        second = {(topic, 0): 64, (topic, 1): 100}
        commit_with_kafka_python(a, idle, second)
        wait_for_committed(b, idle, translated(second), 30, "B's idle group to follow the second commit")

        # Backwards on A: B keeps the later offset.
        commit_with_admin(a, idle, {(topic, 0): 20, (topic, 1): 100})
        wait_until(lambda: checkpoint_upstream(b, idle, target, 0) == 20, 30, "the checkpoint of the backward commit")
        wait_until(lambda: checkpoint_upstream(b, active, target, 1) == 90, 30, "the active group's checkpoint")
        time.sleep(3.5)  # several sync intervals
        assert committed(b, idle, tps) == translated(second), "an offset never moves backwards"
        assert committed(b, active, tps) == {(target, 0): 10, (target, 1): 10}, "a group with a live member is left alone"
        assert thread.is_alive() and not errors, errors
    finally:
        stop.set()
        thread.join(30)
    # Once its member left, the group follows.
    wait_for_committed(b, active, translated({(topic, 0): 80, (topic, 1): 90}), 30, "the emptied group to follow")


def test_topology_chain(brokers, agents):
    a, b, c = brokers("a"), brokers("b"), brokers("c")
    started = int(time.time() * 1000)
    agent = agents(mm2({"A": a, "B": b, "C": c}, ["A->B", "B->C"], topics=unique("none"), **FAST))

    def relayed():
        rows = read_log(c.bootstrap, "B.heartbeats", "read_uncommitted").get(0, [])
        return any((h.source, h.target) == ("A", "B") for h in (mm2_records.heartbeat(k, v) for _, k, v in rows))
    wait_until(relayed, 60, "Heartbeat(A, B) in C's B.heartbeats", interval=0.5)
    own = [mm2_records.heartbeat(k, v) for _, k, v in read_log(c.bootstrap, "heartbeats", "read_uncommitted").get(0, [])]
    assert own and {(h.source, h.target) for h in own} == {("B", "C")}

    result = strait("topology", "--mm2", str(agent.config_path), "--json")
    assert result.returncode == 0, result.stderr
    topology = json.loads(result.stdout)
    edges = {(e["source"], e["target"]): e["timestamp"] for e in topology["edges"]}
    assert set(edges) == {("A", "B"), ("B", "C")}, topology
    assert all(started - 5000 <= ts <= int(time.time() * 1000) + 5000 for ts in edges.values()), topology
    assert topology["clusters"]["C"]["upstream"] == {"B": 1, "A": 2}, topology
    assert topology["clusters"]["B"]["upstream"] == {"A": 1}, topology
    assert not topology["clusters"].get("A", {}).get("upstream"), topology


def test_translate_cli_errors(brokers, agents):
    a, b = brokers("a"), brokers("b")
    agent = agents(mm2({"A": a, "B": b}, ["A->B"], topics=unique("none"), **FAST))
    wait_until(lambda: CHECKPOINTS in b.topics(), 30, "the checkpoints topic")
    config = str(agent.config_path)
    nobody = unique("nobody")
    assert_one_line_error(strait("failover", "--mm2", config, "--group", nobody, "--source", "A", "--target", "B"),
                          "failover of a group without checkpoints")
    assert_one_line_error(strait("failover", "--mm2", config, "--group", nobody, "--source", "A", "--target", "B",
                                 "--json"), "failover --json of a group without checkpoints")
    for source, target in (("Z", "B"), ("A", "Z")):
        for command in (["failover"], ["offsets", "translate"]):
            result = strait(*command, "--mm2", config, "--group", nobody, "--source", source, "--target", target)
            assert_one_line_error(result, f"{' '.join(command)} --source {source} --target {target}")
