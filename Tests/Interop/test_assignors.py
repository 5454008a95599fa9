"""Partition assignors beyond "range", and a third Python client (aiokafka), in classic consumer groups.

* roundrobin: kafka-python (``RoundRobinPartitionAssignor``) alone on a 6-partition topic while
  records keep coming, then confluent-kafka (``partition.assignment.strategy=roundrobin``) joins:
  3 + 3 partitions in roundrobin order, no overlap, a real hand-over mid-stream, every record
  consumed exactly once with commits (synchronous after every batch and in the revoke callback);
* cooperative-sticky (KIP-429, incremental rebalancing): member A alone owns every partition, B
  joins and takes half of them in two rounds (A revokes only the moved partitions, never all of
  them, and B gets each one only after A let it go), then B leaves and A gets everything back
  without revoking anything, while records are produced continuously: librdkafka members only, then
  mixed with kafka-python 3.0.12's ``CooperativeStickyAssignor`` (kafka-python leading, then
  librdkafka leading);
* aiokafka: an ``AIOKafkaConsumer`` and a confluent-kafka consumer in one "range" group (aiokafka's
  default is roundrobin; range is what both offer here) with a hand-over mid-stream, commits, a
  restarted aiokafka member resuming exactly at the committed offsets; an ``AIOKafkaProducer``
  with acks=all and gzip.

Every member runs in a thread of this process (aiokafka on its own event loop) and records its
assignments, revocations, records and commits with one monotonic clock, so that ownership intervals
of different members can be compared. The broker runs with group.initial.rebalance.delay.ms=0;
session timeouts are 6 s (Kafka's group.min.session.timeout.ms) and heartbeats 0.5 s.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import Counter, defaultdict

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition as CkTopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition as KpTopicPartition
from kafka.consumer.subscription_state import AsyncConsumerRebalanceListener
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.protocol.admin.groups import DescribeGroupsRequest, DescribeGroupsResponse
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment
from kafka.structs import OffsetAndMetadata

from interop import (ContinuousProducer, create_topic, CODEC_ID, LATEST, Wire, api_versions, fetch_codecs, list_offsets_raw, pick_version,
                     unique_topic, wait_until)

pytestmark = pytest.mark.broker_settings(**{"group.initial.rebalance.delay.ms": "0"})

SESSION_MS = 6000
HEARTBEAT_MS = 500
REBALANCE_MS = 10000      # max.poll.interval.ms / rebalance timeout of every member
T = 20.0                  # bound for one wait

# ---------------------------------------------------------------------------------------------
# Broker-side helpers
# ---------------------------------------------------------------------------------------------

def kp_admin(broker) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)

def produce(broker, topic: str, per_partition: dict[int, int], tag: str = "r") -> set[tuple[int, int]]:
    """Produces per_partition[p] records to each partition p; returns the acknowledged (partition, offset)."""
    p = Producer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4", "linger.ms": 5,
                  "acks": "all", "message.timeout.ms": 15000})
    acked: set[tuple[int, int]] = set()
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            acked.add((msg.partition(), msg.offset()))

    for part, n in per_partition.items():
        for i in range(n):
            p.produce(topic, value=f"{tag}-{part}-{i}".encode(), partition=part, on_delivery=on_delivery)
        p.poll(0)
    assert p.flush(T) == 0 and not errors, f"produce failed: {errors[:5]}"
    assert len(acked) == sum(per_partition.values())
    return acked

def committed_offsets(broker, group: str, topic: str) -> dict[int, int]:
    admin = kp_admin(broker)
    try:
        offsets = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    return {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == topic and om.offset >= 0}

def end_offsets(broker, topic: str, partitions: int) -> dict[int, int]:
    out = list_offsets_raw(broker.bootstrap, {topic: list(range(partitions))}, LATEST)
    assert all(err == 0 for err, _ in out.values()), out
    return {p: off for (_, p), (_, off) in out.items()}

def describe_group(bootstrap: str, group: str):
    """DescribeGroups over raw TCP: (state, protocol, {member_id: (client_id, partitions)})."""
    v = pick_version(api_versions(bootstrap), DescribeGroupsRequest, 0, 5)
    with Wire(bootstrap) as w:
        resp = w.request(DescribeGroupsRequest(groups=[group], include_authorized_operations=False), v,
                         DescribeGroupsResponse)
    (g,) = resp.groups
    assert g.error_code == 0, f"DescribeGroups {group}: error {g.error_code}"
    members = {}
    for m in g.members:
        parts = []
        if m.member_assignment:
            parts = sorted(tp.partition for tp in
                           ConsumerProtocolAssignment.decode(bytes(m.member_assignment)).partitions())
        members[m.member_id] = (m.client_id, parts)
    return g.group_state, g.protocol_data, members

def wait_stable(broker, group: str, protocol: str, members, timeout: float = T) -> dict:
    """Waits until DescribeGroups shows the group Stable on protocol, its assignment matches what
    the members themselves own, and every partition is owned; returns {member_id: (client_id, parts)}.
    (A member may trigger one more rebalance right after a settled one, see KpMember, so this waits
    rather than looking once.)"""
    last = None

    def check():
        nonlocal last
        last = describe_group(broker.bootstrap, group)
        state, proto, described = last
        mine = owners(members)
        if state != "Stable" or proto != protocol or len(described) != len(members):
            return None
        if {c: parts for c, parts in described.values()} != mine:
            return None
        return described

    try:
        return wait_until(check, timeout=timeout, message="a Stable group")
    except AssertionError:
        raise AssertionError(f"the group never settled Stable on {protocol!r} with the members' own "
                             f"assignment {owners(members)}; last DescribeGroups: {last}") from None

# ---------------------------------------------------------------------------------------------
# Group members in threads
# ---------------------------------------------------------------------------------------------

class Member(threading.Thread):
    """One consumer in a thread. Subscribes, consumes from the earliest offset, commits synchronously
    after every batch and in the revoke callback, and records events with a monotonic clock:

        assigned {partitions}      (the incremental set under cooperative rebalancing)
        revoked {partitions} / lost {partitions}
        records {recs: [(partition, offset)]}
        committed {offsets} / commit_failed {offsets, error}
        join {gen, protocol, leader, member}   (librdkafka members only, see JoinLog)
        error {error} / crash {error} / closed (the consumer is closed)
    """

    def __init__(self, name: str, topic: str, group: str, max_records: int = 50):
        super().__init__(name=name, daemon=True)
        self.member_name = name
        self.topic, self.group, self.max_records = topic, group, max_records
        self.halt = threading.Event()
        self.failure: BaseException | None = None
        self.started_at: float | None = None
        self._lock = threading.Lock()
        self._events: list[dict] = []
        # Only touched by the member's own thread: next offset per owned partition, and the last commit.
        self.consumed: dict[int, int] = {}
        self.committed_pos: dict[int, int] = {}

    # -- bookkeeping --------------------------------------------------------------------------

    def emit(self, ev: str, **kw):
        with self._lock:
            self._events.append({"ev": ev, "t": time.monotonic(), **kw})

    def events(self) -> list[dict]:
        with self._lock:
            return list(self._events)

    def owned(self) -> set[int]:
        owned: set[int] = set()
        for e in self.events():
            if e["ev"] == "assigned":
                owned |= set(e["partitions"])
            elif e["ev"] in ("revoked", "lost"):
                owned -= set(e["partitions"])
            elif e["ev"] == "closed":
                owned = set()
        return owned

    def records(self) -> list[tuple[int, int]]:
        return [tuple(r) for e in self.events() if e["ev"] == "records" for r in e["recs"]]

    def of(self, *kinds: str, after: float | None = None) -> list[dict]:
        return [e for e in self.events() if e["ev"] in kinds and (after is None or e["t"] >= after)]

    def got_records(self, recs: list[tuple[int, int]]):
        if not recs:
            return
        self.emit("records", recs=recs)
        for p, o in recs:
            self.consumed[p] = o + 1

    def pending(self, parts=None) -> dict[int, int]:
        return {p: o for p, o in self.consumed.items()
                if self.committed_pos.get(p) != o and (parts is None or p in parts)}

    def commit_done(self, todo: dict[int, int], where: str, error: BaseException | None = None):
        offsets = {str(p): o for p, o in todo.items()}
        if error is not None:
            self.emit("commit_failed", offsets=offsets, where=where, error=f"{type(error).__name__}: {error}")
        else:
            self.committed_pos.update(todo)
            self.emit("committed", offsets=offsets, where=where)

    def released(self, parts, ev: str = "revoked"):
        parts = sorted(parts)
        self.emit(ev, partitions=parts)
        for p in parts:
            self.consumed.pop(p, None)
            self.committed_pos.pop(p, None)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self):
        self.started_at = time.monotonic()
        super().start()

    def run(self):
        try:
            self.work()
        except BaseException as exc:  # noqa: BLE001 - reported by finish()
            self.failure = exc
            self.emit("crash", error=f"{type(exc).__name__}: {exc}")
        finally:
            self.emit("closed")   # the consumer is closed: whatever it still owned is released

    def work(self):
        raise NotImplementedError

    def finish(self, timeout: float = T):
        """Stops the poll loop, closes the consumer (a graceful leave) and re-raises a crash."""
        self.halt.set()
        self.join(timeout)
        assert not self.is_alive(), f"{self.member_name} did not close within {timeout}s"
        if self.failure is not None:
            raise AssertionError(f"{self.member_name} crashed: {self.failure!r}") from self.failure

    def check_consistency(self, rebalances: list[tuple[float, float]] = ()):
        """Records only from owned partitions, no errors, no lost partitions, and no failed commit,
        except a batch commit refused with ILLEGAL_GENERATION or REBALANCE_IN_PROGRESS during one
        of the given rebalances (from, to): under cooperative rebalancing a member keeps consuming
        and committing while it rejoins, and a commit carrying the generation that has just ended
        is refused, by Kafka as well (it checks the generation first, then CompletingRebalance)."""
        owned: set[int] = set()
        for e in self.events():
            if e["ev"] == "commit_failed" and e["where"] == "batch" and any(a <= e["t"] <= b for a, b in rebalances) \
                    and ("ILLEGAL_GENERATION" in e["error"] or "REBALANCE_IN_PROGRESS" in e["error"]
                         or "IllegalGeneration" in e["error"] or "RebalanceInProgress" in e["error"]):
                continue
            if e["ev"] == "assigned":
                dup = owned & set(e["partitions"])
                assert not dup, f"{self.member_name}: partitions {sorted(dup)} assigned while already owned: {e}"
                owned |= set(e["partitions"])
            elif e["ev"] == "revoked":
                missing = set(e["partitions"]) - owned
                assert not missing, f"{self.member_name}: revoked {sorted(missing)} it did not own: {e}"
                owned -= set(e["partitions"])
            elif e["ev"] == "records":
                foreign = {p for p, _ in e["recs"]} - owned
                assert not foreign, f"{self.member_name}: records of partitions {sorted(foreign)} it did not own"
            elif e["ev"] == "closed":
                owned = set()
            elif e["ev"] in ("commit_failed", "error", "crash", "lost"):
                raise AssertionError(f"{self.member_name}: {e}")

class JoinLog(logging.Handler):
    """librdkafka (debug=cgrp) logs every JoinGroup response; confluent-kafka does not expose the
    generation or the leader otherwise. Emits {"ev": "join", gen, protocol, leader, member}."""

    JOINED = re.compile(r"JoinGroup response: GenerationId (-?\d+), Protocol (\S*), LeaderId (\S*).*"
                        r"my MemberId ([^,\s]+)")

    def __init__(self, member: Member):
        super().__init__(logging.DEBUG)
        self.member = member

    def emit(self, record):
        m = self.JOINED.search(record.getMessage())
        if m and int(m.group(1)) >= 0:
            self.member.emit("join", gen=int(m.group(1)), protocol=m.group(2).rstrip(","),
                             leader=m.group(3).rstrip(","), member=m.group(4))

class CkMember(Member):
    """confluent-kafka (librdkafka) Consumer; the wrapper applies each (incremental) assignment itself
    when the callback does not. Under cooperative rebalancing librdkafka also calls on_assign with
    an empty list (nothing added) and keeps committing (with the generation it knows) while it
    rejoins; debug=cgrp feeds JoinLog."""

    def __init__(self, broker, name: str, topic: str, group: str, strategy: str, **kw):
        super().__init__(name, topic, group, **kw)
        logger = logging.getLogger(f"rdkafka.{name}.{id(self)}")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(JoinLog(self))
        self.conf = {"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4",
                     "group.id": group, "client.id": name, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "partition.assignment.strategy": strategy,
                     "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": HEARTBEAT_MS,
                     "max.poll.interval.ms": REBALANCE_MS, "fetch.wait.max.ms": 100,
                     "debug": "cgrp", "logger": logger}

    def joins(self) -> list[dict]:
        return self.of("join")

    def work(self):
        c = Consumer(self.conf)

        def commit(parts=None, where="batch"):
            todo = self.pending(parts)
            if not todo:
                return
            try:
                result = c.commit(offsets=[CkTopicPartition(self.topic, p, o) for p, o in todo.items()],
                                  asynchronous=False)
                errors = [f"{tp.partition}: {tp.error}" for tp in result or [] if tp.error]
                if errors:
                    raise KafkaException("; ".join(errors))
            except Exception as exc:  # noqa: BLE001 - judged by the test
                self.commit_done(todo, where, exc)
                return
            self.commit_done(todo, where)

        def on_assign(consumer, partitions):
            self.emit("assigned", partitions=sorted(tp.partition for tp in partitions))

        def on_revoke(consumer, partitions):
            parts = {tp.partition for tp in partitions}
            commit(parts, where="revoke")
            self.released(parts)

        def on_lost(consumer, partitions):
            self.released({tp.partition for tp in partitions}, ev="lost")

        try:
            c.subscribe([self.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
            while not self.halt.is_set():
                recs = []
                for m in c.consume(num_messages=self.max_records, timeout=0.2):
                    if m.error():
                        self.emit("error", error=str(m.error()))
                        continue
                    recs.append((m.partition(), m.offset()))
                self.got_records(recs)
                commit()
        finally:
            c.close()

class KpMember(Member):
    """kafka-python KafkaConsumer. Its rebalance listeners run on kafka-python's IO loop, where the
    blocking commit() is refused; the async listener awaits the coordinator's synchronous-commit
    coroutine instead (as group_member.py does).

    kafka-python 3.0.12 runs JoinGroup + SyncGroup as a task on its IO loop and awaits it only
    inside poll(); when that task completes between two poll() calls, the next poll() finds it done
    and starts a fresh JoinGroup instead of taking its result (join_group_async: "if self._join_task
    is None or self._join_task.is_done"). The assignment is dropped and the group rebalances once
    more, which is why the tests wait for a Stable group instead of looking once."""

    def __init__(self, broker, name: str, topic: str, group: str, assignor, **kw):
        super().__init__(name, topic, group, **kw)
        self.conf = dict(bootstrap_servers=broker.bootstrap, group_id=group, client_id=name,
                         enable_auto_commit=False, auto_offset_reset="earliest",
                         session_timeout_ms=SESSION_MS, heartbeat_interval_ms=HEARTBEAT_MS,
                         max_poll_interval_ms=REBALANCE_MS, request_timeout_ms=20000,
                         partition_assignment_strategy=[assignor], fetch_max_wait_ms=100,
                         max_poll_records=self.max_records)

    def work(self):
        consumer = KafkaConsumer(**self.conf)
        member = self

        def offsets_of(todo):
            return {KpTopicPartition(member.topic, p): OffsetAndMetadata(o, "", -1) for p, o in todo.items()}

        class Listener(AsyncConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):
                parts = {tp.partition for tp in revoked}
                todo = member.pending(parts)
                if todo:
                    try:
                        await consumer._coordinator._commit_offsets_sync_async(offsets_of(todo))  # noqa: SLF001
                    except Exception as exc:  # noqa: BLE001 - judged by the test
                        member.commit_done(todo, "revoke", exc)
                    else:
                        member.commit_done(todo, "revoke")
                member.released(parts)

            async def on_partitions_assigned(self, assigned):
                member.emit("assigned", partitions=sorted(tp.partition for tp in assigned))

            async def on_partitions_lost(self, lost):
                member.released({tp.partition for tp in lost}, ev="lost")

        try:
            consumer.subscribe([self.topic], listener=Listener())
            while not self.halt.is_set():
                batch = consumer.poll(timeout_ms=200)
                self.got_records([(m.partition, m.offset) for msgs in batch.values() for m in msgs])
                todo = self.pending()
                if todo:
                    try:
                        consumer.commit(offsets_of(todo))
                    except Exception as exc:  # noqa: BLE001 - judged by the test
                        self.commit_done(todo, "batch", exc)
                    else:
                        self.commit_done(todo, "batch")
        finally:
            consumer.close()

class AioMember(Member):
    """aiokafka AIOKafkaConsumer on its own event loop in the thread."""

    def __init__(self, broker, name: str, topic: str, group: str, **kw):
        super().__init__(name, topic, group, **kw)
        self.bootstrap = broker.bootstrap
        self.committed_at_start: dict[int, int | None] = {}

    def work(self):
        asyncio.run(self._main())

    async def _main(self):
        from aiokafka import AIOKafkaConsumer, TopicPartition as AioTopicPartition
        from aiokafka.abc import ConsumerRebalanceListener
        from aiokafka.coordinator.assignors.range import RangePartitionAssignor

        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, client_id=self.member_name,
            enable_auto_commit=False, auto_offset_reset="earliest",
            partition_assignment_strategy=(RangePartitionAssignor,),
            session_timeout_ms=SESSION_MS, heartbeat_interval_ms=HEARTBEAT_MS,
            max_poll_interval_ms=REBALANCE_MS, rebalance_timeout_ms=REBALANCE_MS,
            fetch_max_wait_ms=100, request_timeout_ms=20000)
        member = self

        def offsets_of(todo):
            return {AioTopicPartition(member.topic, p): o for p, o in todo.items()}

        class Listener(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):
                parts = {tp.partition for tp in revoked}
                todo = member.pending(parts)
                if todo:
                    try:
                        await consumer.commit(offsets_of(todo))
                    except Exception as exc:  # noqa: BLE001 - judged by the test
                        member.commit_done(todo, "revoke", exc)
                    else:
                        member.commit_done(todo, "revoke")
                member.released(parts)

            async def on_partitions_assigned(self, assigned):
                for tp in assigned:
                    member.committed_at_start.setdefault(tp.partition, await consumer.committed(tp))
                member.emit("assigned", partitions=sorted(tp.partition for tp in assigned))

        await consumer.start()
        try:
            consumer.subscribe([self.topic], listener=Listener())
            while not self.halt.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=self.max_records)
                self.got_records([(m.partition, m.offset) for msgs in batch.values() for m in msgs])
                todo = self.pending()
                if todo:
                    try:
                        await consumer.commit(offsets_of(todo))
                    except Exception as exc:  # noqa: BLE001 - judged by the test
                        self.commit_done(todo, "batch", exc)
                    else:
                        self.commit_done(todo, "batch")
        finally:
            await consumer.stop()

# ---------------------------------------------------------------------------------------------
# Group-wide checks
# ---------------------------------------------------------------------------------------------

def owners(members) -> dict[str, list[int]]:
    return {m.member_name: sorted(m.owned()) for m in members}

def wait_settled(members, partitions: int, sizes: dict[str, int] | None = None, timeout: float = T,
                 what: str = "assignment") -> dict[str, list[int]]:
    """Waits until the members' current partitions are disjoint and cover every partition (with the
    given per-member counts), and stay so for half a second; returns them."""
    def check():
        for m in members:
            if m.failure is not None:
                raise AssertionError(f"{m.member_name} crashed: {m.failure!r}")
        now = owners(members)
        flat = [p for parts in now.values() for p in parts]
        if sorted(flat) != list(range(partitions)):
            return None
        if sizes is not None and any(len(now[n]) != k for n, k in sizes.items()):
            return None
        return now

    deadline = time.monotonic() + timeout
    while True:
        first = check()
        if first is not None:
            time.sleep(0.5)
            if check() == first:
                return first
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; partitions now: "
                                 f"{owners(members)}")
        time.sleep(0.1)

def intervals(member: Member) -> list[tuple[int, float, float]]:
    """(partition, from, to) for every ownership span of the member (open spans end at +inf)."""
    out, open_ = [], {}
    for e in member.events():
        if e["ev"] == "assigned":
            for p in e["partitions"]:
                open_[p] = e["t"]
        elif e["ev"] in ("revoked", "lost"):
            for p in e["partitions"]:
                if p in open_:
                    out.append((p, open_.pop(p), e["t"]))
        elif e["ev"] == "closed":
            out.extend((p, t, e["t"]) for p, t in open_.items())
            open_.clear()
    out.extend((p, t, float("inf")) for p, t in open_.items())
    return out

def assert_never_owned_twice(members):
    spans = [(m.member_name, p, a, b) for m in members for p, a, b in intervals(m)]
    for i, (n1, p1, a1, b1) in enumerate(spans):
        for n2, p2, a2, b2 in spans[i + 1:]:
            if n1 != n2 and p1 == p2 and a1 < b2 and a2 < b1:
                raise AssertionError(f"partition {p1} owned by {n1} ({a1:.3f}..{b1:.3f}) and "
                                     f"{n2} ({a2:.3f}..{b2:.3f}) at once")

def wait_consumed(members, expected: set[tuple[int, int]], timeout: float = T):
    def done():
        got = set()
        for m in members:
            got.update(m.records())
        return expected <= got
    try:
        wait_until(done, timeout=timeout, message="every produced record to be consumed")
    except AssertionError:
        got = set()
        for m in members:
            got.update(m.records())
        missing = sorted(expected - got)
        raise AssertionError(f"{len(missing)} of {len(expected)} records never consumed, first "
                             f"{missing[:10]}; partitions now {owners(members)}") from None

def wait_committed(broker, group: str, topic: str, expected: dict[int, int], timeout: float = T):
    try:
        wait_until(lambda: committed_offsets(broker, group, topic) == expected, timeout=timeout,
                   message="committed offsets")
    except AssertionError:
        raise AssertionError(f"committed offsets {committed_offsets(broker, group, topic)} != "
                             f"{expected}") from None

def stop_all(*things):
    """Teardown for a failed test: stops whatever still runs (their failures are already reported)."""
    for t in things:
        if t is None:
            continue
        try:
            if isinstance(t, Member):
                t.halt.set()
                t.join(T)
            elif isinstance(t, ContinuousProducer) and t.producer is not None:
                t.halt.set()
                t.join(10)
                t.producer.flush(5)
                t.producer = None
        except Exception:  # noqa: BLE001 - best effort
            pass

# ---------------------------------------------------------------------------------------------
# 1. roundrobin: kafka-python + confluent-kafka
# ---------------------------------------------------------------------------------------------

RR_PARTS = 6

def handed_over(first: Member, second: Member) -> list[int]:
    """Partitions the first member consumed from and the second went on consuming after it."""
    out = []
    for p in {p for p, _ in second.records()} & {p for p, _ in first.records()}:
        if min(o for q, o in second.records() if q == p) > max(o for q, o in first.records() if q == p):
            out.append(p)
    return sorted(out)

def test_roundrobin_kafka_python_and_confluent(broker):
    """kafka-python alone consumes every partition while records keep coming; confluent-kafka joins
    (an eager rebalance: kafka-python revokes everything, committing in its revoke callback) and
    both settle on the roundrobin layout; every record is consumed exactly once."""
    topic, group = unique_topic("asg-rr"), unique_topic("g-rr")
    create_topic(broker, topic, RR_PARTS)
    produced = produce(broker, topic, {p: 20 for p in range(RR_PARTS)}, tag="early")

    kp = KpMember(broker, "a-kp-rr", topic, group, RoundRobinPartitionAssignor, max_records=5)
    ck = CkMember(broker, "b-ck-rr", topic, group, "roundrobin", max_records=5)
    prod = ContinuousProducer(broker, topic, RR_PARTS)
    try:
        kp.start()
        wait_settled([kp], RR_PARTS, what="kafka-python to own every partition")
        prod.start()
        wait_until(lambda: len({p for p, _ in kp.records()}) == RR_PARTS, timeout=T,
                   message="kafka-python to consume from every partition")
        joined = time.monotonic()
        ck.start()
        wait_settled([kp, ck], RR_PARTS, sizes={"a-kp-rr": 3, "b-ck-rr": 3}, what="a 3 + 3 roundrobin assignment")
        described = wait_stable(broker, group, "roundrobin", [kp, ck])
        now = owners([kp, ck])
        assert sorted(c for c, _ in described.values()) == ["a-kp-rr", "b-ck-rr"], described
        # RoundRobin lays the partitions out over the members sorted by member id, in turn.
        ids = sorted(described)
        assert described[ids[0]][1] == [0, 2, 4] and described[ids[1]][1] == [1, 3, 5], (
            f"not a roundrobin layout: {described}")
        # Eager protocol: kafka-python gave every partition up before rejoining.
        assert any(e["partitions"] == list(range(RR_PARTS)) for e in kp.of("revoked", after=joined)), (
            kp.of("revoked", after=joined))

        acked = prod.stop()
        produced |= acked
        wait_consumed([kp, ck], produced)
        ends = end_offsets(broker, topic, RR_PARTS)
        wait_committed(broker, group, topic, ends)
        assert owners([kp, ck]) == now, "the assignment changed while consuming"
        moved = handed_over(kp, ck)
        assert moved == now["b-ck-rr"], (
            f"kafka-python consumed {sorted({p for p, _ in kp.records()})} before the join, confluent went on "
            f"with {moved}: expected a hand-over of every partition confluent owns ({now['b-ck-rr']})")
    finally:
        stop_all(prod, kp, ck)
    ck.finish()
    kp.finish()

    for m in (kp, ck):
        m.check_consistency()
    assert_never_owned_twice([kp, ck])
    counts = Counter(kp.records() + ck.records())
    dups = sorted(r for r, n in counts.items() if n > 1)
    assert not dups, (f"{len(dups)} records consumed more than once (the commit in the revoke callback "
                      f"must hand over exactly): {dups[:10]}")
    assert set(counts) == produced
    assert committed_offsets(broker, group, topic) == end_offsets(broker, topic, RR_PARTS)

# ---------------------------------------------------------------------------------------------
# 2. cooperative-sticky (KIP-429)
# ---------------------------------------------------------------------------------------------

COOP_PARTS = 6

def run_cooperative(broker, first: Member, second: Member, topic: str, group: str, prod: ContinuousProducer,
                    exact_rounds: bool = False):
    """first alone, second joins (incremental hand-over of half the partitions), second leaves."""
    a, b = first, second
    a.start()
    wait_settled([a], COOP_PARTS, what=f"{a.member_name} to own every partition")
    assert [e["partitions"] for e in a.of("assigned") if e["partitions"]] == [list(range(COOP_PARTS))], (
        a.of("assigned"))
    wait_until(lambda: len(a.records()) > 0, timeout=T, message=f"{a.member_name} to consume")

    # -- b joins: a keeps 3, gives up 3, in two rounds ----------------------------------------
    joined = time.monotonic()
    b.start()
    split = wait_settled([a, b], COOP_PARTS, sizes={a.member_name: 3, b.member_name: 3},
                         what="the cooperative 3 + 3 split")
    described = wait_stable(broker, group, "cooperative-sticky", [a, b])
    rebalances = [(joined, time.monotonic() + 0.5)]
    split = owners([a, b])
    assert sorted(map(len, split.values())) == [3, 3], split
    id_of = {c: mid for mid, (c, _) in described.items()}
    # The first member leads throughout (Kafka keeps a leader that rejoins), so its assignor computes
    # both rounds; b's JoinGroup responses (librdkafka logs them) show the rounds of KIP-429: b gets
    # nothing in the first (its partitions are still a's), and its partitions in a later one.
    for m in (a, b):
        if isinstance(m, CkMember):
            joins = m.joins()
            assert joins and all(j["leader"] == id_of[a.member_name] and j["protocol"] == "cooperative-sticky"
                                 for j in joins), joins
    if isinstance(b, CkMember):
        gen_of_first_parts, gen = None, None
        for e in b.events():
            if e["ev"] == "join":
                gen = e["gen"]
            elif e["ev"] == "assigned" and e["partitions"] and gen_of_first_parts is None:
                gen_of_first_parts = gen
        gens = [j["gen"] for j in b.joins()]
        assert gen_of_first_parts is not None and gen_of_first_parts > gens[0], (
            f"{b.member_name} got partitions in generation {gen_of_first_parts}, its first was {gens}: "
            f"not an incremental (two-round) hand-over")
        if exact_rounds:
            assert gens == [gens[0], gens[0] + 1], (
                f"{b.member_name} joined generations {gens}: the hand-over takes exactly two rebalances")

    revokes = a.of("revoked", "lost", after=joined)
    assert revokes, f"{a.member_name} never revoked anything: {a.events()[-10:]}"
    assert all(e["ev"] == "revoked" for e in revokes), f"partitions lost instead of revoked: {revokes}"
    owned_before = set(range(COOP_PARTS))
    for e in revokes:
        assert set(e["partitions"]) < owned_before, (
            f"{a.member_name} revoked {e['partitions']} while owning {sorted(owned_before)}: an eager "
            f"(revoke everything) rebalance, not an incremental one")
        owned_before -= set(e["partitions"])
    moved = sorted(p for e in revokes for p in e["partitions"])
    assert sorted(owned_before) == split[a.member_name], (moved, split)
    assert moved == split[b.member_name], f"{a.member_name} revoked {moved}, {b.member_name} got {split}"
    new_for_a = [e for e in a.of("assigned", after=joined) if e["partitions"]]
    assert not new_for_a, f"{a.member_name} was given partitions while only giving some up: {new_for_a}"
    # b gets each moved partition only after a let it go (the second round of KIP-429).
    b_assigned = [e for e in b.of("assigned") if e["partitions"]]
    assert sorted(p for e in b_assigned for p in e["partitions"]) == moved, b_assigned
    released_at = {p: e["t"] for e in revokes for p in e["partitions"]}
    for e in b_assigned:
        for p in e["partitions"]:
            assert e["t"] >= released_at[p], f"{b.member_name} got partition {p} before {a.member_name} revoked it"
    wait_until(lambda: {p for p, _ in b.records()} == set(moved), timeout=T,
               message=f"{b.member_name} to consume from each of its partitions")

    # -- b leaves: a gets everything back without giving anything up ---------------------------
    left = time.monotonic()
    b.finish()
    wait_settled([a], COOP_PARTS, what=f"{a.member_name} to get every partition back")
    described = wait_stable(broker, group, "cooperative-sticky", [a])
    rebalances.append((left, time.monotonic() + 0.5))
    assert not a.of("revoked", "lost", after=left), (
        f"{a.member_name} gave partitions up when {b.member_name} left: {a.of('revoked', 'lost', after=left)}")
    regained = sorted(p for e in a.of("assigned", after=left) for p in e["partitions"])
    assert regained == moved, f"{a.member_name} got {regained} back, {b.member_name} had {moved}"
    assert [c for c, _ in described.values()] == [a.member_name], described

    acked = prod.stop()
    wait_consumed([a, b], acked)
    ends = end_offsets(broker, topic, COOP_PARTS)
    wait_committed(broker, group, topic, ends)
    a.finish()

    for m in (a, b):
        m.check_consistency(rebalances)
    assert_never_owned_twice([a, b])
    counts = Counter(a.records() + b.records())
    assert set(counts) == acked, "consumed records that were never acknowledged"
    dups = sorted(r for r, n in counts.items() if n > 1)
    # At least once is what the test requires; with a synchronous commit in every revoke callback
    # the hand-overs are exact, so re-delivery is reported too.
    assert not dups, f"{len(dups)} records consumed twice across the hand-overs: {dups[:10]}"

def test_cooperative_sticky_confluent(broker):
    topic, group = unique_topic("asg-coop"), unique_topic("g-coop")
    create_topic(broker, topic, COOP_PARTS)
    prod = ContinuousProducer(broker, topic, COOP_PARTS)
    a = CkMember(broker, "a-ck-coop", topic, group, "cooperative-sticky")
    b = CkMember(broker, "b-ck-coop", topic, group, "cooperative-sticky")
    prod.start()
    try:
        run_cooperative(broker, a, b, topic, group, prod, exact_rounds=True)
    finally:
        stop_all(prod, a, b)

def test_cooperative_sticky_kafka_python_leads_confluent(broker):
    """kafka-python 3.0.12's CooperativeStickyAssignor (same protocol name, subscription v1 with
    owned partitions) first, so it leads and computes both rounds; librdkafka joins and leaves."""
    topic, group = unique_topic("asg-coopmix"), unique_topic("g-coopmix")
    create_topic(broker, topic, COOP_PARTS)
    prod = ContinuousProducer(broker, topic, COOP_PARTS)
    a = KpMember(broker, "a-kp-coop", topic, group, CooperativeStickyAssignor)
    b = CkMember(broker, "b-ck-coop", topic, group, "cooperative-sticky")
    prod.start()
    try:
        run_cooperative(broker, a, b, topic, group, prod)
    finally:
        stop_all(prod, a, b)

def test_cooperative_sticky_confluent_leads_kafka_python(broker):
    """The other way round: librdkafka leads, kafka-python joins, takes half, and leaves."""
    topic, group = unique_topic("asg-coopmix2"), unique_topic("g-coopmix2")
    create_topic(broker, topic, COOP_PARTS)
    prod = ContinuousProducer(broker, topic, COOP_PARTS)
    a = CkMember(broker, "a-ck-coop", topic, group, "cooperative-sticky")
    b = KpMember(broker, "b-kp-coop", topic, group, CooperativeStickyAssignor)
    prod.start()
    try:
        run_cooperative(broker, a, b, topic, group, prod)
    finally:
        stop_all(prod, a, b)

# ---------------------------------------------------------------------------------------------
# 3. aiokafka
# ---------------------------------------------------------------------------------------------

AIO_PARTS = 4

def test_aiokafka_and_confluent_range_group(broker):
    """aiokafka alone consumes every partition while records keep coming; confluent-kafka joins
    (eager "range" rebalance, commits in both revoke callbacks): exactly once, no overlap, commits at
    the end offsets. aiokafka stops, confluent takes over; a restarted aiokafka member gets its
    partitions back and resumes exactly at the committed offsets."""
    topic, group = unique_topic("asg-aio"), unique_topic("g-aio")
    create_topic(broker, topic, AIO_PARTS)
    produced = produce(broker, topic, {p: 20 for p in range(AIO_PARTS)}, tag="early")

    aio = AioMember(broker, "a-aio", topic, group, max_records=5)
    ck = CkMember(broker, "b-ck-range", topic, group, "range", max_records=5)
    prod = ContinuousProducer(broker, topic, AIO_PARTS)
    aio2 = None
    try:
        aio.start()
        wait_settled([aio], AIO_PARTS, what="aiokafka to own every partition")
        prod.start()
        wait_until(lambda: len({p for p, _ in aio.records()}) == AIO_PARTS, timeout=T,
                   message="aiokafka to consume from every partition")
        ck.start()
        now = wait_settled([aio, ck], AIO_PARTS, sizes={"a-aio": 2, "b-ck-range": 2}, what="a 2 + 2 range assignment")
        described = wait_stable(broker, group, "range", [aio, ck])
        now = owners([aio, ck])
        ids = sorted(described)
        assert described[ids[0]][1] == [0, 1] and described[ids[1]][1] == [2, 3], f"not a range layout: {described}"

        produced |= prod.stop()
        wait_consumed([aio, ck], produced)
        ends = end_offsets(broker, topic, AIO_PARTS)
        wait_committed(broker, group, topic, ends)
        first_counts = Counter(aio.records() + ck.records())
        dups = sorted(r for r, n in first_counts.items() if n > 1)
        assert not dups, f"{len(dups)} records consumed twice: {dups[:10]}"
        assert set(first_counts) == produced
        assert handed_over(aio, ck) == now["b-ck-range"], (handed_over(aio, ck), now)
        aio_parts = now["a-aio"]

        # -- the aiokafka member stops (its commits are in), confluent takes its partitions over --
        aio.finish()
        aio.check_consistency()
        wait_settled([ck], AIO_PARTS, what="the confluent member to take every partition")
        assert committed_offsets(broker, group, topic) == ends

        # -- a restarted aiokafka member gets its partitions back and resumes at the commits ------
        rejoined = time.monotonic()
        aio2 = AioMember(broker, "a-aio", topic, group)
        aio2.start()
        again = wait_settled([aio2, ck], AIO_PARTS, sizes={"a-aio": 2, "b-ck-range": 2},
                             what="the restarted aiokafka member back in a 2 + 2 assignment")
        wait_stable(broker, group, "range", [aio2, ck])
        assert aio2.committed_at_start == {p: ends[p] for p in again["a-aio"]}, (aio2.committed_at_start, ends)
        more = produce(broker, topic, {p: 5 for p in range(AIO_PARTS)}, tag="after-restart")
        wait_consumed([aio2, ck], more)
        wait_committed(broker, group, topic, {p: ends[p] + 5 for p in range(AIO_PARTS)})
        assert sorted(aio2.records()) == sorted((p, o) for p in again["a-aio"] for o in range(ends[p], ends[p] + 5)), (
            "the restarted aiokafka member must resume exactly at the committed offsets")
        ck_after = [tuple(r) for e in ck.of("records", after=rejoined) for r in e["recs"]]
        assert sorted(ck_after) == sorted((p, o) for p in again["b-ck-range"] for o in range(ends[p], ends[p] + 5)), ck_after
        assert aio_parts == again["a-aio"], (aio_parts, again)
    finally:
        stop_all(prod, aio, ck, aio2)
    aio2.finish()
    ck.finish()

    for m in (aio, aio2, ck):
        m.check_consistency()
    assert_never_owned_twice([aio, aio2, ck])
    counts = Counter(aio.records() + aio2.records() + ck.records())
    dups = sorted(r for r, n in counts.items() if n > 1)
    assert not dups, f"{len(dups)} records consumed twice: {dups[:10]}"
    assert set(counts) == produced | more
    assert committed_offsets(broker, group, topic) == end_offsets(broker, topic, AIO_PARTS)

def test_aiokafka_producer_acks_all_gzip(broker):
    from aiokafka import AIOKafkaProducer

    topic = unique_topic("asg-aioprod")
    parts, per_part = 3, 20
    create_topic(broker, topic, parts)
    sent = [(p, f"k-{p}-{i}".encode(), f"gzip value {p}/{i} ".encode() * 20,
             [("n", str(i).encode()), ("src", b"aiokafka")]) for p in range(parts) for i in range(per_part)]

    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, client_id="interop-aiokafka",
                                    acks="all", compression_type="gzip", linger_ms=20,
                                    request_timeout_ms=15000)
        await producer.start()
        try:
            futures = [await producer.send(topic, value=v, key=k, partition=p, headers=h) for p, k, v, h in sent]
            metas = await asyncio.wait_for(asyncio.gather(*futures), T)
            tomb = await producer.send_and_wait(topic, value=None, key=b"gone", partition=0)
        finally:
            await producer.stop()
        return metas, tomb

    metas, tomb = asyncio.run(run())
    by_part = defaultdict(list)
    for (p, _, _, _), meta in zip(sent, metas):
        assert meta.topic == topic and meta.partition == p, meta
        by_part[p].append(meta.offset)
    assert {p: offs for p, offs in by_part.items()} == {p: list(range(per_part)) for p in range(parts)}, dict(by_part)
    assert (tomb.partition, tomb.offset) == (0, per_part), tomb

    for p in range(parts):
        assert fetch_codecs(broker.bootstrap, topic, p) == {CODEC_ID["gzip"]}, (
            f"partition {p}: batches stored with codecs {fetch_codecs(broker.bootstrap, topic, p)}, not gzip")
    assert end_offsets(broker, topic, parts) == {0: per_part + 1, 1: per_part, 2: per_part}

    c = Consumer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4", "group.id": "unused",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    try:
        c.assign([CkTopicPartition(topic, p, 0) for p in range(parts)])
        got = {}
        deadline = time.monotonic() + T
        while len(got) < len(sent) + 1 and time.monotonic() < deadline:
            for m in c.consume(num_messages=100, timeout=0.2):
                if m.error():
                    raise KafkaException(m.error())
                got[(m.partition(), m.offset())] = (m.key(), m.value(), m.headers() or [])
    finally:
        c.close()
    assert len(got) == len(sent) + 1, f"read {len(got)} of {len(sent) + 1} records back"
    for (p, k, v, h), meta in zip(sent, metas):
        assert got[(p, meta.offset)] == (k, v, h), (p, meta.offset, got[(p, meta.offset)])
    assert got[(0, per_part)] == (b"gone", None, [])
