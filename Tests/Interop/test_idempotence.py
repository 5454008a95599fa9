"""Idempotent producers: a confluent-kafka producer with enable.idempotence and 5 requests in
flight writes 1,000,000 records while the broker restarts once; afterwards every partition
holds each record exactly once, in order, and the client saw no fatal error. Raw requests
check the sequence errors (OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH)."""

from __future__ import annotations

import threading
import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka.record.memory_records import MemoryRecordsBuilder

from interop import produce_raw, unique_topic

pytestmark = pytest.mark.durable

RECORDS = 1_000_000
PARTITIONS = 4


def test_idempotent_producer_survives_a_broker_restart_without_duplicates_or_gaps(own_broker):
    broker = own_broker
    topic = unique_topic("idem")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4"})
    for future in admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)]).values():
        future.result(15)
    fatal: list = []
    failed: list = []

    def on_error(err):
        if err.fatal():
            fatal.append(err)

    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True,
                         "max.in.flight.requests.per.connection": 5, "acks": "all", "linger.ms": 5,
                         "batch.num.messages": 10000, "queue.buffering.max.messages": 500000,
                         "message.timeout.ms": 120000, "broker.address.family": "v4", "error_cb": on_error})

    def delivered(err, msg):
        if err is not None:
            failed.append(err)

    restarted = threading.Event()

    def restart_midway():
        time.sleep(1.0)
        broker.restart()
        restarted.set()

    restarter = threading.Thread(target=restart_midway, daemon=True)
    started = time.monotonic()
    for i in range(RECORDS):
        while True:
            try:
                producer.produce(topic, value=str(i).encode(), partition=i % PARTITIONS, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.01)
        if i == 50_000:
            restarter.start()
        if i % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(150) == 0, "records still undelivered"
    restarter.join(30)
    assert restarted.is_set(), "the broker was not restarted during the stream"
    assert not fatal, f"fatal client errors: {fatal}"
    assert not failed, f"failed deliveries: {failed[:5]}"

    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique_topic("idem-check"),
                         "enable.auto.commit": False, "broker.address.family": "v4", "fetch.wait.max.ms": 100})
    seen = {p: [] for p in range(PARTITIONS)}
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
        total = 0
        deadline = time.monotonic() + 120
        while total < RECORDS and time.monotonic() < deadline:
            for message in consumer.consume(10000, timeout=0.5):
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise KafkaException(message.error())
                seen[message.partition()].append(int(message.value()))
                total += 1
        # Nothing beyond the million either.
        for message in consumer.consume(10000, timeout=1.0):
            if not message.error():
                seen[message.partition()].append(int(message.value()))
    finally:
        consumer.close()
    for p in range(PARTITIONS):
        assert seen[p] == list(range(p, RECORDS, PARTITIONS)), f"partition {p}: duplicates, gaps or reordering"
    assert time.monotonic() - started < 280


def batch(producer_id: int, epoch: int, sequence: int, values: list[bytes]) -> bytes:
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    builder.set_producer_state(producer_id, epoch, sequence, False)
    for value in values:
        builder.append(timestamp=int(time.time() * 1000), key=None, value=value)
    builder.close()
    return bytes(builder.buffer())


def test_sequence_gaps_and_stale_epochs_get_kafkas_errors(broker):
    topic = unique_topic("idem-raw")
    first = produce_raw(broker.bootstrap, topic, 0, batch(4242, 3, 0, [b"a", b"b"]))
    assert first.error_code == 0
    retry = produce_raw(broker.bootstrap, topic, 0, batch(4242, 3, 0, [b"a", b"b"]))
    assert (retry.error_code, retry.base_offset) == (0, first.base_offset), "a retried batch is answered with its original offset"
    assert produce_raw(broker.bootstrap, topic, 0, batch(4242, 3, 7, [b"gap"])).error_code == 45, "OUT_OF_ORDER_SEQUENCE_NUMBER"
    assert produce_raw(broker.bootstrap, topic, 0, batch(4242, 2, 2, [b"old"])).error_code == 47, "INVALID_PRODUCER_EPOCH"
    third = produce_raw(broker.bootstrap, topic, 0, batch(4242, 3, 2, [b"c"]))
    assert (third.error_code, third.base_offset) == (0, first.base_offset + 2)
