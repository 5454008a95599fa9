"""Failover to the standby and failback to the primary, with `strait failover`, under the default
and the identity policy: the group resumes at exactly the next unread record each way, also on
the replica of the primary's own topic, which the reverse flow does not copy back (translated
backward through the first flow's offset map)."""

from __future__ import annotations

import json
import subprocess

import pytest
from confluent_kafka import Consumer, TopicPartition
from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata, TopicPartition as KafkaPythonPartition

from mirror_env import mm2, produce, strait_binary, unique, wait_until

PARTITIONS = 2
PER_PARTITION = 100


def failover(config_path, group: str, source: str, target: str, dry_run: bool = False) -> dict:
    command = [strait_binary(), "failover", "--mm2", str(config_path), "--group", group, "--source", source, "--target", target, "--json"]
    result = subprocess.run(command + (["--dry-run"] if dry_run else []), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return {"error": result.stderr.strip()}
    return json.loads(result.stdout)


def entries(report: dict) -> dict[tuple[str, int], tuple[int, int | None]]:
    return {(p["topic"], p["partition"]): (p["upstreamOffset"], p["offset"]) for p in report.get("partitions", [])}


def commit(bootstrap: str, group: str, offsets: dict[tuple[str, int], int]):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
    finally:
        consumer.close()


def first_unread(bootstrap: str, group: str, partitions: list[tuple[str, int]], client: str) -> dict[tuple[str, int], str]:
    """The first record the group reads per partition from its committed offsets (no commit)."""
    found: dict[tuple[str, int], str] = {}
    if client == "kafka-python":
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest")
        try:
            consumer.assign([KafkaPythonPartition(t, p) for t, p in partitions])

            def poll():
                for records in consumer.poll(timeout_ms=500).values():
                    for record in records:
                        found.setdefault((record.topic, record.partition), record.value.decode())
                return len(found) == len(partitions)
            wait_until(poll, 30, f"first records of {group} (kafka-python)")
        finally:
            consumer.close(autocommit=False)
    else:
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        try:
            committed = consumer.committed([TopicPartition(t, p) for t, p in partitions], timeout=10)
            consumer.assign(committed)

            def poll():
                for message in consumer.consume(100, 0.5):
                    if not message.error():
                        found.setdefault((message.topic(), message.partition()), message.value().decode())
                return len(found) == len(partitions)
            wait_until(poll, 30, f"first records of {group} (confluent-kafka)")
        finally:
            consumer.close()
    return found


@pytest.mark.parametrize("policy,client", [("default", "kafka-python"), ("identity", "confluent-kafka")])
def test_failover_and_failback(brokers, agents, policy, client):
    a = brokers("A")
    b = brokers("B")
    a.create_topic("orders", PARTITIONS)
    produce(a.bootstrap, "orders", [{"value": f"a-{p}-{i}".encode(), "partition": p} for p in range(PARTITIONS) for i in range(PER_PARTITION)])
    settings = {"emit.checkpoints.interval.seconds": 1, "refresh.groups.interval.seconds": 1, "refresh.topics.interval.seconds": 1}
    if policy == "identity":
        settings["replication.policy.class"] = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
    replica = "A.orders" if policy == "default" else "orders"
    group = unique("billing")

    # The group read part of each partition on A.
    commit(a.bootstrap, group, {("orders", 0): 30, ("orders", 1): 70})
    forward = agents(mm2({"A": a, "B": b}, ["A->B"], **settings), "forward")
    wait_until(lambda: entries(failover(forward.config_path, group, "A", "B", dry_run=True)) == {(replica, 0): (30, 30), (replica, 1): (70, 70)},
               60, "checkpoints of the group on B")

    # A is lost.
    forward.kill()
    a.terminate()
    report = failover(forward.config_path, group, "A", "B")
    assert report.get("committed") is True, report
    assert entries(report) == {(replica, 0): (30, 30), (replica, 1): (70, 70)}
    assert first_unread(b.bootstrap, group, [(replica, 0), (replica, 1)], client) == {(replica, 0): "a-0-30", (replica, 1): "a-1-70"}

    # On B: producers write there, the group reads on.
    if policy == "default":
        b.create_topic("orders", PARTITIONS)
    produce(b.bootstrap, "orders", [{"value": f"b-{p}-{i}".encode(), "partition": p} for p in range(PARTITIONS) for i in range(40)])
    if policy == "default":
        # Read 10 more of A's records on partition 0, all of them and 5 of B's on partition 1
        # (B's `orders` is its own topic here).
        on_b = {("A.orders", 0): 40, ("A.orders", 1): PER_PARTITION, ("orders", 0): 15, ("orders", 1): 5}
        expected_on_a = {("orders", 0): "a-0-40", ("B.orders", 0): "b-0-15", ("B.orders", 1): "b-1-5"}
        expected_checkpoints = {("orders", 0): (40, 40), ("orders", 1): (PER_PARTITION, PER_PARTITION), ("B.orders", 0): (15, 15),
                                ("B.orders", 1): (5, 5)}
    else:
        # One topic: partition 0 still inside what came from A, partition 1 into B's own records.
        on_b = {("orders", 0): 40, ("orders", 1): PER_PARTITION + 5}
        expected_on_a = {("orders", 0): "a-0-40", ("orders", 1): "b-1-5"}
        expected_checkpoints = {("orders", 0): (40, 40), ("orders", 1): (PER_PARTITION + 5, PER_PARTITION + 5)}
    commit(b.bootstrap, group, on_b)

    # A is back; the reverse flow runs, and the group returns.
    a.start()
    backward = agents(mm2({"A": a, "B": b}, ["B->A"], **settings), "backward")
    wait_until(lambda: entries(failover(backward.config_path, group, "B", "A", dry_run=True)) == expected_checkpoints,
               90, "checkpoints of the group on A")
    backward.kill()
    report = failover(backward.config_path, group, "B", "A")
    assert report.get("committed") is True, report
    assert entries(report) == expected_checkpoints
    # Partition 1 of the default policy's `orders` was read to its end on B: nothing left to read.
    assert first_unread(a.bootstrap, group, sorted(expected_on_a), client) == expected_on_a
