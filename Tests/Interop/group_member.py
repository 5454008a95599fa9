"""One consumer-group member, run as a subprocess by test_groups.py so that a test can SIGKILL it.

    python3 group_member.py --client {kafka-python,confluent} --bootstrap HOST:PORT --topic T
        --group G --out EVENTS.jsonl [--client-id ID] [--instance-id STATIC_ID]
        [--session-timeout-ms 6000] [--heartbeat-ms 500] [--rebalance-timeout-ms 10000]

It subscribes (range assignor, the protocol kafka-python, librdkafka and kcat all offer), consumes
from the earliest offset, commits synchronously after every poll batch (and in the revoke
callback), and appends one JSON object per line to EVENTS.jsonl, flushed line by line so that a
SIGKILL loses nothing already written:

    {"ev": "start", "pid": ..., "client": ...}
    {"ev": "join", "gen": G, "member": ID}              librdkafka only: every JoinGroup response
    {"ev": "assigned", "gen": G, "member": ID, "partitions": [...]}
    {"ev": "revoked", "gen": G, "partitions": [...]}
    {"ev": "records", "gen": G, "recs": [[partition, offset], ...]}
    {"ev": "committed", "gen": G, "offsets": {"partition": next_offset, ...}}
    {"ev": "commit_failed", "gen": G, "offsets": {...}, "error": "..."}
    {"ev": "closing"} / {"ev": "closed"}

Every event carries "t" (time.time()). SIGTERM closes the consumer gracefully (kafka-python and
librdkafka send LeaveGroup, except librdkafka for a static member: KIP-345).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import time

stop = False


def on_sigterm(signum, frame):
    global stop
    stop = True


class Events:
    def __init__(self, path: str):
        self.f = open(path, "a", buffering=1)

    def emit(self, ev: str, **kw):
        kw = {"ev": ev, "t": time.time(), **kw}
        self.f.write(json.dumps(kw) + "\n")


def run_kafka_python(args, events: Events):
    from kafka import KafkaConsumer, TopicPartition
    from kafka.consumer.subscription_state import AsyncConsumerRebalanceListener
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.structs import OffsetAndMetadata

    conf = dict(bootstrap_servers=args.bootstrap, group_id=args.group, client_id=args.client_id,
                enable_auto_commit=False, auto_offset_reset="earliest",
                session_timeout_ms=args.session_timeout_ms, heartbeat_interval_ms=args.heartbeat_ms,
                max_poll_interval_ms=args.rebalance_timeout_ms,
                partition_assignment_strategy=[RangePartitionAssignor],
                fetch_max_wait_ms=100, max_poll_records=args.max_poll_records,
                request_timeout_ms=max(30000, args.rebalance_timeout_ms + 5000))
    if args.instance_id:
        conf["group_instance_id"] = args.instance_id
    consumer = KafkaConsumer(**conf)
    consumed: dict[int, int] = {}   # partition -> next offset to commit (this ownership)
    committed: dict[int, int] = {}

    def generation():
        g = consumer._coordinator._generation  # noqa: SLF001 - the only place kafka-python keeps it
        return g.generation_id, g.member_id

    def commit(parts=None):
        todo = {p: o for p, o in consumed.items() if committed.get(p) != o and (parts is None or p in parts)}
        if not todo:
            return
        gen, _ = generation()
        offsets = {TopicPartition(args.topic, p): OffsetAndMetadata(o, "", -1) for p, o in todo.items()}
        try:
            consumer.commit(offsets)
        except Exception as exc:  # noqa: BLE001 - reported to the test, which judges it
            events.emit("commit_failed", gen=gen, offsets={str(p): o for p, o in todo.items()},
                        error=f"{type(exc).__name__}: {exc}", where="batch")
            return
        committed.update(todo)
        events.emit("committed", gen=gen, offsets={str(p): o for p, o in todo.items()}, where="batch")

    async def commit_revoked(parts):
        # kafka-python 3.0 runs rebalance listeners on its IO loop, where the blocking commit()
        # raises RuntimeError; an AsyncConsumerRebalanceListener awaits the coordinator's own
        # synchronous-commit coroutine (what kafka-python itself awaits for auto-commit before a
        # rebalance) instead.
        todo = {p: o for p, o in consumed.items() if committed.get(p) != o and p in parts}
        if not todo:
            return
        gen, _ = generation()
        offsets = {TopicPartition(args.topic, p): OffsetAndMetadata(o, "", -1) for p, o in todo.items()}
        try:
            await consumer._coordinator._commit_offsets_sync_async(offsets)  # noqa: SLF001
        except Exception as exc:  # noqa: BLE001 - reported to the test, which judges it
            events.emit("commit_failed", gen=gen, offsets={str(p): o for p, o in todo.items()},
                        error=f"{type(exc).__name__}: {exc}", where="revoke")
            return
        committed.update(todo)
        events.emit("committed", gen=gen, offsets={str(p): o for p, o in todo.items()}, where="revoke")

    class Listener(AsyncConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked):
            parts = sorted(tp.partition for tp in revoked)
            await commit_revoked(set(parts))
            gen, _ = generation()
            events.emit("revoked", gen=gen, partitions=parts)
            for p in parts:
                consumed.pop(p, None)
                committed.pop(p, None)

        async def on_partitions_assigned(self, assigned):
            gen, member = generation()
            events.emit("assigned", gen=gen, member=member, partitions=sorted(tp.partition for tp in assigned))

        async def on_partitions_lost(self, lost):
            gen, _ = generation()
            parts = sorted(tp.partition for tp in lost)
            events.emit("lost", gen=gen, partitions=parts)
            for p in parts:
                consumed.pop(p, None)
                committed.pop(p, None)

    consumer.subscribe([args.topic], listener=Listener())
    events.emit("subscribed")
    while not stop:
        batch = consumer.poll(timeout_ms=200)
        recs = []
        for tp, messages in batch.items():
            for m in messages:
                recs.append([m.partition, m.offset])
                consumed[m.partition] = m.offset + 1
        if recs:
            gen, _ = generation()
            events.emit("records", gen=gen, recs=recs)
            commit()
    events.emit("closing")
    consumer.close()
    events.emit("closed")


class GenerationLog(logging.Handler):
    """librdkafka (debug=cgrp) logs every JoinGroup response; confluent-kafka does not expose the
    generation id otherwise."""

    JOINED = re.compile(r"JoinGroup response: GenerationId (-?\d+), Protocol (\S*), LeaderId (\S*).*my MemberId (\S+)")

    def __init__(self, events: Events):
        super().__init__(logging.DEBUG)
        self.events = events
        self.generation = -1
        self.member = ""

    def emit(self, record):
        m = self.JOINED.search(record.getMessage())
        if m:
            gen = int(m.group(1))
            if gen >= 0:
                self.generation = gen
                self.member = m.group(4).rstrip(",")
                self.events.emit("join", gen=gen, member=self.member, protocol=m.group(2).rstrip(","),
                                 leader=m.group(3).rstrip(","))


def run_confluent(args, events: Events):
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    logger = logging.getLogger("rdkafka")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    gens = GenerationLog(events)
    logger.addHandler(gens)
    conf = {"bootstrap.servers": args.bootstrap, "group.id": args.group, "client.id": args.client_id,
            "broker.address.family": "v4", "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "range", "session.timeout.ms": args.session_timeout_ms,
            "heartbeat.interval.ms": args.heartbeat_ms, "max.poll.interval.ms": args.rebalance_timeout_ms,
            "fetch.wait.max.ms": 100, "debug": "cgrp", "logger": logger}
    if args.instance_id:
        conf["group.instance.id"] = args.instance_id
    consumer = Consumer(conf)
    consumed: dict[int, int] = {}
    committed: dict[int, int] = {}

    def commit(parts=None, where="batch"):
        todo = {p: o for p, o in consumed.items() if committed.get(p) != o and (parts is None or p in parts)}
        if not todo:
            return
        gen = gens.generation
        try:
            result = consumer.commit(offsets=[TopicPartition(args.topic, p, o) for p, o in todo.items()],
                                     asynchronous=False)
            errors = [f"{tp.partition}: {tp.error}" for tp in result or [] if tp.error]
            if errors:
                raise KafkaException("; ".join(errors))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which judges it
            events.emit("commit_failed", gen=gen, offsets={str(p): o for p, o in todo.items()},
                        error=f"{type(exc).__name__}: {exc}", where=where)
            return
        committed.update(todo)
        events.emit("committed", gen=gen, offsets={str(p): o for p, o in todo.items()}, where=where)

    def on_assign(c, partitions):
        events.emit("assigned", gen=gens.generation, member=gens.member,
                    partitions=sorted(tp.partition for tp in partitions))

    def on_revoke(c, partitions):
        parts = sorted(tp.partition for tp in partitions)
        commit(set(parts), where="revoke")
        events.emit("revoked", gen=gens.generation, partitions=parts)
        for p in parts:
            consumed.pop(p, None)
            committed.pop(p, None)

    def on_lost(c, partitions):
        parts = sorted(tp.partition for tp in partitions)
        events.emit("lost", gen=gens.generation, partitions=parts)
        for p in parts:
            consumed.pop(p, None)
            committed.pop(p, None)

    consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    events.emit("subscribed")
    while not stop:
        msgs = consumer.consume(num_messages=args.max_poll_records, timeout=0.2)
        recs = []
        for m in msgs:
            if m.error():
                events.emit("error", error=str(m.error()))
                continue
            recs.append([m.partition(), m.offset()])
            consumed[m.partition()] = m.offset() + 1
        if recs:
            events.emit("records", gen=gens.generation, recs=recs)
            commit()
    events.emit("closing")
    consumer.close()
    events.emit("closed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", choices=["kafka-python", "confluent"], required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--client-id", default="group-member")
    ap.add_argument("--instance-id", default=None)
    ap.add_argument("--session-timeout-ms", type=int, default=6000)
    ap.add_argument("--heartbeat-ms", type=int, default=500)
    ap.add_argument("--rebalance-timeout-ms", type=int, default=10000)
    ap.add_argument("--max-poll-records", type=int, default=50)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    events = Events(args.out)
    events.emit("start", pid=__import__("os").getpid(), client=args.client)
    if args.client == "kafka-python":
        run_kafka_python(args, events)
    else:
        run_confluent(args, events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
