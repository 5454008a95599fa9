"""ACLs: Kafka's authorizer (``authorizer.class.name``) with confluent-kafka (librdkafka 2.x),
kafka-python 3.0.12 and raw frames.

The module's broker (``security_setup.SecureBroker``) runs with
``authorizer.class.name=kafka.security.authorizer.AclAuthorizer`` and ``super.users=User:admin``;
SCRAM users admin, alice and bob are added with ``strait user add`` before it starts, and carol is
the PLAIN user of the SASL_PLAINTEXT listener. admin (a super user) manages ACLs and topics with
confluent-kafka's AdminClient over SASL_SSL (SCRAM-SHA-512); every other principal starts with no
ACL at all. Each test works on its own topic, group and transactional-id names, so the ACLs the
tests leave behind do not meet. The ``acls`` fixture hands the broker to one test: a broker an
earlier test crashed is started again first, and after the test it must still be running.

librdkafka remembers a TOPIC_AUTHORIZATION_FAILED per producer instance, so after an ACL change a
new producer is created.

The ACL-administration test (which restarts its broker), the ``allow.everyone.if.no.acl.found``
test and the no-authorizer test start their own brokers; the first one runs Kafka's KRaft
authorizer class name (``org.apache.kafka.metadata.authorizer.StandardAuthorizer``).
"""

from __future__ import annotations

import gc
import struct
import subprocess
import time
from pathlib import Path

import kafka.errors
import pytest
from confluent_kafka import (OFFSET_BEGINNING, Consumer, IsolationLevel, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient,
                                   ConfigResource, NewTopic, OffsetSpec, ResourcePatternType, ResourceType)
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTopicPartition
from kafka.admin import (ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, AbortTransactionSpec,
                         ResourcePatternFilter)
from kafka.admin import ResourceType as KResourceType
from kafka.protocol.consumer import FetchRequest, FetchResponse
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse
from kafka.protocol.producer import WriteTxnMarkersRequest, WriteTxnMarkersResponse
from kafka.protocol.sasl import (SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
                                 SaslHandshakeResponse)

from conftest import strait_binary
from interop import Wire, unique_topic, wait_until
from security_setup import (crash_guarded, log_excerpt, present,
                            PLAIN_PASSWORD, PLAIN_USER, SCRAM_PASSWORD, SCRAM_USER, SecureBroker)

TIMEOUT = 15.0

ADMIN = "admin"
ADMIN_PASSWORD = "admin-Secret-6d0e2"
ALICE = SCRAM_USER
ALICE_PASSWORD = SCRAM_PASSWORD
BOB = "bob"
BOB_PASSWORD = "bob-Secret-4c8a1"

AUTHORIZER = ("authorizer.class.name=kafka.security.authorizer.AclAuthorizer\n"
              "super.users=User:admin\n")
STANDARD_AUTHORIZER = ("authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n"
                       "super.users=User:admin\n")

# Kafka's error codes (librdkafka's KafkaError codes for broker errors are the same numbers).
TOPIC_AUTHORIZATION_FAILED = 29
GROUP_AUTHORIZATION_FAILED = 30
CLUSTER_AUTHORIZATION_FAILED = 31
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53

ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY
LITERAL, PREFIXED, MATCH = ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED, ResourcePatternType.MATCH
TOPIC, GROUP, TXN_ID, CLUSTER = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID, ResourceType.BROKER
CLUSTER_NAME = "kafka-cluster"


# ---------------------------------------------------------------------------------------------
# Brokers and fixtures
# ---------------------------------------------------------------------------------------------

def binary() -> Path:
    return present(strait_binary())


def start_broker(root: Path, extra: str) -> SecureBroker:
    broker = SecureBroker(binary(), root, extra=extra)
    broker.add_user(ADMIN, ADMIN_PASSWORD)
    broker.add_user(ALICE, ALICE_PASSWORD)
    broker.add_user(BOB, BOB_PASSWORD)
    return broker.start()



@pytest.fixture(scope="module")
def acl_broker(tmp_path_factory):
    broker = start_broker(tmp_path_factory.mktemp("acls"), AUTHORIZER)
    yield broker
    gc.collect()
    broker.stop()


@pytest.fixture
def acls(acl_broker):
    """The module's broker for one test; a crash is reported by the test that caused it."""
    yield from crash_guarded(acl_broker, binary)


@pytest.fixture
def own_brokers(tmp_path_factory):
    """Brokers a test starts for itself (stopped, and checked for a crash, at teardown)."""
    started: list[SecureBroker] = []

    def make(extra: str) -> SecureBroker:
        broker = start_broker(tmp_path_factory.mktemp("acl-broker"), extra)
        started.append(broker)
        return broker

    yield make
    gc.collect()
    crashed = [(b, b.proc.poll()) for b in started if b.proc is not None and b.proc.poll() is not None]
    for b in started:
        b.stop()
    assert not crashed, "\n".join(f"a broker exited with {code}:\n{log_excerpt(b.log())}" for b, code in crashed)


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------

def ck_conf(broker: SecureBroker, user: str, password: str, **extra) -> dict:
    return {"bootstrap.servers": broker.bootstrap("SASL_SSL"), "broker.address.family": "v4",
            "socket.timeout.ms": 10000, "log_level": 2, "security.protocol": "SASL_SSL",
            "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": user, "sasl.password": password,
            "ssl.ca.location": str(broker.certs["ca.pem"]), **extra}


def kp_conf(broker: SecureBroker, user: str, password: str) -> dict:
    return dict(bootstrap_servers=broker.bootstrap("SASL_SSL"), security_protocol="SASL_SSL",
                sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=user, sasl_plain_password=password,
                ssl_cafile=str(broker.certs["ca.pem"]), request_timeout_ms=10000)


def admin_conf(broker: SecureBroker) -> dict:
    return ck_conf(broker, ADMIN, ADMIN_PASSWORD)


def alice_conf(broker: SecureBroker, **extra) -> dict:
    return ck_conf(broker, ALICE, ALICE_PASSWORD, **extra)


def distinct(bindings: list[AclBinding]) -> set[AclBinding]:
    """The bindings as a set, asserting none is listed twice."""
    found = set(bindings)
    assert len(found) == len(bindings), f"an ACL is listed more than once: {sorted(map(str, bindings))}"
    return found


class Admin:
    """confluent-kafka's AdminClient with bounded, asserting helpers."""

    def __init__(self, conf: dict):
        self.client = AdminClient(conf)

    def close(self):
        self.client = None
        gc.collect()

    def create_topics(self, *names: str, partitions: int = 1):
        futures = self.client.create_topics([NewTopic(n, partitions, 1) for n in names], operation_timeout=10)
        for name, future in futures.items():
            assert future.result(TIMEOUT) is None, name

    def create_acls(self, *bindings: AclBinding):
        futures = self.client.create_acls(list(bindings), request_timeout=TIMEOUT)
        for binding, future in futures.items():
            assert future.result(TIMEOUT) is None, binding

    def describe_acls(self, acl_filter: AclBindingFilter) -> set[AclBinding]:
        return distinct(self.client.describe_acls(acl_filter, request_timeout=TIMEOUT).result(TIMEOUT))

    def delete_acls(self, *filters: AclBindingFilter) -> list[set[AclBinding]]:
        futures = self.client.delete_acls(list(filters), request_timeout=TIMEOUT)
        return [distinct(futures[f].result(TIMEOUT)) for f in filters]

    def offsets(self, topic: str, partition: int = 0) -> tuple[int, int]:
        """(end offset, last stable offset) of a partition."""
        tp = TopicPartition(topic, partition)
        out = []
        for level in (IsolationLevel.READ_UNCOMMITTED, IsolationLevel.READ_COMMITTED):
            futures = self.client.list_offsets({tp: OffsetSpec.latest()}, isolation_level=level,
                                               request_timeout=TIMEOUT)
            out.append(futures[tp].result(TIMEOUT).offset)
        return out[0], out[1]


@pytest.fixture
def admin(acls):
    client = Admin(admin_conf(acls))
    yield client
    client.close()


def allow(restype, name, principal, operation, pattern=LITERAL, host="*") -> AclBinding:
    return AclBinding(restype, name, pattern, principal, host, operation, ALLOW)


def deny(restype, name, principal, operation, pattern=LITERAL, host="*") -> AclBinding:
    return AclBinding(restype, name, pattern, principal, host, operation, DENY)


def acl_filter(restype=ResourceType.ANY, name=None, pattern=ResourcePatternType.ANY, principal=None, host=None,
               operation=AclOperation.ANY, permission=AclPermissionType.ANY) -> AclBindingFilter:
    return AclBindingFilter(restype, name, pattern, principal, host, operation, permission)


def kafka_error(exc: BaseException) -> KafkaError:
    assert isinstance(exc, KafkaException), repr(exc)
    err = exc.args[0]
    assert isinstance(err, KafkaError), repr(exc)
    return err


def kp_describe_acls(broker: SecureBroker, user: str, password: str):
    """kafka-python's describe_acls (everything): the ACL list, or the exception it raised.
    (librdkafka drops DescribeAcls' top-level error code and reports an empty, successful
    listing instead, so refusals are checked with kafka-python.)"""
    client = KafkaAdminClient(**kp_conf(broker, user, password))
    try:
        return client.describe_acls(ACLFilter(
            principal=None, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
            resource_pattern=ResourcePatternFilter(KResourceType.ANY, None, ACLResourcePatternType.ANY)))
    except kafka.errors.KafkaError as exc:
        return exc
    finally:
        client.close()


def ck_try_produce(conf: dict, topic: str, values: list[bytes]) -> tuple[list, list]:
    """Produces values to partition 0 with a new producer; returns each delivery's offset or
    KafkaError, and the client errors (error_cb)."""
    errors: list = []
    producer = Producer({**conf, "acks": "all", "linger.ms": 5, "message.timeout.ms": 10000,
                         "error_cb": errors.append})
    delivered: list = [None] * len(values)

    def on_delivery(i):
        def cb(err, msg):
            delivered[i] = err if err is not None else msg.offset()
        return cb

    for i, value in enumerate(values):
        producer.produce(topic, value=value, partition=0, on_delivery=on_delivery(i))
        producer.poll(0)
    remaining = producer.flush(TIMEOUT)
    del producer
    gc.collect()
    assert remaining == 0, f"{remaining} records neither delivered nor failed within {TIMEOUT}s; errors: {errors[:5]}"
    return delivered, errors


def ck_produce_ok(conf: dict, topic: str, values: list[bytes]) -> list[int]:
    delivered, errors = ck_try_produce(conf, topic, values)
    failures = [d for d in delivered if not isinstance(d, int)]
    assert not failures, f"delivery failures: {[str(f) for f in failures[:5]]}; client errors: {errors[:5]}"
    return delivered


def ck_produce_denied(conf: dict, topic: str, values: list[bytes]):
    delivered, errors = ck_try_produce(conf, topic, values)
    codes = [d.code() if isinstance(d, KafkaError) else d for d in delivered]
    assert codes == [KafkaError.TOPIC_AUTHORIZATION_FAILED] * len(values), (
        f"expected TOPIC_AUTHORIZATION_FAILED for every record, got {codes}; client errors: {errors[:5]}")


def kp_send(kw: dict, topic: str, values: list[bytes]):
    """kafka-python's producer: the offsets, or the exception send() raised or its future
    failed with."""
    producer = KafkaProducer(**kw, acks="all", linger_ms=5, max_block_ms=10000)
    try:
        futures = [producer.send(topic, value=v, partition=0) for v in values]
        return [f.get(timeout=TIMEOUT).offset for f in futures]
    except kafka.errors.KafkaError as exc:
        return exc
    finally:
        producer.close(timeout=5)


def ck_consume(conf: dict, topic: str, count: int, **extra) -> list:
    """Reads partition 0 from the beginning (assigned, no group) until count records arrived,
    then for another 0.5 s to catch extras."""
    consumer = Consumer({**conf, "group.id": unique_topic("acl-reader"), "enable.auto.commit": False,
                         "fetch.wait.max.ms": 100, **extra})
    got = []
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = time.monotonic() + TIMEOUT
        settle = None
        while time.monotonic() < deadline and (settle is None or time.monotonic() < settle):
            for m in consumer.consume(num_messages=100, timeout=0.1):
                if m.error():
                    raise KafkaException(m.error())
                got.append(m)
            if len(got) >= count and settle is None:
                settle = time.monotonic() + 0.5
    finally:
        consumer.close()
        del consumer
        gc.collect()
    return got


def values_for(name: str, n: int) -> list[bytes]:
    return [f"{name}/{i}".encode() for i in range(n)]


# ---------------------------------------------------------------------------------------------
# 1: topic WRITE: no ACL, a PREFIXED allow, a literal DENY
# ---------------------------------------------------------------------------------------------

def test_produce_needs_topic_write_prefixed_allow_and_literal_deny(acls, admin):
    prefix = unique_topic("acl-write") + "."
    topic, sibling = prefix + "orders", prefix + "invoices"
    admin.create_topics(topic, sibling)
    alice = f"User:{ALICE}"
    values = values_for(topic, 3)

    # No ACL on the topic at all: denied to both clients.
    ck_produce_denied(alice_conf(acls), topic, values)
    outcome = kp_send(kp_conf(acls, ALICE, ALICE_PASSWORD), topic, values)
    assert isinstance(outcome, kafka.errors.TopicAuthorizationFailedError), repr(outcome)

    # An allow for another host does not apply to alice's 127.0.0.1.
    admin.create_acls(allow(TOPIC, prefix, alice, AclOperation.WRITE, PREFIXED, host="192.0.2.1"))
    ck_produce_denied(alice_conf(acls), topic, values)

    # WRITE on the prefix from her address: both clients produce (new producers).
    admin.create_acls(allow(TOPIC, prefix, alice, AclOperation.WRITE, PREFIXED, host="127.0.0.1"))
    assert ck_produce_ok(alice_conf(acls), topic, values) == [0, 1, 2]
    assert kp_send(kp_conf(acls, ALICE, ALICE_PASSWORD), topic, values) == [3, 4, 5]
    assert ck_produce_ok(alice_conf(acls), sibling, values) == [0, 1, 2]

    # A literal DENY on one topic beats the prefixed ALLOW there, and only there.
    admin.create_acls(deny(TOPIC, topic, alice, AclOperation.WRITE))
    ck_produce_denied(alice_conf(acls), topic, values)
    outcome = kp_send(kp_conf(acls, ALICE, ALICE_PASSWORD), topic, values)
    assert isinstance(outcome, kafka.errors.TopicAuthorizationFailedError), repr(outcome)
    assert ck_produce_ok(alice_conf(acls), sibling, values) == [3, 4, 5]
    assert admin.offsets(topic) == (6, 6), "a denied produce moved the end offset"

    # Bob, with no ACL of his own, is still denied on the prefix.
    ck_produce_denied(ck_conf(acls, BOB, BOB_PASSWORD), sibling, values)


# ---------------------------------------------------------------------------------------------
# 2: group READ
# ---------------------------------------------------------------------------------------------

def ck_group_errors(conf: dict, topic: str, group: str, timeout: float = 10.0) -> list[KafkaError]:
    """Subscribes a new consumer and collects the errors it reports (messages and error_cb)
    until GROUP_AUTHORIZATION_FAILED or the timeout; fails if it receives a record."""
    errors: list[KafkaError] = []
    consumer = Consumer({**conf, "group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "error_cb": errors.append})
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(e.code() == GROUP_AUTHORIZATION_FAILED for e in errors):
            for m in consumer.consume(num_messages=10, timeout=0.2):
                assert m.error() is not None, f"consumed {m.value()!r} without READ on the group"
                errors.append(m.error())
    finally:
        consumer.close()
        del consumer
        gc.collect()
    return errors


def test_consumer_group_needs_group_read(acls, admin):
    topic, group = unique_topic("acl-group"), unique_topic("acl-group-g")
    admin.create_topics(topic)
    values = values_for(topic, 5)
    ck_produce_ok(admin_conf(acls), topic, values)
    alice = f"User:{ALICE}"
    admin.create_acls(allow(TOPIC, topic, alice, AclOperation.READ))

    errors = ck_group_errors(alice_conf(acls), topic, group)
    assert any(e.code() == GROUP_AUTHORIZATION_FAILED for e in errors), [str(e) for e in errors]

    # kafka-python: the group coordinator lookup fails with GroupAuthorizationFailedError.
    consumer = KafkaConsumer(topic, **kp_conf(acls, ALICE, ALICE_PASSWORD), group_id=group,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        with pytest.raises(kafka.errors.GroupAuthorizationFailedError):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                assert not consumer.poll(timeout_ms=200), "kafka-python consumed without READ on the group"
    finally:
        consumer.close(autocommit=False)

    # READ on the group: a new consumer joins, reads everything and commits.
    admin.create_acls(allow(GROUP, group, alice, AclOperation.READ))
    consumer = Consumer({**alice_conf(acls), "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    got = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + TIMEOUT
        while len(got) < len(values) and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=10, timeout=0.2):
                if m.error():
                    raise KafkaException(m.error())
                got.append(m)
        assert [m.value() for m in got] == values
        committed = consumer.commit(asynchronous=False)
        assert [(tp.topic, tp.partition, tp.offset, tp.error) for tp in committed] == [(topic, 0, 5, None)]
        (tp,) = consumer.committed([TopicPartition(topic, 0)], timeout=TIMEOUT)
        assert tp.offset == 5 and tp.error is None, tp
    finally:
        consumer.close()
        del consumer


# ---------------------------------------------------------------------------------------------
# 3: transactional id WRITE
# ---------------------------------------------------------------------------------------------

def test_transactions_need_transactional_id_write(acls, admin):
    topic, txn_id = unique_topic("acl-txn"), unique_topic("acl-txn-id")
    admin.create_topics(topic)
    alice = f"User:{ALICE}"
    admin.create_acls(allow(TOPIC, topic, alice, AclOperation.WRITE))

    producer = Producer({**alice_conf(acls), "transactional.id": txn_id})
    try:
        with pytest.raises(KafkaException) as info:
            producer.init_transactions(TIMEOUT)
        err = kafka_error(info.value)
        assert err.code() == TRANSACTIONAL_ID_AUTHORIZATION_FAILED, str(err)
    finally:
        del producer
        gc.collect()

    admin.create_acls(allow(TXN_ID, txn_id, alice, AclOperation.WRITE))
    values = values_for(topic, 4)
    producer = Producer({**alice_conf(acls), "transactional.id": txn_id, "linger.ms": 5})
    try:
        producer.init_transactions(TIMEOUT)
        producer.begin_transaction()
        for v in values:
            producer.produce(topic, value=v, partition=0)
        producer.commit_transaction(TIMEOUT)
    finally:
        del producer
        gc.collect()

    got = ck_consume(admin_conf(acls), topic, len(values), **{"isolation.level": "read_committed"})
    assert [m.value() for m in got] == values
    assert admin.offsets(topic) == (5, 5)   # four records and the COMMIT marker


# ---------------------------------------------------------------------------------------------
# 4: WriteTxnMarkers from a client
# ---------------------------------------------------------------------------------------------

def plain_wire(broker: SecureBroker, user: str = PLAIN_USER, password: str = PLAIN_PASSWORD) -> Wire:
    """A raw connection to the SASL_PLAINTEXT listener, logged in with PLAIN."""
    w = Wire(broker.bootstrap("SASL_PLAINTEXT"))
    try:
        handshake = w.request(SaslHandshakeRequest(mechanism="PLAIN"), 1, SaslHandshakeResponse)
        assert handshake.error_code == 0 and "PLAIN" in handshake.mechanisms, handshake
        auth = w.request(SaslAuthenticateRequest(auth_bytes=b"\0" + user.encode() + b"\0" + password.encode()), 0,
                         SaslAuthenticateResponse)
        assert auth.error_code == 0, f"PLAIN login failed: {auth.error_code} {auth.error_message}"
    except BaseException:
        w.close()
        raise
    return w


def kstring(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def write_txn_markers_v0(correlation_id: int, client_id: str, markers: list[dict]) -> bytes:
    """A framed WriteTxnMarkers v0 request (request header v1), encoded by hand."""
    body = struct.pack(">hhi", 27, 0, correlation_id) + kstring(client_id)
    body += struct.pack(">i", len(markers))
    for m in markers:
        body += struct.pack(">qh?", m["producer_id"], m["producer_epoch"], m["commit"])
        body += struct.pack(">i", len(m["topics"]))
        for name, partitions in m["topics"].items():
            body += kstring(name) + struct.pack(">i", len(partitions))
            body += b"".join(struct.pack(">i", p) for p in partitions)
        body += struct.pack(">i", m["coordinator_epoch"])
    return struct.pack(">i", len(body)) + body


def marker_errors(response) -> dict:
    return {(m.producer_id, t.name, p.partition_index): p.error_code
            for m in response.markers for t in m.topics for p in t.partitions}


def fetch_state(w: Wire, topic: str, partition: int = 0) -> tuple[int, int]:
    """(high watermark, last stable offset) from a read_committed Fetch v11 on the connection."""
    req = FetchRequest(
        replica_id=-1, max_wait_ms=0, min_bytes=0, max_bytes=1 << 20, isolation_level=1,
        session_id=0, session_epoch=-1,
        topics=[FetchRequest.FetchTopic(topic=topic, partitions=[FetchRequest.FetchTopic.FetchPartition(
            partition=partition, current_leader_epoch=-1, fetch_offset=0, log_start_offset=-1,
            partition_max_bytes=1 << 20)])],
        forgotten_topics_data=[], rack_id="")
    resp = w.request(req, 11, FetchResponse)
    (t,) = resp.responses
    (p,) = t.partitions
    assert p.error_code == 0, f"Fetch {topic}[{partition}] error {p.error_code}"
    return p.high_watermark, p.last_stable_offset


def test_write_txn_markers_from_a_client_needs_cluster_action(acls, admin):
    topic, other, txn_id = unique_topic("acl-markers"), unique_topic("acl-markers-b"), unique_topic("acl-markers-id")
    admin.create_topics(topic, other, partitions=2)
    carol = f"User:{PLAIN_USER}"

    # admin (a super user) leaves a transaction open: three records, no marker.
    producer = Producer({**admin_conf(acls), "transactional.id": txn_id, "linger.ms": 5})
    kp_admin = KafkaAdminClient(**kp_conf(acls, ADMIN, ADMIN_PASSWORD))
    try:
        producer.init_transactions(TIMEOUT)
        producer.begin_transaction()
        for v in values_for(topic, 3):
            producer.produce(topic, value=v, partition=0)
        assert producer.flush(TIMEOUT) == 0
        description = kp_admin.describe_transactions([txn_id])[txn_id]
        pid, epoch = description.producer_id, description.producer_epoch
        assert pid >= 0 and epoch >= 0, description

        Marker = WriteTxnMarkersRequest.WritableTxnMarker
        forged_commit = WriteTxnMarkersRequest(markers=[Marker(
            producer_id=pid, producer_epoch=epoch, transaction_result=True, coordinator_epoch=0,
            topics=[Marker.WritableTxnMarkerTopic(name=topic, partition_indexes=[0])])])

        # carol (PLAIN, no ACL at all) forges COMMIT markers: v0 encoded by hand, v1 by kafka-python.
        with plain_wire(acls) as w:
            w.send_raw(write_txn_markers_v0(7001, "acl-forger", [
                {"producer_id": pid, "producer_epoch": epoch, "commit": True, "topics": {topic: [0, 1], other: [1]},
                 "coordinator_epoch": 0},
                {"producer_id": 424242, "producer_epoch": 0, "commit": False, "topics": {other: [0]},
                 "coordinator_epoch": 0}]))
            response = WriteTxnMarkersResponse.decode(w.recv_frame(10), version=0, header=True)
            assert response.header.correlation_id == 7001
            assert marker_errors(response) == {
                (pid, topic, 0): CLUSTER_AUTHORIZATION_FAILED, (pid, topic, 1): CLUSTER_AUTHORIZATION_FAILED,
                (pid, other, 1): CLUSTER_AUTHORIZATION_FAILED, (424242, other, 0): CLUSTER_AUTHORIZATION_FAILED}
            response = w.request(forged_commit, 1, WriteTxnMarkersResponse)
            assert marker_errors(response) == {(pid, topic, 0): CLUSTER_AUTHORIZATION_FAILED}
            # The connection is still served.
            assert w.request(ApiVersionsRequest(), 0, ApiVersionsResponse).error_code == 0

        # Nothing was written: the records are still pending, no partition grew.
        assert [admin.offsets(t, p)[0] for t, p in ((topic, 0), (topic, 1), (other, 0), (other, 1))] == [3, 0, 0, 0]
        admin.create_acls(allow(TOPIC, topic, carol, AclOperation.READ))
        with plain_wire(acls) as w:
            assert fetch_state(w, topic) == (3, 0), "the open transaction is not pending any more"

        # alice (SCRAM; she may describe the topic) tries kafka-python's abort_transaction.
        admin.create_acls(allow(TOPIC, topic, f"User:{ALICE}", AclOperation.DESCRIBE))
        alice_admin = KafkaAdminClient(**kp_conf(acls, ALICE, ALICE_PASSWORD))
        try:
            with pytest.raises(kafka.errors.ClusterAuthorizationFailedError):
                alice_admin.abort_transaction(AbortTransactionSpec(KTopicPartition(topic, 0), pid, epoch))
        finally:
            alice_admin.close()
        with plain_wire(acls) as w:
            assert fetch_state(w, topic) == (3, 0), "a denied WriteTxnMarkers wrote a marker"

            # With CLUSTER_ACTION the same forged request commits: the checks above would have
            # seen its marker.
            admin.create_acls(allow(CLUSTER, CLUSTER_NAME, carol, AclOperation.CLUSTER_ACTION))
            response = w.request(forged_commit, 1, WriteTxnMarkersResponse)
            assert marker_errors(response) == {(pid, topic, 0): 0}
            assert fetch_state(w, topic) == (4, 4)
    finally:
        kp_admin.close()
        del producer
        gc.collect()
    got = ck_consume(admin_conf(acls), topic, 3, **{"isolation.level": "read_committed"})
    assert [m.value() for m in got] == values_for(topic, 3)


# ---------------------------------------------------------------------------------------------
# 5: Metadata and DescribeConfigs
# ---------------------------------------------------------------------------------------------

def test_metadata_lists_only_describable_topics(acls, admin):
    prefix = unique_topic("acl-meta") + "."
    readable, writable, everyone, hidden, configurable = (prefix + n for n in
                                                          ("readable", "writable", "everyone", "hidden", "configurable"))
    admin.create_topics(readable, writable, everyone, hidden, configurable)
    alice = f"User:{ALICE}"
    admin.create_acls(allow(TOPIC, readable, alice, AclOperation.READ),              # READ implies DESCRIBE
                      allow(TOPIC, writable, alice, AclOperation.WRITE),             # so does WRITE
                      allow(TOPIC, everyone, "User:*", AclOperation.DESCRIBE),       # any principal
                      allow(TOPIC, hidden, f"User:{BOB}", AclOperation.DESCRIBE),    # somebody else
                      allow(TOPIC, configurable, alice, AclOperation.ALTER_CONFIGS))  # DESCRIBE_CONFIGS only

    client = AdminClient(alice_conf(acls))
    try:
        md = client.list_topics(timeout=TIMEOUT)
        assert {t for t in md.topics if t.startswith(prefix)} == {readable, writable, everyone}

        for name in (hidden, configurable, prefix + "never-created"):
            md = client.list_topics(topic=name, timeout=TIMEOUT)
            assert md.topics[name].error is not None and \
                md.topics[name].error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, (name, md.topics[name].error)
        md = client.list_topics(topic=readable, timeout=TIMEOUT)
        assert md.topics[readable].error is None and list(md.topics[readable].partitions) == [0]

        # DescribeConfigs: ALTER_CONFIGS implies DESCRIBE_CONFIGS; READ does not.
        futures = client.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, configurable)],
                                          request_timeout=TIMEOUT)
        (configs,) = [f.result(TIMEOUT) for f in futures.values()]
        assert "cleanup.policy" in configs
        futures = client.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, readable)], request_timeout=TIMEOUT)
        with pytest.raises(KafkaException) as info:
            [f.result(TIMEOUT) for f in futures.values()]
        assert kafka_error(info.value).code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, str(info.value)
    finally:
        del client
        gc.collect()

    # kafka-python: the same answers (describe_topics returns the per-topic error codes).
    kp_client = KafkaAdminClient(**kp_conf(acls, ALICE, ALICE_PASSWORD))
    try:
        (described,) = kp_client.describe_topics([hidden])
        assert described["name"] == hidden and described["error_code"] == TOPIC_AUTHORIZATION_FAILED, described
        (described,) = kp_client.describe_topics([readable])
        assert described["error_code"] == 0 and len(described["partitions"]) == 1, described
        listed = {t["name"] for t in kp_client.describe_topics()}
        assert {t for t in listed if t.startswith(prefix)} == {readable, writable, everyone}
    finally:
        kp_client.close()


# ---------------------------------------------------------------------------------------------
# 6: ACL administration, durable across a restart (StandardAuthorizer)
# ---------------------------------------------------------------------------------------------

def test_acl_administration_and_restart(own_brokers):
    broker = own_brokers(STANDARD_AUTHORIZER)
    alice, bob, carol = f"User:{ALICE}", f"User:{BOB}", f"User:{PLAIN_USER}"
    payments_read = allow(TOPIC, "payments", alice, AclOperation.READ)
    pay_write = allow(TOPIC, "pay", bob, AclOperation.WRITE, PREFIXED)
    all_topics = allow(TOPIC, "*", carol, AclOperation.DESCRIBE)
    group_read = allow(GROUP, "payments-app", alice, AclOperation.READ)
    payments_deny = deny(TOPIC, "payments", bob, AclOperation.WRITE, host="127.0.0.1")
    cluster_describe = allow(CLUSTER, CLUSTER_NAME, bob, AclOperation.DESCRIBE)
    txn_write = allow(TXN_ID, "tx-", alice, AclOperation.WRITE, PREFIXED)
    other_read = allow(TOPIC, "other", alice, AclOperation.READ)
    created = {payments_read, pay_write, all_topics, group_read, payments_deny, cluster_describe, txn_write, other_read}

    # alice has no cluster ALTER or DESCRIBE: every ACL request is refused.
    client = AdminClient(alice_conf(broker))
    try:
        futures = client.create_acls([payments_read], request_timeout=TIMEOUT)
        with pytest.raises(KafkaException) as info:
            futures[payments_read].result(TIMEOUT)
        assert kafka_error(info.value).code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED, str(info.value)
        # librdkafka reports the refused DescribeAcls as an empty listing.
        assert client.describe_acls(acl_filter(), request_timeout=TIMEOUT).result(TIMEOUT) == []
        everything = acl_filter()
        futures = client.delete_acls([everything], request_timeout=TIMEOUT)
        with pytest.raises(KafkaException) as info:
            futures[everything].result(TIMEOUT)
        assert kafka_error(info.value).code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED, str(info.value)
    finally:
        del client
        gc.collect()

    refused = kp_describe_acls(broker, ALICE, ALICE_PASSWORD)
    assert isinstance(refused, kafka.errors.ClusterAuthorizationFailedError), repr(refused)

    admin = Admin(admin_conf(broker))
    try:
        assert admin.describe_acls(acl_filter()) == set(), "alice's refused CreateAcls stored something"
        admin.create_acls(*created)
        admin.create_acls(payments_read)   # again: nothing doubles
        assert admin.describe_acls(acl_filter()) == created
        assert admin.describe_acls(acl_filter(TOPIC)) == {payments_read, pay_write, all_topics, payments_deny, other_read}
        assert admin.describe_acls(acl_filter(GROUP)) == {group_read}
        assert admin.describe_acls(acl_filter(CLUSTER)) == {cluster_describe}
        assert admin.describe_acls(acl_filter(principal=bob)) == {pay_write, payments_deny, cluster_describe}
        assert admin.describe_acls(acl_filter(TOPIC, "payments", MATCH)) == {payments_read, pay_write, all_topics,
                                                                              payments_deny}
        assert admin.describe_acls(acl_filter(TOPIC, "payments", LITERAL)) == {payments_read, payments_deny}
        assert admin.describe_acls(acl_filter(TOPIC, pattern=PREFIXED)) == {pay_write}
        assert admin.describe_acls(acl_filter(ResourceType.ANY, "payments")) == {payments_read, payments_deny}
        assert admin.describe_acls(acl_filter(permission=DENY)) == {payments_deny}
        assert admin.describe_acls(acl_filter(host="127.0.0.1")) == {payments_deny}
        assert admin.describe_acls(acl_filter(operation=AclOperation.READ)) == {payments_read, group_read, other_read}
        assert admin.describe_acls(acl_filter(principal=alice, operation=AclOperation.WRITE)) == {txn_write}
        assert admin.describe_acls(acl_filter(TOPIC, "nothing-here", MATCH)) == {all_topics}

        # With cluster DESCRIBE alice may describe ACLs, but still not create them.
        alice_describe = allow(CLUSTER, CLUSTER_NAME, alice, AclOperation.DESCRIBE)
        admin.create_acls(alice_describe)
        created.add(alice_describe)
        client = AdminClient(alice_conf(broker))
        try:
            assert distinct(client.describe_acls(acl_filter(), request_timeout=TIMEOUT).result(TIMEOUT)) == created
            probe = allow(TOPIC, "probe", alice, AclOperation.READ)
            futures = client.create_acls([probe], request_timeout=TIMEOUT)
            with pytest.raises(KafkaException) as info:
                futures[probe].result(TIMEOUT)
            assert kafka_error(info.value).code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED, str(info.value)
        finally:
            del client
            gc.collect()

        # DeleteAcls returns what each filter removed; an ACL two filters match (bob's on the
        # payments topics) is reported under the first, as Kafka's authorizer does.
        by_bob, by_match = acl_filter(principal=bob), acl_filter(TOPIC, "payments", MATCH)
        removed = admin.delete_acls(by_bob, by_match)
        assert removed[0] == {pay_write, payments_deny, cluster_describe}
        assert removed[1] == {payments_read, all_topics}
        remaining = {group_read, txn_write, other_read, alice_describe}
        assert admin.describe_acls(acl_filter()) == remaining
        assert admin.delete_acls(acl_filter(TOPIC, "payments", MATCH)) == [set()]
    finally:
        admin.close()

    # The ACLs survive a restart, and are enforced after it.
    broker.stop()
    assert broker.proc.returncode == 0, f"exit {broker.proc.returncode} after SIGTERM:\n{log_excerpt(broker.log())}"
    broker.binary = binary()
    broker.start()
    admin = Admin(admin_conf(broker))
    try:
        assert admin.describe_acls(acl_filter()) == remaining
        assert admin.describe_acls(acl_filter(TOPIC, "other", MATCH)) == {other_read}
    finally:
        admin.close()
    client = AdminClient(alice_conf(broker))
    try:
        assert distinct(client.describe_acls(acl_filter(GROUP), request_timeout=TIMEOUT).result(TIMEOUT)) == {group_read}
    finally:
        del client
        gc.collect()
    # bob's cluster DESCRIBE was deleted before the restart.
    refused = kp_describe_acls(broker, BOB, BOB_PASSWORD)
    assert isinstance(refused, kafka.errors.ClusterAuthorizationFailedError), repr(refused)


# ---------------------------------------------------------------------------------------------
# 7: allow.everyone.if.no.acl.found
# ---------------------------------------------------------------------------------------------

def test_allow_everyone_if_no_acl_found(own_brokers):
    broker = own_brokers(AUTHORIZER + "allow.everyone.if.no.acl.found=true\n")
    open_topic, guarded = unique_topic("acl-open"), unique_topic("acl-guarded")
    admin = Admin(admin_conf(broker))
    try:
        admin.create_topics(open_topic, guarded)
        admin.create_acls(allow(TOPIC, guarded, f"User:{BOB}", AclOperation.WRITE))
        values = values_for(open_topic, 3)
        assert ck_produce_ok(alice_conf(broker), open_topic, values) == [0, 1, 2]
        ck_produce_denied(alice_conf(broker), guarded, values)
        assert ck_produce_ok(ck_conf(broker, BOB, BOB_PASSWORD), guarded, values) == [0, 1, 2]
        assert admin.offsets(guarded) == (3, 3)
    finally:
        admin.close()


# ---------------------------------------------------------------------------------------------
# 8: no authorizer
# ---------------------------------------------------------------------------------------------

def test_acl_requests_without_authorizer_are_security_disabled(own_brokers):
    broker = own_brokers("")
    refused = kp_describe_acls(broker, ADMIN, ADMIN_PASSWORD)
    assert isinstance(refused, kafka.errors.SecurityDisabledError), repr(refused)
    client = AdminClient(admin_conf(broker))
    try:
        # librdkafka drops DescribeAcls' error: an empty listing.
        assert client.describe_acls(acl_filter(), request_timeout=TIMEOUT).result(TIMEOUT) == []
        binding = allow(TOPIC, "t", f"User:{ALICE}", AclOperation.READ)
        futures = client.create_acls([binding], request_timeout=TIMEOUT)
        with pytest.raises(KafkaException) as info:
            futures[binding].result(TIMEOUT)
        assert kafka_error(info.value).code() == KafkaError.SECURITY_DISABLED, str(info.value)
    finally:
        del client
        gc.collect()
    # Nothing is checked without an authorizer: alice produces to a topic no ACL names.
    topic = unique_topic("acl-none")
    assert ck_produce_ok(alice_conf(broker), topic, values_for(topic, 2)) == [0, 1]


# ---------------------------------------------------------------------------------------------
# 9: authorizer.class.name values
# ---------------------------------------------------------------------------------------------

def test_unknown_authorizer_class_refused_with_one_line(tmp_path):
    broker = SecureBroker(binary(), tmp_path, extra="authorizer.class.name=com.example.MyAuthorizer\n")
    lines = broker.config_path.read_text().splitlines()
    (number,) = [i + 1 for i, line in enumerate(lines) if line.startswith("authorizer.class.name=")]
    proc = subprocess.run([str(broker.binary), "broker", "--config", str(broker.config_path)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=20)
    stderr = [line for line in proc.stderr.splitlines() if line.strip()]
    detail = f"exit {proc.returncode}; stderr:\n{proc.stderr[-2000:]}\nstdout:\n{proc.stdout[-1000:]}"
    assert proc.returncode != 0, detail
    assert len(stderr) == 1, detail
    (message,) = stderr
    assert "authorizer.class.name" in message and "com.example.MyAuthorizer" in message, detail
    assert f"{broker.config_path}:{number}:" in message, detail
