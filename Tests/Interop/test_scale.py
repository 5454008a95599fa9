"""Scale: topics totalling 2,000 partitions; metadata for all of them, one record produced to
each partition, every high watermark read back with ListOffsets."""

from __future__ import annotations

import time


import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from interop import LATEST, Released, list_offsets_raw, unique_topic

pytestmark = pytest.mark.slow

TOPICS, PARTITIONS = 20, 100  # 2,000 partitions


def test_two_thousand_partitions(broker):
    prefix = unique_topic("scale")
    names = [f"{prefix}-{i:02d}" for i in range(TOPICS)]
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=30000)
    try:
        result = admin.create_topics({n: {"num_partitions": PARTITIONS, "replication_factor": 1}
                                      for n in names}, timeout_ms=30000)
        assert all(t["error_code"] == 0 for t in result["topics"]), result
        admin.wait_for_topics(names, timeout_ms=30000)
    finally:
        admin.close()

    # Metadata for all topics (librdkafka asks for every topic with a null/empty list).
    ck_admin = Released(AdminClient({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4"}))
    try:
        md = ck_admin.list_topics(timeout=20)
        for n in names:
            t = md.topics[n]
            assert t.error is None
            assert sorted(t.partitions) == list(range(PARTITIONS))
            assert all(p.leader in md.brokers and p.error is None for p in t.partitions.values())
    finally:
        ck_admin.release()

    # One record to each partition.
    p = Producer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4", "acks": "all",
                  "linger.ms": 20, "queue.buffering.max.messages": 10000})
    errors, delivered = [], []
    for n in names:
        for part in range(PARTITIONS):
            p.produce(n, key=f"{part}".encode(), value=f"{n}/{part}".encode(), partition=part,
                      on_delivery=lambda err, msg: errors.append(err) if err else delivered.append(
                          (msg.topic(), msg.partition(), msg.offset())))
        p.poll(0)
    assert p.flush(60) == 0, "records still queued after 60s"
    assert not errors, errors[:5]
    assert len(delivered) == TOPICS * PARTITIONS
    assert all(off == 0 for _, _, off in delivered)
    del p

    # High watermarks: one ListOffsets request for all 2,000 partitions...
    hw = list_offsets_raw(broker.bootstrap, {n: list(range(PARTITIONS)) for n in names}, LATEST)
    assert len(hw) == TOPICS * PARTITIONS
    bad = {tp: v for tp, v in hw.items() if v != (0, 1)}
    assert not bad, f"{len(bad)} partitions without (error 0, high watermark 1), e.g. {list(bad.items())[:5]}"

    # ...and through kafka-python's consumer API.
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, request_timeout_ms=30000)
    try:
        tps = [TopicPartition(n, part) for n in names for part in range(PARTITIONS)]
        ends = c.end_offsets(tps)
        assert len(ends) == len(tps) and set(ends.values()) == {1}
        starts = c.beginning_offsets(tps)
        assert set(starts.values()) == {0}
    finally:
        c.close()

    # The broker starts again with the 2,000 partitions and takes produce across them.
    started = time.monotonic()
    broker.restart()
    print(f"restart with {TOPICS * PARTITIONS} partitions took {time.monotonic() - started:.1f} s")
    p = Producer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4", "acks": "all",
                  "linger.ms": 20, "queue.buffering.max.messages": 10000})
    errors, delivered = [], []
    for n in names:
        for part in range(PARTITIONS):
            p.produce(n, value=b"again", partition=part,
                      on_delivery=lambda err, msg: errors.append(err) if err else delivered.append(msg.offset()))
        p.poll(0)
    assert p.flush(60) == 0 and not errors, errors[:5]
    assert sorted(set(delivered)) == [1], "each partition's second record lands at offset 1 after the restart"
