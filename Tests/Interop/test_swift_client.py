"""Strait's Swift client (through ``strait produce`` and ``strait consume``) against the
third-party clients: records it writes are read by kafka-python and confluent-kafka, records
they write are read by it, and keyed records land in the partition librdkafka's
``murmur2_random`` and kafka-python's default partitioner choose."""

from __future__ import annotations

import json
import subprocess

import pytest
from confluent_kafka import Consumer, Producer
from kafka import KafkaConsumer, KafkaProducer

from conftest import strait_binary
from interop import create_topic, unique_topic

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def strait(*args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    result = subprocess.run([str(strait_binary()), *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"strait {' '.join(args)} failed: {result.stderr}"
    return result


def swift_consume(broker, topic: str, count: int, *extra: str) -> list[dict]:
    out = strait("consume", "--bootstrap", broker.bootstrap, "--topic", topic, "--from-beginning",
                 "--max-records", str(count), "--idle-timeout-ms", "10000", *extra)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("codec", CODECS)
def test_swift_records_read_by_python_clients(broker, codec):
    topic = unique_topic(f"swift-out-{codec}")
    create_topic(broker, topic, 3)
    lines = "".join(f"key-{i % 17}|value-{i}\n" for i in range(300))
    strait("produce", "--bootstrap", broker.bootstrap, "--topic", topic, "--key-separator", "|",
           "--header", "source=swift", "--producer-property", f"compression.type={codec}", stdin=lines)

    consumer = KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=10000, enable_auto_commit=False)
    got = [m for m in consumer][:300]
    consumer.close()
    assert len(got) == 300
    for m in got:
        i = int(m.value.decode().split("-")[1])
        assert m.key == f"key-{i % 17}".encode()
        assert m.headers == [("source", b"swift")]

    ck = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique_topic("g"), "auto.offset.reset": "earliest",
                   "enable.auto.commit": False, "broker.address.family": "v4"})
    ck.subscribe([topic])
    seen = []
    for _ in range(100):
        for msg in ck.consume(500, timeout=0.5):
            assert msg.error() is None, msg.error()
            seen.append(msg)
        if len(seen) >= 300:
            break
    ck.close()
    assert len(seen) == 300
    assert {m.value().decode() for m in seen} == {f"value-{i}" for i in range(300)}
    assert all(m.headers() == [("source", b"swift")] for m in seen)
    # Order per key is the order of the input lines.
    by_key: dict[bytes, list[int]] = {}
    for m in seen:
        by_key.setdefault(m.key(), []).append(int(m.value().decode().split("-")[1]))
    assert all(values == sorted(values) for values in by_key.values())


@pytest.mark.parametrize("codec", CODECS)
def test_python_records_read_by_swift_client(broker, codec):
    topic = unique_topic(f"swift-in-{codec}")
    create_topic(broker, topic, 2)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, compression_type=None if codec == "none" else codec)
    for i in range(100):
        producer.send(topic, key=f"kp-{i}".encode(), value=f"kafka-python-{i}".encode(), headers=[("n", str(i).encode())])
    producer.flush()
    producer.close()
    ck = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": codec, "broker.address.family": "v4"})
    for i in range(100):
        ck.produce(topic, key=f"ck-{i}".encode(), value=f"librdkafka-{i}".encode(), headers=[("n", str(i).encode())])
    assert ck.flush(10) == 0

    records = swift_consume(broker, topic, 200)
    assert len(records) == 200
    values = {r["value"] for r in records}
    assert values == {f"kafka-python-{i}" for i in range(100)} | {f"librdkafka-{i}" for i in range(100)}
    for r in records:
        n = r["headers"][0][1]
        assert r["key"] in (f"kp-{n}", f"ck-{n}")


def test_keyed_partitions_agree_with_librdkafka_and_kafka_python(broker):
    keys = [f"user-{i}" for i in range(500)] + ["", "a", "ab", "abc", "abcd", "\u00e9t\u00e9"]
    partitions = 7
    ck_topic, kp_topic, swift_topic = (unique_topic(p) for p in ("part-ck", "part-kp", "part-swift"))
    for t in (ck_topic, kp_topic, swift_topic):
        create_topic(broker, t, partitions)
    ck = Producer({"bootstrap.servers": broker.bootstrap, "partitioner": "murmur2_random", "broker.address.family": "v4"})
    ck_partition: dict[str, int] = {}
    for k in keys:
        ck.produce(ck_topic, key=k.encode(), value=k.encode(),
                   on_delivery=lambda err, msg: ck_partition.__setitem__(msg.key().decode(), msg.partition()))
    assert ck.flush(10) == 0
    kp = KafkaProducer(bootstrap_servers=broker.bootstrap)
    kp_partition = {k: kp.send(kp_topic, key=k.encode(), value=k.encode()).get(10).partition for k in keys}
    kp.close()
    strait("produce", "--bootstrap", broker.bootstrap, "--topic", swift_topic, "--key-separator", "\t",
           stdin="".join(f"{k}\t{k}\n" for k in keys))
    swift_partition = {r["key"]: r["partition"] for r in swift_consume(broker, swift_topic, len(keys))}
    assert len(swift_partition) == len(keys)
    assert swift_partition == ck_partition
    assert swift_partition == kp_partition


def test_swift_consumer_read_committed_skips_aborted_transactions(broker):
    topic = unique_topic("swift-txn")
    create_topic(broker, topic, 2)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": unique_topic("txn"),
                         "broker.address.family": "v4"})
    producer.init_transactions(10)
    expected_committed = set()
    for txn in range(6):
        producer.begin_transaction()
        for i in range(50):
            value = f"t{txn}-r{i}"
            producer.produce(topic, key=f"k{i}".encode(), value=value.encode())
            if txn % 2 == 0:
                expected_committed.add(value)
        # Flushed first so the aborted records are in the log (librdkafka drops unsent ones).
        assert producer.flush(10) == 0
        if txn % 2 == 0:
            producer.commit_transaction(10)
        else:
            producer.abort_transaction(10)
    producer.flush(10)

    committed = swift_consume(broker, topic, 300, "--isolation", "read_committed", "--idle-timeout-ms", "3000")
    assert {r["value"] for r in committed} == expected_committed
    assert len(committed) == len(expected_committed), "no committed record twice"
    everything = swift_consume(broker, topic, 300, "--isolation", "read_uncommitted")
    assert len(everything) == 300
