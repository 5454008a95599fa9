"""Consumer groups (the classic protocol) with real clients: kafka-python 3.0.12, confluent-kafka
(librdkafka 2.16) and kcat (librdkafka 2.0.2, ``kcat -G``), plus raw frames for the error paths.

* each client alone: subscribe, consume, commit, close; a restarted member resumes exactly after
  the committed offsets; offsets, ListGroups/DescribeGroups and DeleteGroups through the admin APIs;
* a mixed group (kafka-python + confluent-kafka + kcat, all on the "range" assignor, the one
  protocol the three offer in common) with joins, a graceful leave and a SIGKILL while records are
  produced continuously: at-least-once overall, bounded re-delivery, no partition owned twice in
  one generation, and the time a three-member rebalance takes;
* committed offsets survive a broker restart;
* static membership (KIP-345): a restarted static member takes its place back without a rebalance;
* raw JoinGroup/SyncGroup/Heartbeat/OffsetCommit error paths (KIP-394 MEMBER_ID_REQUIRED,
  ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS).

The broker runs with group.initial.rebalance.delay.ms=0 (Kafka's default of 3 s only slows the
first join down); group.min.session.timeout.ms keeps Kafka's 6000, so session timeouts are 6 s and
heartbeats 0.5 s.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from confluent_kafka import (ConsumerGroupState, ConsumerGroupTopicPartitions, Consumer, KafkaError,
                             KafkaException, Producer, TopicPartition as CkTopicPartition)
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.protocol.admin.groups import DescribeGroupsRequest, DescribeGroupsResponse
from kafka.protocol.consumer.group import (HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse,
                                           LeaveGroupRequest, LeaveGroupResponse, OffsetCommitRequest,
                                           OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse,
                                           SyncGroupRequest, SyncGroupResponse)
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment, ConsumerProtocolSubscription

from interop import ContinuousProducer, create_topic, Wire, api_versions, kcat_binary, pick_version, unique_topic, wait_until

pytestmark = pytest.mark.broker_settings(**{"group.initial.rebalance.delay.ms": 0})

# Where Tansu 0.6 differs from Kafka (these marks apply only with INTEROP_BROKER=tansu).
TANSU_KCAT = ("kcat (librdkafka 2.0.2) cannot parse Tansu's ApiVersions v3 answer ('Read underflow'), "
              "see test_kcat.py")
TANSU_LIST_STATE = "ListGroups answers every group's state as 'Unknown' (Kafka: Stable, Empty, ...)"
TANSU_INSTANCE_ID = "DescribeGroups leaves members' group_instance_id null for a static member"
TANSU_GENERATIONS = ("the first generation is 0 (Kafka: 1) and a heartbeat of an older generation "
                     "answers REBALANCE_IN_PROGRESS instead of ILLEGAL_GENERATION")
TANSU_COMMIT_COMPLETING = "OffsetCommit during CompletingRebalance is accepted (Kafka: REBALANCE_IN_PROGRESS)"

HERE = Path(__file__).resolve().parent
MEMBER_SCRIPT = HERE / "group_member.py"

SESSION_MS = 6000        # the broker's group.min.session.timeout.ms (Kafka's default)
HEARTBEAT_MS = 500
REBALANCE_MS = 10000     # max.poll.interval.ms: the JoinGroup rebalance timeout of every client here
T = 20.0                 # bound for one wait

# Kafka error codes (the protocol guide's table).
ILLEGAL_GENERATION = 22
UNKNOWN_MEMBER_ID = 25
REBALANCE_IN_PROGRESS = 27
NON_EMPTY_GROUP = 68
MEMBER_ID_REQUIRED = 79

# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------

def kp_admin(broker) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)

def ck_admin(broker) -> AdminClient:
    return AdminClient({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4",
                        "socket.timeout.ms": 10000})

def produce(broker, topic: str, per_partition: dict[int, int], tag: str = "r") -> dict[int, list[int]]:
    """Produces per_partition[p] records to each partition p; returns the acknowledged offsets."""
    p = Producer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4", "linger.ms": 5,
                  "acks": "all", "message.timeout.ms": 15000})
    acked: dict[int, list[int]] = defaultdict(list)
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            acked[msg.partition()].append(msg.offset())

    for part, n in per_partition.items():
        for i in range(n):
            p.produce(topic, value=f"{tag}-{part}-{i}".encode(), partition=part, on_delivery=on_delivery)
        p.poll(0)
    assert p.flush(T) == 0 and not errors, f"produce failed: {errors[:5]}"
    return {k: sorted(v) for k, v in acked.items()}

def kp_consumer(broker, group: str, client_id: str, **extra) -> KafkaConsumer:
    return KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group, client_id=client_id,
                         enable_auto_commit=False, auto_offset_reset="earliest",
                         session_timeout_ms=SESSION_MS, heartbeat_interval_ms=HEARTBEAT_MS,
                         max_poll_interval_ms=REBALANCE_MS, request_timeout_ms=20000,
                         partition_assignment_strategy=[RangePartitionAssignor], fetch_max_wait_ms=100,
                         **extra)

def ck_consumer(broker, group: str, client_id: str, **extra) -> Consumer:
    return Consumer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4",
                     "group.id": group, "client.id": client_id, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "partition.assignment.strategy": "range",
                     "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": HEARTBEAT_MS,
                     "max.poll.interval.ms": REBALANCE_MS, "fetch.wait.max.ms": 100, **extra})

def kp_poll(c: KafkaConsumer, count: int, timeout: float = T) -> dict[int, list[int]]:
    """Polls until count records arrived (bounded); then a short poll must bring nothing more."""
    got: dict[int, list[int]] = defaultdict(list)
    n = 0
    deadline = time.monotonic() + timeout
    while n < count and time.monotonic() < deadline:
        for tp, msgs in c.poll(timeout_ms=200).items():
            for m in msgs:
                got[m.partition].append(m.offset)
                n += 1
    assert n == count, f"expected {count} records, got {n} within {timeout}s: {dict(got)}"
    extra = sum(len(v) for v in c.poll(timeout_ms=500).values())
    assert extra == 0, f"{extra} records beyond the expected {count}"
    return dict(got)

def ck_poll(c: Consumer, count: int, timeout: float = T) -> dict[int, list[int]]:
    got: dict[int, list[int]] = defaultdict(list)
    n = 0
    deadline = time.monotonic() + timeout
    while n < count and time.monotonic() < deadline:
        for m in c.consume(num_messages=500, timeout=0.2):
            if m.error():
                raise KafkaException(m.error())
            got[m.partition()].append(m.offset())
            n += 1
    assert n == count, f"expected {count} records, got {n} within {timeout}s: {dict(got)}"
    extra = [m for m in c.consume(num_messages=10, timeout=0.5) if not m.error()]
    assert not extra, f"{len(extra)} records beyond the expected {count}"
    return dict(got)

def kp_offsets(broker, group: str, topic: str) -> dict[int, int]:
    admin = kp_admin(broker)
    try:
        offsets = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    return {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == topic}

def ck_offsets(broker, group: str, topic: str) -> dict[int, int]:
    admin = ck_admin(broker)
    futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=10)
    result = futures[group].result(timeout=T)
    out = {}
    for tp in result.topic_partitions or []:
        assert tp.error is None, f"{tp}: {tp.error}"
        if tp.topic == topic and tp.offset >= 0:
            out[tp.partition] = tp.offset
    return out

def kp_describe(broker, group: str) -> dict:
    admin = kp_admin(broker)
    try:
        return admin.describe_groups([group])[group]
    finally:
        admin.close()

def kp_list_groups(broker) -> dict[str, dict]:
    admin = kp_admin(broker)
    try:
        return {g["group_id"]: g for g in admin.list_groups()}
    finally:
        admin.close()

def member_partitions(member: dict, topic: str) -> list[int]:
    """The partitions of topic in a kafka-python DescribeGroups member (assignment decoded or raw)."""
    a = member["member_assignment"]
    if isinstance(a, (bytes, bytearray)):
        a = ConsumerProtocolAssignment.decode(bytes(a)) if a else None
    if a is None:
        return []
    if isinstance(a, dict):
        parts = []
        for t in a.get("assigned_partitions", []):
            if t["topic"] == topic:
                parts.extend(t["partitions"])
        return sorted(parts)
    return sorted(tp.partition for tp in a.partitions() if tp.topic == topic)

def group_state_raw(bootstrap: str, group: str):
    """DescribeGroups over raw TCP: (state, protocol, [(member_id, instance_id, client_id, partitions)])."""
    v = pick_version(api_versions(bootstrap), DescribeGroupsRequest, 0, 5)
    with Wire(bootstrap) as w:
        resp = w.request(DescribeGroupsRequest(groups=[group], include_authorized_operations=False), v,
                         DescribeGroupsResponse)
    (g,) = resp.groups
    assert g.error_code == 0, f"DescribeGroups {group}: error {g.error_code}"
    members = []
    for m in g.members:
        parts = []
        if m.member_assignment:
            a = ConsumerProtocolAssignment.decode(bytes(m.member_assignment))
            parts = sorted(tp.partition for tp in a.partitions())
        members.append((m.member_id, getattr(m, "group_instance_id", None), m.client_id, parts))
    return g.group_state, g.protocol_data, members

# ---------------------------------------------------------------------------------------------
# kcat
# ---------------------------------------------------------------------------------------------

def kcat_group_cmd(broker, group: str, topic: str, client_id: str, *extra: str) -> list[str]:
    return [kcat_binary(), "-b", broker.bootstrap, "-X", "broker.address.family=v4",
            "-X", f"client.id={client_id}", "-X", "partition.assignment.strategy=range",
            "-X", "auto.offset.reset=earliest", "-X", f"session.timeout.ms={SESSION_MS}",
            "-X", f"heartbeat.interval.ms={HEARTBEAT_MS}", "-X", f"max.poll.interval.ms={REBALANCE_MS}",
            "-X", "fetch.wait.max.ms=100", "-X", "auto.commit.interval.ms=200",
            "-u", "-J", *extra, "-G", group, topic]

def kcat_records(stdout: str) -> list[tuple[int, int]]:
    return [(r["partition"], r["offset"]) for r in (json.loads(l) for l in stdout.splitlines() if l.startswith("{"))]

KCAT_JOINED = re.compile(r"^%7\|(\d+\.\d+)\|JOINGROUP\|.*JoinGroup response: GenerationId (-?\d+), "
                         r"Protocol (\S*), LeaderId .*my MemberId ([^,\s]+)")
KCAT_JOINING = re.compile(r"^%7\|(\d+\.\d+)\|JOIN\|.*Joining group")
KCAT_REBALANCED = re.compile(r"^% Group \S+ rebalanced \(memberid (\S+)\): (assigned|revoked): (.*)$")

def kcat_events(stderr: str) -> list[dict]:
    """Group events from kcat's stderr (-d cgrp): joins with their generation, assignments."""
    events = []
    gen, member, last_t = -1, "", 0.0
    for line in stderr.splitlines():
        m = KCAT_JOINING.match(line)
        if m:
            events.append({"ev": "joining", "t": float(m.group(1))})
            continue
        m = KCAT_JOINED.match(line)
        if m:
            last_t = float(m.group(1))
            if int(m.group(2)) >= 0:
                gen, member = int(m.group(2)), m.group(4)
                events.append({"ev": "join", "t": last_t, "gen": gen, "member": member,
                               "protocol": m.group(3).rstrip(",")})
            continue
        m = KCAT_REBALANCED.search(line)
        if m:
            parts = sorted(int(x) for x in re.findall(r"\[(\d+)\]", m.group(3)))
            events.append({"ev": m.group(2), "t": last_t, "gen": gen, "member": m.group(1), "partitions": parts})
    return events

# ---------------------------------------------------------------------------------------------
# Subprocess members (group_member.py)
# ---------------------------------------------------------------------------------------------

class Member:
    """A group_member.py subprocess; its events are read back from its JSON-lines file."""

    def __init__(self, broker, tmp_path: Path, name: str, client: str, topic: str, group: str,
                 client_id: str, instance_id: str | None = None, session_ms: int = SESSION_MS):
        self.name = name
        self.out = tmp_path / f"{name}.jsonl"
        self.log = tmp_path / f"{name}.log"
        cmd = [sys.executable, str(MEMBER_SCRIPT), "--client", client, "--bootstrap", broker.bootstrap,
               "--topic", topic, "--group", group, "--out", str(self.out), "--client-id", client_id,
               "--session-timeout-ms", str(session_ms), "--heartbeat-ms", str(HEARTBEAT_MS),
               "--rebalance-timeout-ms", str(REBALANCE_MS)]
        if instance_id:
            cmd += ["--instance-id", instance_id]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def events(self) -> list[dict]:
        if not self.out.exists():
            return []
        out = []
        for line in self.out.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a line cut short by SIGKILL
        return out

    def assignments(self) -> list[dict]:
        return [e for e in self.events() if e["ev"] == "assigned"]

    def current(self) -> dict | None:
        """The latest assignment event (None before the first, or after a revoke)."""
        last = None
        for e in self.events():
            if e["ev"] == "assigned":
                last = e
            elif e["ev"] in ("revoked", "lost") and e["partitions"]:
                last = None
        return last

    def terminate(self, timeout: float = T) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not exit within {timeout}s of SIGTERM; log:\n{self.log_tail()}")

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

class KcatMember:
    """kcat -G as a group member (auto-commit every 200 ms and on revoke/close)."""

    def __init__(self, broker, tmp_path: Path, name: str, topic: str, group: str, client_id: str):
        self.name = name
        self.stdout_path = tmp_path / f"{name}.out"
        self.stderr_path = tmp_path / f"{name}.err"
        cmd = kcat_group_cmd(broker, group, topic, client_id, "-X", "debug=cgrp")
        self.started = time.time()
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)

    def records(self) -> list[tuple[int, int]]:
        return kcat_records(self.stdout_path.read_text(errors="replace"))

    def events(self) -> list[dict]:
        return kcat_events(self.stderr_path.read_text(errors="replace"))

    def assignments(self) -> list[dict]:
        return [e for e in self.events() if e["ev"] == "assigned"]

    def current(self) -> dict | None:
        last = None
        for e in self.events():
            if e["ev"] == "assigned":
                last = e
            elif e["ev"] == "revoked" and e["partitions"]:
                last = None
        return last

    def terminate(self, timeout: float = T) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not exit within {timeout}s of SIGTERM")

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log_tail(self, n: int = 30) -> str:
        lines = self.stderr_path.read_text(errors="replace").splitlines()
        return "\n".join(l for l in lines[-n:])

def settled(members, partitions: int, expect: dict | None = None) -> int | None:
    """The common generation when every member holds an assignment of one generation that together
    covers all partitions (and, given expect {member: partitions}, exactly those); else None."""
    current = {m.name: m.current() for m in members}
    if any(c is None for c in current.values()):
        return None
    gens = {c["gen"] for c in current.values()}
    if len(gens) != 1:
        return None
    owned = sorted(p for c in current.values() for p in c["partitions"])
    if owned != list(range(partitions)):
        return None
    if expect is not None and any(current[n]["partitions"] != parts for n, parts in expect.items()):
        return None
    return gens.pop()

def wait_settled(members, partitions: int, expect: dict | None = None, after: int | None = None,
                 timeout: float = T, what: str = "assignment") -> int:
    """Waits for settled() (in a generation newer than after, if given); returns the generation."""
    deadline = time.monotonic() + timeout
    while True:
        gen = settled(members, partitions, expect)
        if gen is not None and (after is None or gen > after):
            return gen
        if time.monotonic() >= deadline:
            now = {m.name: (m.current() or {}).get("partitions") for m in members}
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; assignments now: {now}")
        time.sleep(0.1)

# ---------------------------------------------------------------------------------------------
# 1. Each client alone
# ---------------------------------------------------------------------------------------------

PARTS = 4

@pytest.mark.tansu_xfail(TANSU_LIST_STATE)
def test_kafka_python_group_consume_commit_resume(broker):
    topic, group = unique_topic("grp-kp"), unique_topic("g-kp")
    create_topic(broker, topic, PARTS)
    produce(broker, topic, {p: 10 for p in range(PARTS)})

    c1 = kp_consumer(broker, group, "interop-kp-1")
    try:
        c1.subscribe([topic])
        got = kp_poll(c1, 40)
        assert {p: sorted(o) for p, o in got.items()} == {p: list(range(10)) for p in range(PARTS)}
        c1.commit()
        assert kp_offsets(broker, group, topic) == {p: 10 for p in range(PARTS)}

        listed = kp_list_groups(broker)
        assert group in listed, f"ListGroups lacks {group}: {listed}"
        assert listed[group]["protocol_type"] == "consumer"
        assert listed[group]["group_state"] == "Stable"
        desc = kp_describe(broker, group)
        assert desc["error"] is None and desc["group_state"] == "Stable", desc
        assert desc["protocol_type"] == "consumer" and desc["protocol_data"] == "range", desc
        (m,) = desc["members"]
        assert m["client_id"] == "interop-kp-1" and m["member_id"].startswith("interop-kp-1")
        assert member_partitions(m, topic) == list(range(PARTS)), m

        admin = kp_admin(broker)
        try:
            assert admin.delete_groups([group]) == {group: "NonEmptyGroupError"}
        finally:
            admin.close()

        # Consumed but never committed: these come again after a restart, nothing else does.
        produce(broker, topic, {p: 5 for p in range(PARTS)}, tag="late")
        kp_poll(c1, 20)
    finally:
        c1.close()

    desc = kp_describe(broker, group)
    assert desc["group_state"] == "Empty" and desc["members"] == [], desc
    assert kp_offsets(broker, group, topic) == {p: 10 for p in range(PARTS)}

    c2 = kp_consumer(broker, group, "interop-kp-2")
    try:
        c2.subscribe([topic])
        again = kp_poll(c2, 20)
        assert {p: sorted(o) for p, o in again.items()} == {p: list(range(10, 15)) for p in range(PARTS)}, (
            "the restarted member must resume exactly at the committed offsets")
        c2.commit()
    finally:
        c2.close()
    assert kp_offsets(broker, group, topic) == {p: 15 for p in range(PARTS)}
    assert ck_offsets(broker, group, topic) == {p: 15 for p in range(PARTS)}

    admin = kp_admin(broker)
    try:
        assert admin.delete_groups([group]) == {group: "OK"}
    finally:
        admin.close()
    assert group not in kp_list_groups(broker)
    assert kp_offsets(broker, group, topic) == {}

@pytest.mark.tansu_xfail(TANSU_LIST_STATE)
def test_confluent_group_consume_commit_resume(broker):
    topic, group = unique_topic("grp-ck"), unique_topic("g-ck")
    create_topic(broker, topic, PARTS)
    produce(broker, topic, {p: 10 for p in range(PARTS)})
    admin = ck_admin(broker)

    c1 = ck_consumer(broker, group, "interop-ck-1")
    try:
        c1.subscribe([topic])
        got = ck_poll(c1, 40)
        assert {p: sorted(o) for p, o in got.items()} == {p: list(range(10)) for p in range(PARTS)}
        committed = c1.commit(asynchronous=False)
        assert all(tp.error is None for tp in committed), committed
        assert ck_offsets(broker, group, topic) == {p: 10 for p in range(PARTS)}
        assert {tp.partition: tp.offset for tp in c1.committed(
            [CkTopicPartition(topic, p) for p in range(PARTS)], timeout=10)} == {p: 10 for p in range(PARTS)}

        listed = admin.list_consumer_groups(request_timeout=10).result(timeout=T)
        assert not listed.errors, listed.errors
        mine = [g for g in listed.valid if g.group_id == group]
        assert len(mine) == 1, [g.group_id for g in listed.valid]
        assert mine[0].state == ConsumerGroupState.STABLE and not mine[0].is_simple_consumer_group

        desc = admin.describe_consumer_groups([group], request_timeout=10)[group].result(timeout=T)
        assert desc.state == ConsumerGroupState.STABLE, desc
        assert desc.partition_assignor == "range" and not desc.is_simple_consumer_group
        (m,) = desc.members
        assert m.client_id == "interop-ck-1" and m.member_id.startswith("interop-ck-1")
        assert sorted(tp.partition for tp in m.assignment.topic_partitions if tp.topic == topic) == list(range(PARTS))

        with pytest.raises(KafkaException) as info:
            admin.delete_consumer_groups([group], request_timeout=10)[group].result(timeout=T)
        assert info.value.args[0].code() == KafkaError.NON_EMPTY_GROUP, info.value

        produce(broker, topic, {p: 5 for p in range(PARTS)}, tag="late")
        ck_poll(c1, 20)
    finally:
        c1.close()

    desc = admin.describe_consumer_groups([group], request_timeout=10)[group].result(timeout=T)
    assert desc.state == ConsumerGroupState.EMPTY and not desc.members, desc
    assert ck_offsets(broker, group, topic) == {p: 10 for p in range(PARTS)}

    c2 = ck_consumer(broker, group, "interop-ck-2")
    try:
        c2.subscribe([topic])
        again = ck_poll(c2, 20)
        assert {p: sorted(o) for p, o in again.items()} == {p: list(range(10, 15)) for p in range(PARTS)}, (
            "the restarted member must resume exactly at the committed offsets")
        c2.commit(asynchronous=False)
    finally:
        c2.close()
    assert ck_offsets(broker, group, topic) == {p: 15 for p in range(PARTS)}
    assert kp_offsets(broker, group, topic) == {p: 15 for p in range(PARTS)}

    assert admin.delete_consumer_groups([group], request_timeout=10)[group].result(timeout=T) is None
    listed = admin.list_consumer_groups(request_timeout=10).result(timeout=T)
    assert group not in [g.group_id for g in listed.valid]
    assert ck_offsets(broker, group, topic) == {}

@pytest.mark.tansu_xfail(TANSU_KCAT)
def test_kcat_group_consume_commit_resume(broker, tmp_path):
    topic, group = unique_topic("grp-kcat"), unique_topic("g-kcat")
    create_topic(broker, topic, PARTS)
    produce(broker, topic, {p: 10 for p in range(PARTS)})

    def run_to_end() -> list[tuple[int, int]]:
        cmd = kcat_group_cmd(broker, group, topic, "interop-kcat", "-e")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, f"kcat exited {proc.returncode}: {proc.stderr[-2000:]}"
        return kcat_records(proc.stdout)

    first = run_to_end()   # -e: exits at the end of every partition; commits on close
    assert sorted(first) == [(p, o) for p in range(PARTS) for o in range(10)]
    assert kp_offsets(broker, group, topic) == {p: 10 for p in range(PARTS)}
    assert ck_offsets(broker, group, topic) == {p: 10 for p in range(PARTS)}

    produce(broker, topic, {p: 5 for p in range(PARTS)}, tag="late")
    second = run_to_end()
    assert sorted(second) == [(p, o) for p in range(PARTS) for o in range(10, 15)], (
        "a restarted kcat must resume exactly at the committed offsets")
    assert kp_offsets(broker, group, topic) == {p: 15 for p in range(PARTS)}

    # A live kcat member: listed, described, not deletable.
    live = KcatMember(broker, tmp_path, "kcat-live", topic, group, "interop-kcat-live")
    try:
        wait_settled([live], PARTS, what="kcat's assignment")
        state, protocol, members = group_state_raw(broker.bootstrap, group)
        assert (state, protocol) == ("Stable", "range")
        ((member_id, _, client_id, parts),) = members
        assert client_id == "interop-kcat-live" and parts == list(range(PARTS))
        assert kp_list_groups(broker)[group]["protocol_type"] == "consumer"
        admin = kp_admin(broker)
        try:
            assert admin.delete_groups([group]) == {group: "NonEmptyGroupError"}
        finally:
            admin.close()
    finally:
        assert live.terminate() == 0
    assert live.records() == [], "nothing new was produced, the live member must read nothing"
    assert group_state_raw(broker.bootstrap, group)[0] == "Empty"
    admin = kp_admin(broker)
    try:
        assert admin.delete_groups([group]) == {group: "OK"}
    finally:
        admin.close()
    assert kp_offsets(broker, group, topic) == {}

# ---------------------------------------------------------------------------------------------
# 2. A mixed group under load: joins, a graceful leave, a SIGKILL
# ---------------------------------------------------------------------------------------------

MIXED_PARTS = 6

class Epoch:
    """One member's ownership of one partition, from an assignment to its revocation (or the
    member's end): the offsets it consumed and the highest commit it saw confirmed."""

    def __init__(self, member: str, partition: int, gen: int, start: float):
        self.member, self.partition, self.gen, self.start = member, partition, gen, start
        self.offsets: list[int] = []
        self.committed: int | None = None   # None: unknown (kcat auto-commits silently)
        self.end: float | None = None

    def __repr__(self):
        span = f"{self.offsets[0]}..{self.offsets[-1]}" if self.offsets else "-"
        return f"<{self.member} p{self.partition} gen {self.gen} consumed {span} committed {self.committed}>"

def python_member_epochs(name: str, events: list[dict]) -> list[Epoch]:
    epochs: list[Epoch] = []
    open_: dict[int, Epoch] = {}
    for e in events:
        if e["ev"] == "assigned":
            for p in e["partitions"]:
                assert p not in open_, f"{name}: partition {p} assigned twice without a revoke: {e}"
                open_[p] = Epoch(name, p, e["gen"], e["t"])
                epochs.append(open_[p])
        elif e["ev"] in ("revoked", "lost"):
            for p in e["partitions"]:
                ep = open_.pop(p, None)
                if ep is not None:
                    ep.end = e["t"]
        elif e["ev"] == "records":
            for p, o in e["recs"]:
                assert p in open_, f"{name}: record {p}/{o} from a partition it does not own"
                open_[p].offsets.append(o)
        elif e["ev"] == "committed":
            for p, o in e["offsets"].items():
                ep = open_.get(int(p))
                assert ep is not None, f"{name}: commit for partition {p} it does not own: {e}"
                ep.committed = max(ep.committed or 0, o)
    return epochs

@pytest.mark.tansu_xfail(TANSU_KCAT)
def test_mixed_group_join_leave_kill_under_load(broker, tmp_path):
    """kafka-python, confluent-kafka and kcat in one group on the "range" assignor, while records
    are produced continuously: A (confluent) alone, B (kafka-python) joins, C (kcat) joins, B
    leaves gracefully, A is SIGKILLed, C takes everything over. Client ids order the member ids
    (a- < b- < c-) so the range assignor hands C only more partitions each time, never fewer."""
    topic, group = unique_topic("grp-mixed"), unique_topic("g-mixed")
    create_topic(broker, topic, MIXED_PARTS)
    prod = ContinuousProducer(broker, topic, MIXED_PARTS, rate=300.0)
    prod.start()
    a = Member(broker, tmp_path, "a-confluent", "confluent", topic, group, "a-ck")
    b = c = None
    members = [a]

    def consumed_in(m, gen) -> int:
        return sum(len(e["recs"]) for e in m.events() if e["ev"] == "records" and e["gen"] == gen)

    try:
        g1 = wait_settled([a], MIXED_PARTS, what="A's assignment")
        wait_until(lambda: consumed_in(a, g1) >= 100, timeout=T, message="A consuming")

        b = Member(broker, tmp_path, "b-kafka-python", "kafka-python", topic, group, "b-kp")
        members.append(b)
        g2 = wait_settled([a, b], MIXED_PARTS, {a.name: [0, 1, 2], b.name: [3, 4, 5]}, after=g1,
                          what="A+B assignment")
        wait_until(lambda: consumed_in(b, g2) >= 50, timeout=T, message="B consuming")

        c = KcatMember(broker, tmp_path, "c-kcat", topic, group, "c-kcat")
        members.append(c)
        g3 = wait_settled([a, b, c], MIXED_PARTS, {a.name: [0, 1], b.name: [2, 3], c.name: [4, 5]}, after=g2,
                          what="A+B+C assignment")
        # Three-member rebalance: from kcat's JoinGroup to the last member's assignment.
        joined_at = next(e["t"] for e in c.events() if e["ev"] == "joining")
        done_at = max(next(e["t"] for e in m.assignments() if e["gen"] == g3) for m in (a, b, c))
        rebalance_s = done_at - joined_at
        print(f"\nthree-member rebalance (generation {g3}) took {rebalance_s * 1000:.0f} ms "
              f"(bound: rebalance timeout {REBALANCE_MS} ms + heartbeat {HEARTBEAT_MS} ms)")
        assert 0 <= rebalance_s <= (REBALANCE_MS + HEARTBEAT_MS) / 1000
        wait_until(lambda: consumed_in(a, g3) >= 20 and consumed_in(b, g3) >= 20, timeout=T,
                   message="A and B consuming in the three-member generation")

        assert b.terminate() == 0, b.log_tail()
        assert b.events()[-1]["ev"] == "closed"
        g4 = wait_settled([a, c], MIXED_PARTS, {a.name: [0, 1, 2], c.name: [3, 4, 5]}, after=g3,
                          what="A+C assignment after B left")
        wait_until(lambda: consumed_in(a, g4) >= 50, timeout=T, message="A consuming after B left")

        a.kill()
        killed_at = time.time()
        g5 = wait_settled([c], MIXED_PARTS, after=g4, timeout=SESSION_MS / 1000 + T,
                          what="C alone after A was killed")
        took_over = next(e["t"] for e in c.assignments() if e["gen"] == g5) - killed_at
        print(f"after SIGKILL, C owned every partition {took_over * 1000:.0f} ms later (session timeout {SESSION_MS} ms)")
        assert took_over <= (SESSION_MS + REBALANCE_MS + HEARTBEAT_MS) / 1000 + 1
        time.sleep(1.0)
        prod.stop()
        assert not prod.errors, prod.errors[:5]

        def all_consumed():
            seen = set(map(tuple, c.records()))
            for m in (a, b):
                for e in m.events():
                    if e["ev"] == "records":
                        seen.update(map(tuple, e["recs"]))
            return prod.acked <= seen
        wait_until(all_consumed, timeout=T, message="every produced record consumed")
        time.sleep(0.5)
        assert c.terminate() == 0, c.log_tail()
    finally:
        prod.halt.set()
        for m in members:
            m.kill()
        if prod.producer is not None:
            prod.join(10)
            prod.producer.flush(5)
            prod.producer = None

    # --- analysis: every property is checked, the failures reported together --------------------
    problems: list[str] = []
    produced = prod.acked
    ends = defaultdict(int)
    for p, o in produced:
        ends[p] = max(ends[p], o + 1)
    epochs = python_member_epochs(a.name, a.events()) + python_member_epochs(b.name, b.events())

    # kcat: its assignments only grow (see the docstring), so one epoch per partition from the
    # first assignment that holds it; its records in the order it printed them.
    c_assigned = c.assignments()
    for before, after in zip(c_assigned, c_assigned[1:]):
        assert set(before["partitions"]) <= set(after["partitions"]), (
            f"kcat lost partitions {before['partitions']} -> {after['partitions']} (test premise)")
    c_epochs = {}
    for e in c_assigned:
        for p in e["partitions"]:
            if p not in c_epochs:
                c_epochs[p] = Epoch(c.name, p, e["gen"], e["t"])
    for p, o in c.records():
        assert p in c_epochs, f"kcat printed {p}/{o} before it was assigned partition {p}"
        c_epochs[p].offsets.append(o)
    epochs += list(c_epochs.values())

    # (a) no partition owned by two members in one generation
    by_gen: dict[int, dict[str, set]] = defaultdict(dict)
    for m in (a, b, c):
        for e in m.assignments():
            by_gen[e["gen"]].setdefault(m.name, set()).update(e["partitions"])
    print("assignments per generation:", {g: {n: sorted(p) for n, p in o.items()} for g, o in sorted(by_gen.items())})
    for gen, owners in sorted(by_gen.items()):
        names = sorted(owners)
        for i, x in enumerate(names):
            for y in names[i + 1:]:
                if owners[x] & owners[y]:
                    problems.append(f"generation {gen}: partitions {sorted(owners[x] & owners[y])} owned by both "
                                    f"{x} and {y}")

    # (b) at least once: every acknowledged record was consumed
    consumed = defaultdict(int)
    for ep in epochs:
        for o in ep.offsets:
            consumed[(ep.partition, o)] += 1
    missing = sorted(produced - set(consumed))
    if missing:
        problems.append(f"{len(missing)} produced records never consumed, e.g. {missing[:10]}")

    # (c) each ownership reads on contiguously, starting between the earlier owners' last confirmed
    # commit and the end of what they consumed: nothing committed comes again, nothing is skipped.
    redelivered_bound = 0
    by_partition = defaultdict(list)
    for ep in epochs:
        by_partition[ep.partition].append(ep)
    for p, eps in sorted(by_partition.items()):
        eps.sort(key=lambda ep: ep.start)
        prev_committed, prev_end = 0, 0
        for i, ep in enumerate(eps):
            if ep.offsets:
                jumps = [(x, y) for x, y in zip(ep.offsets, ep.offsets[1:]) if y != x + 1]
                if jumps:
                    problems.append(f"{ep} did not consume contiguously: offset jumps {jumps[:5]} (kcat re-read "
                                    f"records it had consumed: its commit on revoke did not take)")
                if not prev_committed <= ep.offsets[0] <= prev_end:
                    problems.append(f"{ep} started at offset {ep.offsets[0]}; earlier owners had committed "
                                    f"{prev_committed} and consumed up to {prev_end}")
                if i + 1 < len(eps):   # a later owner follows: what this one left uncommitted may come again
                    last_commit = ep.committed if ep.committed is not None else ep.offsets[0]
                    redelivered_bound += sum(1 for o in ep.offsets if o >= last_commit)
                prev_end = max(prev_end, ep.offsets[-1] + 1)
            if ep.committed is not None:
                prev_committed = max(prev_committed, ep.committed)
    redelivered = sum(n - 1 for n in consumed.values())
    readers = defaultdict(list)   # (partition, offset) -> the epochs that consumed it, in start order
    for ep in sorted(epochs, key=lambda ep: ep.start):
        for o in ep.offsets:
            readers[(ep.partition, o)].append(ep)
    read_again_after = defaultdict(int)   # member -> its records consumed again later (by anyone)
    for eps_of_record in readers.values():
        for ep in eps_of_record[:-1]:
            read_again_after[ep.member] += 1
    print(f"records produced {len(produced)}, consumptions {sum(consumed.values())}, re-delivered {redelivered} "
          f"(bound from what was uncommitted at departures and handoffs: {redelivered_bound}); "
          f"re-delivered after being consumed by: {dict(read_again_after)}")
    if redelivered > redelivered_bound:
        problems.append(f"{redelivered} re-deliveries exceed the {redelivered_bound} records left uncommitted "
                        f"at departures and handoffs")

    # (d) B left gracefully after committing everything it consumed: none of its records came again.
    if read_again_after[b.name]:
        problems.append(f"{read_again_after[b.name]} records consumed by B (which committed and left gracefully) "
                        f"were consumed again")

    # (e) every commit succeeded: Kafka accepts an OffsetCommit of the current generation while the
    # group is PreparingRebalance (the moment members learn of a rebalance and commit in their
    # revoke callbacks); only CompletingRebalance answers REBALANCE_IN_PROGRESS.
    failed = [f"{m.name} gen {e['gen']} ({e.get('where')}): {e['error']}"
              for m in (a, b) for e in m.events() if e["ev"] == "commit_failed"]
    kcat_failed = [l for l in c.stderr_path.read_text(errors="replace").splitlines() if "COMMITFAIL" in l]
    if failed or kcat_failed:
        problems.append(f"{len(failed) + len(kcat_failed)} commits failed: " + "; ".join(failed[:4] + kcat_failed[:2]))

    # (f) the group ends empty, with kcat's final commit at the end of every partition
    state, _, left = group_state_raw(broker.bootstrap, group)
    if state != "Empty" or left:
        problems.append(f"group not empty at the end: {state} {left}")
    final = kp_offsets(broker, group, topic)
    if final != dict(ends):
        problems.append(f"final committed offsets {final} != end offsets {dict(ends)}")

    assert not problems, "\n".join(["mixed group:"] + problems)

# ---------------------------------------------------------------------------------------------
# 3. Committed offsets survive a broker restart
# ---------------------------------------------------------------------------------------------

@pytest.mark.durable
def test_committed_offsets_survive_restart(own_broker):
    broker = own_broker
    topic, group, gone = unique_topic("grp-restart"), unique_topic("g-restart"), unique_topic("g-deleted")
    create_topic(broker, topic, 3)
    produce(broker, topic, {p: 10 for p in range(3)})

    c = ck_consumer(broker, group, "interop-ck-durable")
    try:
        c.subscribe([topic])
        ck_poll(c, 30)
        # Commit less than was consumed: the restarted group must resume at 7, not at 10.
        done = c.commit(offsets=[CkTopicPartition(topic, p, 7) for p in range(3)], asynchronous=False)
        assert all(tp.error is None for tp in done), done
    finally:
        c.close()
    k = kp_consumer(broker, gone, "interop-kp-deleted")
    try:
        k.subscribe([topic])
        kp_poll(k, 30)
        k.commit()
    finally:
        k.close()
    admin = kp_admin(broker)
    try:
        assert admin.delete_groups([gone]) == {gone: "OK"}
    finally:
        admin.close()
    assert kp_offsets(broker, group, topic) == {p: 7 for p in range(3)}

    broker.restart()

    assert kp_offsets(broker, group, topic) == {p: 7 for p in range(3)}
    assert ck_offsets(broker, group, topic) == {p: 7 for p in range(3)}
    listed = kp_list_groups(broker)
    assert group in listed and listed[group]["protocol_type"] == "consumer", listed
    assert listed[group]["group_state"] == "Empty"
    assert gone not in listed, "a deleted group came back after the restart"
    assert kp_offsets(broker, gone, topic) == {}

    k = kp_consumer(broker, group, "interop-kp-after-restart")
    try:
        k.subscribe([topic])
        got = kp_poll(k, 9)
        assert {p: sorted(o) for p, o in got.items()} == {p: [7, 8, 9] for p in range(3)}
        k.commit()
    finally:
        k.close()
    assert kp_offsets(broker, group, topic) == {p: 10 for p in range(3)}

# ---------------------------------------------------------------------------------------------
# 4. Static membership (KIP-345)
# ---------------------------------------------------------------------------------------------

STATIC_SESSION_MS = 10000

@pytest.mark.tansu_xfail(TANSU_INSTANCE_ID)
def test_static_member_restart_keeps_assignment_without_rebalance(broker, tmp_path):
    """A confluent-kafka member with group.instance.id closes (librdkafka sends no LeaveGroup for a
    static member) and a new process with the same instance id comes back within the session
    timeout: same generation, same partitions, and the other member sees no rebalance. The static
    member joins first, so it is also the group leader (Kafka answers a rejoining static leader of a
    stable group without a new generation too)."""
    topic, group = unique_topic("grp-static"), unique_topic("g-static")
    create_topic(broker, topic, 4)
    produce(broker, topic, {p: 5 for p in range(4)})
    s1 = Member(broker, tmp_path, "s1-static", "confluent", topic, group, "a-static", instance_id="inst-1",
                session_ms=STATIC_SESSION_MS)
    members = [s1]
    try:
        wait_settled([s1], 4, what="the static member's assignment")
        dyn = Member(broker, tmp_path, "b-dynamic", "confluent", topic, group, "b-dyn")
        members.append(dyn)
        gen = wait_settled([s1, dyn], 4, what="static + dynamic assignment")
        static_parts, dyn_parts = s1.current()["partitions"], dyn.current()["partitions"]
        assert len(static_parts) == len(dyn_parts) == 2, (static_parts, dyn_parts)
        state, _, before = group_state_raw(broker.bootstrap, group)
        assert state == "Stable" and len(before) == 2
        statics = [m for m in before if m[1] == "inst-1"]
        assert len(statics) == 1, f"DescribeGroups must show the static member's group.instance.id: {before}"
        old_static_id = statics[0][0]
        dyn_events_before = len(dyn.events())

        assert s1.terminate() == 0, s1.log_tail()
        closed_at = s1.events()[-1]["t"]
        state, _, during = group_state_raw(broker.bootstrap, group)
        assert state == "Stable", f"a static member's close must not start a rebalance (state {state})"
        assert sorted(m[0] for m in during) == sorted(m[0] for m in before), (
            "a static member's close must not remove it from the group (no LeaveGroup)")

        s2 = Member(broker, tmp_path, "s2-static", "confluent", topic, group, "a-static", instance_id="inst-1",
                    session_ms=STATIC_SESSION_MS)
        members.append(s2)
        wait_until(lambda: s2.assignments(), timeout=T, message="the restarted static member's assignment")
        (back,) = s2.assignments()
        joins = [e for e in s2.events() if e["ev"] == "join"]
        assert joins and joins[0]["gen"] == gen, f"rejoin answered with generation {joins[0]['gen'] if joins else None}, was {gen}"
        assert back["gen"] == gen and back["partitions"] == static_parts, (back, static_parts)
        assert back["t"] - closed_at < STATIC_SESSION_MS / 1000, "rejoined after the session timeout"

        time.sleep(2 * HEARTBEAT_MS / 1000 + 0.5)   # heartbeats would have reported a rebalance by now
        state, _, after = group_state_raw(broker.bootstrap, group)
        assert state == "Stable", state
        by_instance = {m[1]: m for m in after}
        assert set(by_instance) == {"inst-1", None} and len(after) == 2, after
        assert by_instance["inst-1"][0] != old_static_id, "the restarted static member gets a new member id"
        assert by_instance["inst-1"][3] == static_parts and by_instance[None][3] == dyn_parts, after
        later = [e for e in dyn.events()[dyn_events_before:] if e["ev"] in ("revoked", "assigned", "join", "lost")]
        assert not later, f"the dynamic member saw a rebalance: {later}"
        assert all(e["gen"] == gen for e in s2.events() if "gen" in e), "the static member moved generations"
        # The rest of the records, read by both members without re-reading the first ones.
        got = defaultdict(list)
        for m in (s1, s2, dyn):
            for e in m.events():
                if e["ev"] == "records":
                    for p, o in e["recs"]:
                        got[p].append(o)
        assert {p: sorted(o) for p, o in got.items()} == {p: list(range(5)) for p in range(4)}

        # KIP-345 admin removal: LeaveGroup v3+ by group.instance.id.
        assert dyn.terminate() == 0
        assert s2.terminate() == 0
        from kafka.admin import MemberToRemove
        admin = kp_admin(broker)
        try:
            result = admin.remove_group_members(group, [MemberToRemove(group_instance_id="inst-1")])
        finally:
            admin.close()
        assert [e.__name__ for e in result.values()] == ["NoError"], result
        wait_until(lambda: group_state_raw(broker.bootstrap, group)[0] == "Empty", timeout=T,
                   message="the group to empty after removing the static member")
    finally:
        for m in members:
            m.kill()

# ---------------------------------------------------------------------------------------------
# 5. Bad input over raw TCP
# ---------------------------------------------------------------------------------------------

def subscription(topic: str) -> bytes:
    return bytes(ConsumerProtocolSubscription(0, [topic], b"").encode())

def assignment(topic: str, partitions: list[int]) -> bytes:
    return bytes(ConsumerProtocolAssignment(0, [(topic, partitions)], b"").encode())

class RawGroup:
    """Speaks the classic group protocol over raw connections (one per in-flight JoinGroup)."""

    def __init__(self, bootstrap: str, group: str, topic: str):
        self.bootstrap, self.group, self.topic = bootstrap, group, topic
        ranges = api_versions(bootstrap)
        self.v_join = pick_version(ranges, JoinGroupRequest, 4, 7)
        self.v_sync = pick_version(ranges, SyncGroupRequest, 3, 4)
        self.v_hb = pick_version(ranges, HeartbeatRequest, 3, 4)
        self.v_commit = pick_version(ranges, OffsetCommitRequest, 7, 8)
        self.v_fetch = pick_version(ranges, OffsetFetchRequest, 6, 7)
        self.v_leave = pick_version(ranges, LeaveGroupRequest, 3, 4)
        self.wires: list[Wire] = []

    def wire(self) -> Wire:
        w = Wire(self.bootstrap, timeout=20)
        self.wires.append(w)
        return w

    def close(self):
        for w in self.wires:
            w.close()

    def join_request(self, member_id: str = "", instance_id: str | None = None) -> JoinGroupRequest:
        return JoinGroupRequest(group_id=self.group, session_timeout_ms=10000, rebalance_timeout_ms=5000,
                                member_id=member_id, group_instance_id=instance_id, protocol_type="consumer",
                                protocols=[JoinGroupRequest.JoinGroupRequestProtocol(
                                    name="range", metadata=subscription(self.topic))], reason=None)

    def join(self, member_id: str = "", w: Wire | None = None):
        return (w or self.wire()).request(self.join_request(member_id), self.v_join, JoinGroupResponse, timeout=20)

    def join_send(self, member_id: str) -> tuple[Wire, int]:
        w = self.wire()
        return w, w.send(self.join_request(member_id), self.v_join)

    def join_recv(self, pending: tuple[Wire, int]):
        w, correlation = pending
        resp = JoinGroupResponse.decode(w.recv_frame(20), version=self.v_join, header=True)
        assert resp.header.correlation_id == correlation
        return resp

    def new_member(self) -> str:
        first = self.join()
        assert first.error_code == MEMBER_ID_REQUIRED, first
        return first.member_id

    def sync(self, member_id: str, generation: int, assignments: dict[str, list[int]] | None = None):
        req = SyncGroupRequest(group_id=self.group, generation_id=generation, member_id=member_id,
                               group_instance_id=None, protocol_type="consumer", protocol_name="range",
                               assignments=[SyncGroupRequest.SyncGroupRequestAssignment(
                                   member_id=m, assignment=assignment(self.topic, parts))
                                   for m, parts in (assignments or {}).items()])
        return self.wire().request(req, self.v_sync, SyncGroupResponse, timeout=20)

    def heartbeat(self, member_id: str, generation: int) -> int:
        req = HeartbeatRequest(group_id=self.group, generation_id=generation, member_id=member_id,
                               group_instance_id=None)
        with Wire(self.bootstrap) as w:
            return w.request(req, self.v_hb, HeartbeatResponse).error_code

    def commit(self, member_id: str, generation: int, offset: int, partition: int = 0) -> int:
        T_ = OffsetCommitRequest.OffsetCommitRequestTopic
        req = OffsetCommitRequest(group_id=self.group, generation_id_or_member_epoch=generation, member_id=member_id,
                                  group_instance_id=None, topics=[T_(name=self.topic, partitions=[
                                      T_.OffsetCommitRequestPartition(partition_index=partition, committed_offset=offset,
                                                                      committed_leader_epoch=-1,
                                                                      committed_metadata="")])])
        with Wire(self.bootstrap) as w:
            resp = w.request(req, self.v_commit, OffsetCommitResponse)
        ((code,),) = [[p.error_code for p in t.partitions] for t in resp.topics]
        return code

    def committed(self, partition: int = 0) -> int:
        return kp_offsets_raw(self.bootstrap, self.group, self.topic, partition, self.v_fetch)

    def leave(self, member_id: str) -> int:
        req = LeaveGroupRequest(group_id=self.group, members=[LeaveGroupRequest.MemberIdentity(
            member_id=member_id, group_instance_id=None, reason=None)])
        with Wire(self.bootstrap) as w:
            resp = w.request(req, self.v_leave, LeaveGroupResponse)
        assert resp.error_code == 0, resp
        return resp.members[0].error_code

def kp_offsets_raw(bootstrap: str, group: str, topic: str, partition: int, version: int) -> int:
    T_ = OffsetFetchRequest.OffsetFetchRequestTopic
    req = OffsetFetchRequest(group_id=group, topics=[T_(name=topic, partition_indexes=[partition])],
                             require_stable=False)
    with Wire(bootstrap) as w:
        resp = w.request(req, version, OffsetFetchResponse)
    assert resp.error_code == 0, resp
    ((p,),) = [t.partitions for t in resp.topics]
    assert p.error_code == 0, p
    return p.committed_offset

@pytest.fixture
def raw_group(broker):
    topic = unique_topic("grp-raw")
    create_topic(broker, topic, 2)
    g = RawGroup(broker.bootstrap, unique_topic("g-raw"), topic)
    yield g
    g.close()

def stable_pair(g: RawGroup):
    """Member 1 alone (generation g1, Stable), then member 2 joins and both rejoin (generation
    g2, Stable). Returns (m1, m2, g1, g2)."""
    m1 = g.new_member()
    j1 = g.join(m1)
    assert j1.error_code == 0 and j1.leader == m1, j1
    g1 = j1.generation_id
    s = g.sync(m1, g1, {m1: [0, 1]})
    assert s.error_code == 0, s
    m2 = g.new_member()
    pending2 = g.join_send(m2)            # parks until m1 rejoins
    assert wait_until(lambda: g.heartbeat(m1, g1) == REBALANCE_IN_PROGRESS, timeout=5,
                      message="REBALANCE_IN_PROGRESS on member 1's heartbeat")
    j1b = g.join(m1)
    j2 = g.join_recv(pending2)
    assert j1b.error_code == 0 and j2.error_code == 0, (j1b, j2)
    g2 = j1b.generation_id
    assert j2.generation_id == g2 and g2 > g1
    leader, other = (m1, m2) if j1b.leader == m1 else (m2, m1)
    assert g.sync(leader, g2, {m1: [0], m2: [1]}).error_code == 0
    assert g.sync(other, g2).error_code == 0
    return m1, m2, g1, g2

@pytest.mark.tansu_xfail(TANSU_GENERATIONS)
def test_join_without_member_id_gets_member_id_required(raw_group):
    g = raw_group
    assert g.v_join >= 4
    first = g.join("")
    assert first.error_code == MEMBER_ID_REQUIRED, first
    assert first.member_id, "MEMBER_ID_REQUIRED must carry the member id to join with"
    assert first.generation_id == -1
    joined = g.join(first.member_id)
    assert joined.error_code == 0 and joined.member_id == first.member_id, joined
    assert joined.leader == first.member_id and joined.generation_id >= 1
    assert [m.member_id for m in joined.members] == [first.member_id]
    # Another id-less join gets a different id.
    second = g.join("")
    assert second.error_code == MEMBER_ID_REQUIRED and second.member_id not in ("", first.member_id)

@pytest.mark.tansu_xfail(TANSU_GENERATIONS)
def test_stale_generation_and_unknown_member_are_fenced(raw_group):
    g = raw_group
    m1, m2, g1, g2 = stable_pair(g)
    assert g.heartbeat(m1, g2) == 0
    assert g.heartbeat(m1, g1) == ILLEGAL_GENERATION
    assert g.heartbeat(m1, g2 + 5) == ILLEGAL_GENERATION
    assert g.heartbeat("no-such-member", g2) == UNKNOWN_MEMBER_ID
    assert g.sync(m1, g1).error_code == ILLEGAL_GENERATION
    assert g.commit(m1, g1, 3) == ILLEGAL_GENERATION
    assert g.commit("no-such-member", g2, 3) == UNKNOWN_MEMBER_ID
    assert g.committed() == -1, "a refused commit must not be stored"
    assert g.commit(m2, g2, 4) == 0
    assert g.committed() == 4
    # A member that left is unknown afterwards.
    assert g.leave(m2) == 0
    assert g.heartbeat(m2, g2) == UNKNOWN_MEMBER_ID
    assert g.commit(m2, g2, 5) == UNKNOWN_MEMBER_ID
    assert g.committed() == 4

@pytest.mark.tansu_xfail(TANSU_COMMIT_COMPLETING)
def test_commit_during_rebalance_follows_kafka(raw_group):
    """Kafka accepts an OffsetCommit with the current generation while the group is
    PreparingRebalance (consumers commit in their revoke callbacks right then), and answers
    REBALANCE_IN_PROGRESS once the join phase is over but the assignment is not yet synced
    (CompletingRebalance): ClassicGroup.validateOffsetCommit / GroupCoordinator.handleCommitOffsets."""
    g = raw_group
    m1 = g.new_member()
    j1 = g.join(m1)
    g1 = j1.generation_id
    assert g.sync(m1, g1, {m1: [0, 1]}).error_code == 0

    m2 = g.new_member()
    pending2 = g.join_send(m2)   # the group goes PreparingRebalance, waiting for m1
    wait_until(lambda: g.heartbeat(m1, g1) == REBALANCE_IN_PROGRESS, timeout=5,
               message="PreparingRebalance (REBALANCE_IN_PROGRESS on heartbeat)")
    code = g.commit(m1, g1, 7)
    assert code == 0, (f"OffsetCommit of the current generation {g1} during PreparingRebalance answered {code}; "
                       f"Kafka accepts it (error 0)")
    assert g.committed() == 7

    j1b = g.join(m1)             # join phase completes: CompletingRebalance until the leader syncs
    j2 = g.join_recv(pending2)
    g2 = j1b.generation_id
    assert j2.generation_id == g2 > g1
    code = g.commit(m1, g2, 8)
    assert code == REBALANCE_IN_PROGRESS, (f"OffsetCommit during CompletingRebalance answered {code}; Kafka "
                                           f"answers REBALANCE_IN_PROGRESS ({REBALANCE_IN_PROGRESS})")
    assert g.committed() == 7
    leader, other = (m1, m2) if j1b.leader == m1 else (m2, m1)
    assert g.sync(leader, g2, {m1: [0], m2: [1]}).error_code == 0
    assert g.sync(other, g2).error_code == 0
    assert g.commit(m1, g2, 9) == 0
    assert g.committed() == 9
