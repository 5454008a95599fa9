"""Transactions with confluent-kafka (librdkafka 2.16): committed and aborted transactions and
one left open when the broker is killed; read_committed consumers (kafka-python, librdkafka)
see exactly the committed records, read_uncommitted ones see everything written; and a
consume-transform-produce loop with send_offsets_to_transaction is exactly-once."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KPTopicPartition

from interop import unique_topic

pytestmark = [pytest.mark.durable, pytest.mark.broker_settings(**{"group.initial.rebalance.delay.ms": "0"})]


def create(broker, topic: str, partitions: int):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4"})
    for future in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
        future.result(15)


def transactional_producer(broker, transactional_id: str) -> Producer:
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": transactional_id,
                         "transaction.timeout.ms": 60000, "broker.address.family": "v4", "linger.ms": 5})
    producer.init_transactions(20)
    return producer


def read_librdkafka(broker, topic: str, partitions: int, isolation: str) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique_topic("tx-read"), "isolation.level": isolation,
                         "enable.auto.commit": False, "enable.partition.eof": True, "broker.address.family": "v4"})
    values, ends = [], set()
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        deadline = time.monotonic() + 15
        while len(ends) < partitions and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    ends.add(message.partition())
                    continue
                raise AssertionError(message.error())
            values.append(message.value())
    finally:
        consumer.close()
    assert len(ends) == partitions, "did not reach the end of every partition"
    return sorted(values)


def read_kafka_python(broker, topic: str, partitions: int, isolation: str) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, isolation_level=isolation, enable_auto_commit=False,
                             consumer_timeout_ms=3000)
    try:
        consumer.assign([KPTopicPartition(topic, p) for p in range(partitions)])
        consumer.seek_to_beginning()
        return sorted(m.value for m in consumer)
    finally:
        consumer.close()


def test_committed_aborted_and_killed_transactions(own_broker):
    broker = own_broker
    topic = unique_topic("tx")
    create(broker, topic, 3)
    producer = transactional_producer(broker, "tx-killed")
    committed, aborted = [], []
    for number in range(6):
        producer.begin_transaction()
        values = [f"t{number}-r{i}".encode() for i in range(7)]
        for i, value in enumerate(values):
            producer.produce(topic, value=value, partition=i % 3)
        producer.flush(10)   # the records reach the broker before the transaction ends
        if number % 2 == 0:
            producer.commit_transaction(20)
            committed += values
        else:
            producer.abort_transaction(20)
            aborted += values
    # One transaction is open, its records written, when the broker is killed.
    producer.begin_transaction()
    open_values = [f"open-r{i}".encode() for i in range(4)]
    for i, value in enumerate(open_values):
        producer.produce(topic, value=value, partition=i % 3)
    producer.flush(10)
    broker.kill9()
    del producer
    broker.start()
    # The producer's next incarnation aborts what the old one left open.
    successor = transactional_producer(broker, "tx-killed")
    successor.begin_transaction()
    successor.produce(topic, value=b"after-restart", partition=0)
    successor.commit_transaction(20)
    committed.append(b"after-restart")

    everything = sorted(committed + aborted + open_values)
    assert read_librdkafka(broker, topic, 3, "read_committed") == sorted(committed)
    assert read_kafka_python(broker, topic, 3, "read_committed") == sorted(committed)
    assert read_librdkafka(broker, topic, 3, "read_uncommitted") == everything
    assert read_kafka_python(broker, topic, 3, "read_uncommitted") == everything


def test_consume_transform_produce_is_exactly_once(own_broker):
    broker = own_broker
    source, sink, group = unique_topic("tx-in"), unique_topic("tx-out"), unique_topic("tx-group")
    create(broker, source, 2)
    create(broker, sink, 2)
    plain = Producer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4"})
    for i in range(200):
        plain.produce(source, value=str(i).encode(), partition=i % 2)
    assert plain.flush(10) == 0

    def run(limit: int, commit_last: bool) -> int:
        """Processes up to `limit` records in transactions of 20; the last one is aborted
        unless `commit_last` (a crash before commit)."""
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False,
                             "auto.offset.reset": "earliest", "isolation.level": "read_committed", "broker.address.family": "v4"})
        producer = transactional_producer(broker, "tx-ctp")
        consumer.subscribe([source])
        processed = 0
        try:
            deadline = time.monotonic() + 30
            while processed < limit and time.monotonic() < deadline:
                messages = consumer.consume(20, timeout=1.0)
                messages = [m for m in messages if not m.error()]
                if not messages:
                    continue
                producer.begin_transaction()
                for message in messages:
                    producer.produce(sink, value=b"x" + message.value(), partition=message.partition())
                producer.send_offsets_to_transaction(consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 20)
                processed += len(messages)
                if processed >= limit and not commit_last:
                    producer.flush(10)
                    producer.abort_transaction(20)
                    # The aborted batch must be read again by the next run.
                    processed -= len(messages)
                    break
                producer.commit_transaction(20)
        finally:
            consumer.close()
        return processed

    first = run(100, commit_last=False)
    second = run(200 - first, commit_last=True)
    assert first + second == 200
    values = read_librdkafka(broker, sink, 2, "read_committed")
    assert sorted(values) == sorted(b"x" + str(i).encode() for i in range(200)), "each input record transformed exactly once"


def test_unknown_transactional_id_and_stale_epoch_get_kafkas_errors(own_broker):
    from kafka.protocol.producer.transaction import AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, EndTxnRequest, EndTxnResponse

    from interop import Wire

    broker = own_broker
    topic = unique_topic("tx-bad")
    create(broker, topic, 1)
    with Wire(broker.bootstrap) as wire:
        response = wire.request(AddPartitionsToTxnRequest(
            v3_and_below_transactional_id="never-initialised", v3_and_below_producer_id=123, v3_and_below_producer_epoch=0,
            v3_and_below_topics=[AddPartitionsToTxnRequest.AddPartitionsToTxnTopic(name=topic, partitions=[0])]), 3, AddPartitionsToTxnResponse)
        code = response.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code
        assert code == 49, f"INVALID_PRODUCER_ID_MAPPING expected, got {code}"
    # A fenced incarnation: the first producer's epoch is older than its successor's.
    first = transactional_producer(broker, "tx-fence")
    first.begin_transaction()
    first.produce(topic, value=b"zombie", partition=0)
    first.flush(10)
    second = transactional_producer(broker, "tx-fence")
    with pytest.raises(Exception) as failure:
        first.commit_transaction(10)
    assert "fenced" in str(failure.value).lower(), failure.value
    second.begin_transaction()
    second.produce(topic, value=b"live", partition=0)
    second.commit_transaction(10)
    assert read_librdkafka(broker, topic, 1, "read_committed") == [b"live"]
