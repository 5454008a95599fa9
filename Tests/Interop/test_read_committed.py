"""read_committed consumers on transactional data: records of an aborted transaction are
skipped by kafka-python and by librdkafka (its default isolation level), records of a committed
one are delivered, and an open transaction holds back everything after its first record.

Transactions are written with raw requests here (transactional batches, then WriteTxnMarkers),
since the transaction coordinator is not built yet."""

from __future__ import annotations

import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KPTopicPartition
from kafka.protocol.producer.transaction import WriteTxnMarkersRequest, WriteTxnMarkersResponse
from kafka.record.memory_records import MemoryRecordsBuilder

from interop import Wire, metadata, produce_raw, unique_topic


def batch(producer_id: int | None, values: list[bytes], transactional: bool) -> bytes:
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    if producer_id is not None:
        builder.set_producer_state(producer_id, 0, 0, transactional)
    for value in values:
        builder.append(timestamp=int(time.time() * 1000), key=None, value=value)
    builder.close()
    return bytes(builder.buffer())


def write_marker(bootstrap: str, topic: str, producer_id: int, commit: bool) -> int:
    request = WriteTxnMarkersRequest(markers=[WriteTxnMarkersRequest.WritableTxnMarker(
        producer_id=producer_id, producer_epoch=0, transaction_result=commit,
        topics=[WriteTxnMarkersRequest.WritableTxnMarker.WritableTxnMarkerTopic(name=topic, partition_indexes=[0])],
        coordinator_epoch=0)])
    with Wire(bootstrap) as wire:
        response = wire.request(request, 1, WriteTxnMarkersResponse)
    return response.markers[0].topics[0].partitions[0].error_code


def test_read_committed_consumers_skip_aborted_and_wait_for_open_transactions(broker):
    topic = unique_topic("rc")
    metadata(broker.bootstrap, [topic], auto_create=True)
    assert produce_raw(broker.bootstrap, topic, 0, batch(None, [b"plain-0"], False)).error_code == 0
    assert produce_raw(broker.bootstrap, topic, 0, batch(9001, [b"aborted-1", b"aborted-2"], True)).error_code == 0
    assert produce_raw(broker.bootstrap, topic, 0, batch(9002, [b"committed-1"], True)).error_code == 0
    assert write_marker(broker.bootstrap, topic, 9001, commit=False) == 0
    assert write_marker(broker.bootstrap, topic, 9002, commit=True) == 0
    assert produce_raw(broker.bootstrap, topic, 0, batch(None, [b"plain-1"], False)).error_code == 0
    # An open transaction: nothing from its first record on is visible to read_committed.
    assert produce_raw(broker.bootstrap, topic, 0, batch(9003, [b"open-1"], True)).error_code == 0
    assert produce_raw(broker.bootstrap, topic, 0, batch(None, [b"after-open"], False)).error_code == 0

    committed = [b"plain-0", b"committed-1", b"plain-1"]
    everything = [b"plain-0", b"aborted-1", b"aborted-2", b"committed-1", b"plain-1", b"open-1", b"after-open"]

    def kafka_python(isolation: str) -> list[bytes]:
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, isolation_level=isolation,
                                 enable_auto_commit=False, consumer_timeout_ms=3000)
        try:
            consumer.assign([KPTopicPartition(topic, 0)])
            consumer.seek_to_beginning()
            return [m.value for m in consumer]
        finally:
            consumer.close()

    def librdkafka(isolation: str) -> list[bytes]:
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique_topic("rc"),
                             "isolation.level": isolation, "enable.auto.commit": False,
                             "enable.partition.eof": True, "broker.address.family": "v4"})
        values = []
        try:
            consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        break
                    raise AssertionError(message.error())
                values.append(message.value())
        finally:
            consumer.close()
        return values

    assert kafka_python("read_committed") == committed
    assert kafka_python("read_uncommitted") == everything
    assert librdkafka("read_committed") == committed
    assert librdkafka("read_uncommitted") == everything

    # Committing the open transaction releases the rest.
    assert write_marker(broker.bootstrap, topic, 9003, commit=True) == 0
    assert kafka_python("read_committed") == committed + [b"open-1", b"after-open"]
    assert librdkafka("read_committed") == committed + [b"open-1", b"after-open"]
