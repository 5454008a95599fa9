"""A->B flows between `strait broker` processes, driven by `strait run --mm2`, checked with
confluent-kafka and kafka-python on both ends."""

from __future__ import annotations

import json
import re
import time

import pytest
from confluent_kafka import Consumer, Producer
from kafka import KafkaConsumer

from mirror_env import by_partition, mm2, produce, read_all, stored_positions, unique, wait_until

FAST = {"refresh.topics.interval.seconds": 1, "sync.topic.configs.interval.seconds": 1}


def batch_counts(agent) -> tuple[int, int]:
    """(forwarded as they were, rewritten), from the summary the agent logs when it stops."""
    assert agent.terminate() == 0, agent.log()[-3000:]
    found = re.findall(r"(\d+) batches forwarded as they were, (\d+) rewritten", agent.log())
    assert found, agent.log()[-3000:]
    return int(found[-1][0]), int(found[-1][1])


def keyed_records(count: int, partitions: int) -> list[dict]:
    base = int(time.time() * 1000) - 3_600_000
    return [{"key": f"key-{i % 97}".encode(), "value": f"value-{i}".encode() * (1 + i % 5),
             "headers": [("seq", str(i).encode()), ("kind", b"test" if i % 2 else None)],
             "partition": i % partitions, "timestamp": base + i} for i in range(count)]


def content(records):
    """What must survive the copy, per partition, in order."""
    return {p: [(r[2], r[3], r[4], r[5]) for r in rs] for p, rs in by_partition(records).items()}


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_keyed_records_with_headers_arrive_on_the_renamed_topic(brokers, agents, codec):
    a, b = brokers("a"), brokers("b")
    topic = unique("orders")
    a.create_topic(topic, 3, {"retention.ms": "86400000", "compression.type": "producer"})
    records = keyed_records(1500, 3)
    produce(a.bootstrap, topic, records, **{"compression.type": codec})
    agent = agents(mm2({"A": a, "B": b}, ["A->B"], topics=topic, **FAST))

    copied = read_all(b.bootstrap, f"A.{topic}", 1500, timeout=60, settle=1)
    original = read_all(a.bootstrap, topic, 1500)
    assert len(copied) == 1500, agent.log()[-3000:]
    assert content(copied) == content(original), "keys, values, headers and timestamps per partition, in order"
    assert b.partitions(f"A.{topic}") == 3
    assert b.topic_config(f"A.{topic}")["retention.ms"] == "86400000", "overridden source configs travel"
    assert f"A.{topic}" not in a.topics(), "nothing flows back"
    forwarded, rewritten = batch_counts(agent)
    assert forwarded > 0 and rewritten == 0, "producer-shaped batches travel without being decoded"


def test_progress_is_stored_in_mm2_layout(brokers, agents):
    a, b = brokers("a"), brokers("b")
    topic = unique("progress")
    a.create_topic(topic, 2)
    produce(a.bootstrap, topic, [{"value": b"x", "partition": i % 2} for i in range(100)])
    agent = agents(mm2({"A": a, "B": b}, ["A->B"], topics=topic, **FAST))
    read_all(b.bootstrap, f"A.{topic}", 100)

    def stored():
        consumer = KafkaConsumer("mm2-offsets.A.internal", bootstrap_servers=b.bootstrap, auto_offset_reset="earliest",
                                 consumer_timeout_ms=1500)
        found = {}
        for message in consumer:
            key = json.loads(message.key)
            if key[0] == "MirrorSourceConnector" and key[1]["topic"] == topic:
                assert message.key == (f'["MirrorSourceConnector",{{"cluster":"A","partition":{key[1]["partition"]},'
                                       f'"topic":"{topic}"}}]').encode()
                found[key[1]["partition"]] = json.loads(message.value)
        consumer.close()
        return found if len(found) == 2 and all(v == {"offset": 49} for v in found.values()) else None

    found = wait_until(stored, 20, "positions in mm2-offsets.A.internal")
    assert found == {0: {"offset": 49}, 1: {"offset": 49}}, "the last copied offset per partition"
    assert agent.terminate() == 0, agent.log()[-3000:]
    assert b.partitions("mm2-offsets.A.internal") == 25
    assert b.topic_config("mm2-offsets.A.internal")["cleanup.policy"] == "compact"


def test_aborted_transactions_never_arrive(brokers, agents):
    a, b = brokers("a"), brokers("b")
    topic = unique("txn")
    a.create_topic(topic, 2)
    producer = Producer({"bootstrap.servers": a.bootstrap, "transactional.id": unique("tx")})
    producer.init_transactions(30)
    expected = []
    for round_ in range(6):
        producer.begin_transaction()
        for i in range(50):
            value = f"r{round_}-{i}".encode()
            producer.produce(topic, value, partition=i % 2)
            if round_ % 3 != 1:
                expected.append(value)
        if round_ % 3 == 1:
            producer.abort_transaction(30)
        else:
            producer.commit_transaction(30)
    produce(a.bootstrap, topic, [{"value": b"plain", "partition": 0}])
    expected.append(b"plain")
    agents(mm2({"A": a, "B": b}, ["A->B"], topics=topic, **FAST))

    copied = read_all(b.bootstrap, f"A.{topic}", len(expected), timeout=60, isolation="read_uncommitted", settle=2)
    assert sorted(r[3] for r in copied) == sorted(expected), "only committed records, each once"
    original = content(read_all(a.bootstrap, topic, len(expected)))
    assert content(copied) == original, "per-partition order of the committed records"
    # Control records are not copied: the target offsets are contiguous.
    for partition, rows in by_partition(copied).items():
        assert [r[1] for r in rows] == list(range(len(rows)))
    # Progress covers the commit markers at the end too, though nothing was sent for them.
    ends = a.end_offsets(topic)
    wait_until(lambda: stored_positions(b, "A", topic) == {p: end - 1 for p, end in ends.items()}, 20,
               f"positions at the source ends {ends}")


def test_compacted_source_with_gaps(brokers, agents):
    a, b = brokers("a"), brokers("b")
    topic = unique("compacted")
    a.create_topic(topic, 1, {"cleanup.policy": "compact", "segment.bytes": "2048", "min.cleanable.dirty.ratio": "0.01",
                              "delete.retention.ms": "0"})
    # Even records have keys of their own and stay; odd ones share five keys and are compacted away.
    records = [{"key": (f"u{i}" if i % 2 == 0 else f"k{i % 10}").encode(), "value": f"v{i}".encode(), "partition": 0}
               for i in range(400)]
    produce(a.bootstrap, topic, records, **{"linger.ms": 0, "batch.num.messages": 7})

    def compacted():
        return len(read_all(a.bootstrap, topic, 400, timeout=3)) < 300
    wait_until(compacted, 30, "the source to compact")
    original = read_all(a.bootstrap, topic, 1, timeout=5, settle=2)
    offsets = [r[1] for r in original]
    assert offsets != list(range(offsets[0], offsets[0] + len(offsets))), "the source has offset gaps"
    # The target compacts too, with its own segments: excluding the small segments keeps its
    # cleaner away while the copy is checked (and shows config.properties.exclude at work).
    excluded = r"segment\.bytes, min\.cleanable\.dirty\.ratio, delete\.retention\.ms"
    agent = agents(mm2({"A": a, "B": b}, ["A->B"], topics=topic, **{"config.properties.exclude": excluded}, **FAST))

    copied = read_all(b.bootstrap, f"A.{topic}", len(original), timeout=60, settle=1)
    target_config = b.topic_config(f"A.{topic}")
    assert target_config["cleanup.policy"] == "compact" and target_config["segment.bytes"] != "2048"
    # The cleaner may go on while the copy runs: what arrived is, in order, a subsequence of what
    # was produced, holds everything the source still holds, and ends with every key's latest value.
    produced = [(r["key"], r["value"]) for r in records]
    pairs = iter(produced)
    assert all(pair in pairs for pair in [(r[2], r[3]) for r in copied]), "in the source's order"
    assert len(copied) < 400, "a compacted source was copied"
    remaining = read_all(a.bootstrap, topic, 1, timeout=5, settle=1)
    assert {(r[2], r[3]) for r in remaining} <= {(r[2], r[3]) for r in copied}, agent.log()[-2000:]
    assert [r[1] for r in copied] == list(range(len(copied))), "contiguous on the target"
    latest = {r[2]: r[3] for r in copied}
    assert latest == {r["key"]: r["value"] for r in records}, "the latest value of every key"
    assert batch_counts(agent)[1] > 0, "batches with gaps are rewritten"


def test_batches_are_split_to_fit_the_target(brokers, agents):
    a, b = brokers("a"), brokers("b")
    topic = unique("big")
    a.create_topic(topic, 1)
    b.create_topic(f"A.{topic}", 1, {"max.message.bytes": "4000"})
    records = [{"value": bytes([65 + i % 26]) * 500, "partition": 0} for i in range(300)]
    produce(a.bootstrap, topic, records, **{"linger.ms": 100, "batch.size": 200000})
    agent = agents(mm2({"A": a, "B": b}, ["A->B"], topics=topic, **FAST))
    copied = read_all(b.bootstrap, f"A.{topic}", 300, timeout=60, settle=1)
    assert [r[3] for r in copied] == [r["value"] for r in records], agent.log()[-2000:]
    forwarded, rewritten = batch_counts(agent)
    assert rewritten >= 300 * 500 // 4000, "split into batches of at most 4000 bytes"


def test_new_topic_partition_increase_and_config_change_propagate(brokers, agents):
    a, b = brokers("a"), brokers("b")
    prefix = unique("grow")
    first = f"{prefix}-one"
    a.create_topic(first, 2)
    produce(a.bootstrap, first, [{"value": b"a", "partition": p} for p in range(2)])
    agents(mm2({"A": a, "B": b}, ["A->B"], topics=f"{prefix}-.*", **FAST))
    read_all(b.bootstrap, f"A.{first}", 2)

    from confluent_kafka.admin import ConfigResource, NewPartitions
    a.admin().create_partitions([NewPartitions(first, 4)])[first].result(timeout=10)
    resource = ConfigResource(ConfigResource.Type.TOPIC, first, set_config={"retention.ms": "7200000"})
    a.admin().alter_configs([resource])[resource].result(timeout=10)
    second = f"{prefix}-two"
    a.create_topic(second, 3)
    produce(a.bootstrap, first, [{"value": b"b", "partition": p} for p in range(4)])
    produce(a.bootstrap, second, [{"value": b"c", "partition": p} for p in range(3)])

    wait_until(lambda: b.partitions(f"A.{first}") == 4, 30, "the partition increase")
    wait_until(lambda: b.topic_config(f"A.{first}").get("retention.ms") == "7200000", 30, "the config change")
    assert len(read_all(b.bootstrap, f"A.{second}", 3, timeout=40)) == 3, "a new topic, picked up"
    copied = read_all(b.bootstrap, f"A.{first}", 6, timeout=40, settle=1)
    assert sorted((r[0], r[3]) for r in copied) == sorted([(p, b"a") for p in range(2)] + [(p, b"b") for p in range(4)])
