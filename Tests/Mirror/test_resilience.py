"""Crashes, handovers between agents, lost source data, and brokers that are not Strait's."""

from __future__ import annotations

import collections
import json
import subprocess
import threading
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from mirror_env import delete_records, mm2, produce, read_all, strait_binary, unique, wait_until

FAST = {"refresh.topics.interval.seconds": 1, "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


class SequenceProducer(threading.Thread):
    """Writes `p:n` to partition p, n counting up, at about `rate` records/s in total."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, rate: int, seconds: float):
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.partitions, self.rate, self.seconds = bootstrap, topic, partitions, rate, seconds
        self.sent = 0
        self.failures = []

    def run(self):
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5, "enable.idempotence": True})
        start = time.monotonic()
        counters = [0] * self.partitions
        while time.monotonic() - start < self.seconds:
            due = int((time.monotonic() - start) * self.rate)
            while self.sent < due:
                partition = self.sent % self.partitions
                producer.produce(self.topic, f"{partition}:{counters[partition]}".encode(), partition=partition,
                                 on_delivery=lambda err, msg: err and self.failures.append(err))
                counters[partition] += 1
                self.sent += 1
            producer.poll(0.01)
        assert producer.flush(60) == 0


def check_stream(records, sent: int, partitions: int):
    """Every record present, in order per partition; returns the number of duplicates."""
    seen = collections.defaultdict(list)
    for partition, _, _, value, _, _ in records:
        source_partition, number = value.decode().split(":")
        assert int(source_partition) == partition, "records stay in their partition"
        seen[partition].append(int(number))
    total = 0
    duplicates = 0
    for partition in range(partitions):
        numbers = seen[partition]
        distinct = set(numbers)
        expected = len(range(partition, sent, partitions))
        assert distinct == set(range(expected)), f"partition {partition}: missing {sorted(set(range(expected)) - distinct)[:10]}"
        duplicates += len(numbers) - len(distinct)
        total += len(distinct)
        # A re-copy restarts from an earlier record and goes on in order.
        firsts = [n for i, n in enumerate(numbers) if n not in numbers[:i]] if len(numbers) < 5000 else sorted(distinct)
        assert firsts == sorted(firsts)
    assert total == sent
    return duplicates


def test_kill_9_three_times_during_a_stream_loses_nothing(brokers, agents):
    a, b = brokers("a"), brokers("b")
    topic = unique("stream")
    a.create_topic(topic, 4)
    properties = mm2({"A": a, "B": b}, ["A->B"], topics=topic, **FAST)
    stream = SequenceProducer(a.bootstrap, topic, 4, rate=1000, seconds=30)
    stream.start()
    agent = agents(properties, "agent")
    for _ in range(3):
        wait_until(lambda: sum(b.end_offsets(f"A.{topic}").values()) > 0 if f"A.{topic}" in b.topics() else False,
                   30, "copying to start")
        time.sleep(4)
        before = sum(b.end_offsets(f"A.{topic}").values())
        agent.kill()
        agent.start()
        assert before > 0
    stream.join(90)
    assert not stream.failures
    copied = read_all(b.bootstrap, f"A.{topic}", stream.sent, timeout=120, isolation="read_uncommitted", settle=2)
    duplicates = check_stream(copied, stream.sent, 4)
    print(f"\nkill -9 x3: {stream.sent} records sent, {len(copied)} copied, {duplicates} duplicates")
    # At most about one flush interval (1 s at 1,000 records/s) per kill, with slack for in-flight batches.
    assert duplicates <= 3 * 2500, agent.log()[-3000:]


def test_agents_split_partitions_and_hand_over_without_loss(brokers, agents):
    a, b = brokers("a"), brokers("b")
    topic = unique("shared")
    a.create_topic(topic, 6)
    produce(a.bootstrap, topic, [{"value": f"{p}:{n}".encode(), "partition": p} for n in range(100) for p in range(6)])
    properties = mm2({"A": a, "B": b}, ["A->B"], topics=topic, **FAST)
    first = agents(properties, "first")
    read_all(b.bootstrap, f"A.{topic}", 600)
    second = agents(properties, "second")
    group = "strait-mirror.A->B"

    def split(members: int):
        def check():
            described = b.admin().describe_consumer_groups([group])[group].result(timeout=10)
            owned = [sorted(tp.partition for tp in m.assignment.topic_partitions) for m in described.members]
            whole = len(owned) == members and all(owned) and sorted(sum(owned, [])) == list(range(6))
            return owned if whole else None
        return check
    owned = wait_until(split(2), 60, "both agents to own partitions")
    assert not set(owned[0]) & set(owned[1]), "no partition owned twice"

    produce(a.bootstrap, topic, [{"value": f"{p}:{n}".encode(), "partition": p} for n in range(100, 200) for p in range(6)])
    wait_until(lambda: sum(b.end_offsets(f"A.{topic}").values()) >= 1200, 60, "records copied by both agents")
    third = agents(properties, "third")
    owned = wait_until(split(3), 60, "a third agent to share the work")
    assert sorted(len(o) for o in owned) == [2, 2, 2], owned
    produce(a.bootstrap, topic, [{"value": f"{p}:{n}".encode(), "partition": p} for n in range(200, 300) for p in range(6)])
    wait_until(lambda: sum(b.end_offsets(f"A.{topic}").values()) >= 1800, 60, "records copied by three agents")
    assert first.terminate() == 0, "a graceful stop"
    produce(a.bootstrap, topic, [{"value": f"{p}:{n}".encode(), "partition": p} for n in range(300, 400) for p in range(6)])
    copied = read_all(b.bootstrap, f"A.{topic}", 2400, timeout=90, isolation="read_uncommitted", settle=2)
    duplicates = check_stream(copied, 2400, 6)
    assert duplicates == 0, "graceful handovers store positions first: nothing copied twice"
    assert "handed over" in first.log() and "copying" in second.log() and "copying" in third.log()
    assert "lost" not in first.log(), "a graceful stop loses nothing"


@pytest.mark.parametrize("policy", ["stop", "skip"])
def test_records_deleted_before_they_were_copied_raise_an_alarm(brokers, agents, policy):
    a, b = brokers("a"), brokers("b")
    topic = unique("lossy")
    a.create_topic(topic, 1)
    produce(a.bootstrap, topic, [{"value": f"{n}".encode()} for n in range(100)])
    properties = mm2({"A": a, "B": b}, ["A->B"], topics=topic, **{"data.loss.policy": policy}, **FAST)
    agent = agents(properties, "before")
    read_all(b.bootstrap, f"A.{topic}", 100)
    assert agent.terminate() == 0
    produce(a.bootstrap, topic, [{"value": f"{n}".encode()} for n in range(100, 200)])
    delete_records(a, topic, 0, 150)
    later = agents(properties, "after")

    wait_until(lambda: "deleted offsets 100 to 149 before they were copied" in later.log(), 30, "the data-loss alarm")
    alarms = wait_until(lambda: later.status()["flows"][0]["alarms"], 10, "the status entry")
    assert [(x["topic"], x["partition"], x["stopped"]) for x in alarms] == [(topic, 0, policy == "stop")]
    assert "deleted offsets 100 to 149" in alarms[0]["message"]
    assert later.metric("strait_mirror_data_loss_events_total", "A->B") == 1
    assert later.metric("strait_mirror_stopped_partitions", "A->B") == (1 if policy == "stop" else 0)
    produce(a.bootstrap, topic, [{"value": f"{n}".encode()} for n in range(200, 210)])
    if policy == "stop":
        time.sleep(4)
        assert b.end_offsets(f"A.{topic}") == {0: 100}, "the partition stays stopped"
        assert "partition stopped" in later.log()
    else:
        copied = read_all(b.bootstrap, f"A.{topic}", 160, timeout=30, isolation="read_uncommitted", settle=1)
        assert [int(r[3]) for r in copied] == list(range(100)) + list(range(150, 210)), "the gap stays visible"


@pytest.mark.parametrize("source_kind, target_kind", [("tansu", "strait"), ("strait", "tansu")])
def test_tansu_interop(brokers, agents, source_kind, target_kind):
    a, b = brokers("a", source_kind), brokers("b", target_kind)
    topic = unique("interop")
    a.create_topic(topic, 2)
    records = [{"key": f"k{i}".encode(), "value": f"v{i}".encode(), "headers": [("n", str(i).encode())],
                "partition": i % 2, "timestamp": 1_700_000_000_000 + i} for i in range(400)]
    produce(a.bootstrap, topic, records, **{"compression.type": "lz4"})
    agent = agents(mm2({"A": a, "B": b}, ["A->B"], topics=topic, **FAST))
    copied = read_all(b.bootstrap, f"A.{topic}", 400, timeout=90, isolation="read_uncommitted", settle=1)
    assert len(copied) == 400, agent.log()[-3000:]
    got = {(r[0], r[2], r[3], r[4], r[5]) for r in copied}
    want = {(r["partition"], r["key"], r["value"], tuple(r["headers"]), r["timestamp"]) for r in records}
    assert got == want

    # Offsets translate through the other broker too: a group's commit is checkpointed, and
    # failover puts it on the copy of the next record.
    group = unique("interop-group")
    consumer = Consumer({"bootstrap.servers": a.bootstrap, "group.id": group, "enable.auto.commit": False})
    consumer.commit(offsets=[TopicPartition(topic, 0, 57), TopicPartition(topic, 1, 200)], asynchronous=False)
    consumer.close()
    command = [strait_binary(), "failover", "--mm2", str(agent.config_path), "--group", group, "--source", "A", "--target", "B", "--json"]

    def translated():
        result = subprocess.run(command + ["--dry-run"], capture_output=True, text=True, timeout=60)
        return result.returncode == 0 and {(p["partition"], p["upstreamOffset"], p["offset"]) for p in json.loads(result.stdout)["partitions"]}
    wait_until(lambda: translated() == {(0, 57, 57), (1, 200, 200)}, 60, "the group's checkpoints")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    reader = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "enable.auto.commit": False})
    committed = reader.committed([TopicPartition(f"A.{topic}", 0), TopicPartition(f"A.{topic}", 1)], timeout=10)
    reader.close()
    assert {(c.partition, c.offset) for c in committed} == {(0, 57), (1, 200)}


@pytest.mark.parametrize("policy", ["stop", "skip"])
def test_a_recreated_source_topic_raises_an_alarm(brokers, agents, policy):
    a, b = brokers("a"), brokers("b")
    topic = unique("reborn")
    a.create_topic(topic, 1)
    produce(a.bootstrap, topic, [{"value": f"old{n}".encode()} for n in range(50)])
    agent = agents(mm2({"A": a, "B": b}, ["A->B"], topics=topic, **{"data.loss.policy": policy}, **FAST))
    read_all(b.bootstrap, f"A.{topic}", 50)
    a.admin().delete_topics([topic])[topic].result(timeout=30)
    wait_until(lambda: topic not in a.topics(), 30, "the source topic to go")
    time.sleep(2)
    a.create_topic(topic, 1)
    produce(a.bootstrap, topic, [{"value": f"new{n}".encode()} for n in range(80)])

    wait_until(lambda: "recreated (new topic id)" in agent.log(), 30, "the recreation alarm")
    wait_until(lambda: agent.metric("strait_mirror_data_loss_events_total", "A->B") >= 1, 10, "the data-loss metric")
    if policy == "stop":
        time.sleep(3)
        assert b.end_offsets(f"A.{topic}") == {0: 50}, "stopped: nothing of the new topic copied"
    else:
        copied = read_all(b.bootstrap, f"A.{topic}", 130, timeout=30, isolation="read_uncommitted", settle=1)
        assert [r[3] for r in copied] == [f"old{n}".encode() for n in range(50)] + [f"new{n}".encode() for n in range(80)]
