"""Wire details where the broker must answer exactly as Apache Kafka does, found by driving it with
librdkafka's own test suite; each is checked raw and with real clients.

* Fetch: a partition answered with an error (here OFFSET_OUT_OF_RANGE) carries EMPTY records, never
  null. librdkafka refuses a null records field ("invalid MessageSetSize -1", a protocol parse
  failure), so a consumer positioned past the end never gets to reset its offset.
* OffsetCommit for a topic that does not exist, or for a partition beyond the topic's partition
  count, is answered UNKNOWN_TOPIC_OR_PARTITION (3) per partition, and creates nothing (even with
  auto.create.topics.enable=true, which this suite's broker runs with).
* message.format.version: deprecated, but Kafka 3.x still accepts it as a topic config (its value
  must be a Kafka version, else INVALID_CONFIG) in CreateTopics, AlterConfigs and
  IncrementalAlterConfigs, and DescribeConfigs shows it.
"""

from __future__ import annotations

import logging
import struct
import subprocess
import threading
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource as CkConfigResource,
                                   NewTopic, ResourceType)
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError as KpKafkaError
from kafka.protocol.consumer import FetchRequest, FetchResponse
from kafka.protocol.consumer.group import (OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
                                           OffsetFetchResponse)
from kafka.structs import OffsetAndMetadata, TopicPartition as KpTopicPartition

from interop import (UNKNOWN_TOPIC_OR_PARTITION, Released, Wire, api_versions, build_batch, create_topic, fetch_request,
                     kcat_binary, metadata, pick_version, produce_raw, unique_topic, wait_until)

OFFSET_OUT_OF_RANGE = 1
INVALID_CONFIG = 40
PARSE_ERRORS = ("MessageSetSize", "parse failure", "Protocol parse")


def topic_with_one_record(broker) -> str:
    topic = unique_topic("wire")
    create_topic(broker, topic, 1)
    r = produce_raw(broker.bootstrap, topic, 0, build_batch([(b"k", b"only")]))
    assert (r.error_code, r.base_offset) == (0, 0)
    return topic


# ---------------------------------------------------------------------------------------------
# Fetch: records of an errored partition
# ---------------------------------------------------------------------------------------------

class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        value = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value[0] if len(value) == 1 else value

    def uvarint(self) -> int:
        value = shift = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    def skip_tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.pos += self.uvarint()


def first_partition_records(frame: bytes, version: int) -> tuple[int, bytes | None]:
    """(error_code, records) of the first partition of the first topic of a Fetch v11 or v12
    response frame (response header included), read from the raw bytes: None when the records
    field is null (v11: INT32 -1; v12: COMPACT_RECORDS length 0), b"" when it is empty."""
    assert version in (11, 12)
    flexible = version >= 12
    r = Reader(frame)
    r.take(">i")                                   # correlation id
    if flexible:
        r.skip_tags()
    r.take(">ihi")                                 # throttle_time_ms, error_code, session_id
    topics = r.uvarint() - 1 if flexible else r.take(">i")
    assert topics >= 1, f"no topic in the response: {frame.hex()}"
    name_len = r.uvarint() - 1 if flexible else r.take(">h")
    r.pos += name_len
    partitions = r.uvarint() - 1 if flexible else r.take(">i")
    assert partitions >= 1, f"no partition in the response: {frame.hex()}"
    _, error = r.take(">ih")                       # partition index, error code
    r.take(">qqq")                                 # high watermark, last stable offset, log start offset
    aborted = r.uvarint() - 1 if flexible else r.take(">i")
    for _ in range(max(aborted, 0)):
        r.take(">qq")
        if flexible:
            r.skip_tags()
    r.take(">i")                                   # preferred read replica
    length = r.uvarint() - 1 if flexible else r.take(">i")
    if length < 0:
        return error, None
    return error, frame[r.pos:r.pos + length]


@pytest.mark.parametrize("version", [11, 12], ids=["v11-kcat", "v12-librdkafka"])
def test_fetch_out_of_range_partition_has_empty_not_null_records(broker, version):
    """A Fetch at offset 1000 of a partition holding one record: OFFSET_OUT_OF_RANGE with an empty
    records field (v11 INT32 0, v12 unsigned varint 1), as Kafka writes it; never null."""
    lo, hi = api_versions(broker.bootstrap)[FetchRequest.API_KEY]
    assert lo <= version <= hi, f"broker does not support Fetch v{version} ({lo}..{hi})"
    topic = topic_with_one_record(broker)
    with Wire(broker.bootstrap) as w:
        correlation = w.send(fetch_request(topic, 0, 1000, max_bytes=1 << 20), version)
        frame = w.recv_frame(10)
    assert struct.unpack_from(">i", frame)[0] == correlation
    error, records = first_partition_records(frame, version)
    assert error == OFFSET_OUT_OF_RANGE, f"error {error}, expected OFFSET_OUT_OF_RANGE (1)"
    assert records is not None, (f"Fetch v{version}: the errored partition's records field is null "
                                 f"(Kafka sends empty records; librdkafka fails to parse null)")
    assert records == b""
    # kafka-python's decoder keeps null and empty apart too (None vs b"").
    decoded = FetchResponse.decode(frame, version=version, header=True).responses[0].partitions[0]
    assert decoded.records == b"" and decoded.records is not None


class StderrScan:
    """librdkafka's log lines, which it writes to the process's stderr (fd 2, captured by capfd):
    it logs an offset reset due to an error at LOG_WARNING and a protocol parse failure at LOG_ERR.
    (Not through confluent-kafka's 'logger': a flood of log events keeps consume() from returning.)"""

    def __init__(self, capfd):
        self.capfd = capfd
        self.reset_seen = False
        self.parse_errors = 0
        self.first_parse_error: str | None = None

    def scan(self):
        for line in self.capfd.readouterr().err.splitlines():
            if "offset reset" in line:
                self.reset_seen = True
            if any(p in line for p in PARSE_ERRORS):
                self.parse_errors += 1
                self.first_parse_error = self.first_parse_error or line
        return self

    def describe(self) -> str:
        return f"{self.parse_errors} protocol parse failure lines, the first: {self.first_parse_error!r}"


def test_confluent_consumer_past_the_end_resets_and_consumes(broker, capfd):
    """confluent-kafka assigned at offset 1000 of a partition holding 1 record, with
    auto.offset.reset=latest: it gets OFFSET_OUT_OF_RANGE, resets to the end, then receives the 3
    records produced afterwards; librdkafka reports no protocol parse failure on the way."""
    topic = topic_with_one_record(broker)
    log = StderrScan(capfd)
    errors, got = [], []
    c = Consumer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4",
                  "group.id": unique_topic("wire-ck"), "enable.auto.commit": False,
                  "auto.offset.reset": "latest", "fetch.wait.max.ms": 100, "error_cb": errors.append})

    def poll(seconds: float):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for m in c.consume(num_messages=10, timeout=0.1):
                if m.error():
                    errors.append(m.error())
                else:
                    got.append((m.offset(), m.value()))
            if len(got) >= 3:
                return

    try:
        c.assign([TopicPartition(topic, 0, 1000)])
        deadline = time.monotonic() + 10
        while not log.scan().reset_seen and time.monotonic() < deadline:
            poll(0.2)
        assert log.reset_seen, f"no 'offset reset' log line from librdkafka within 10s; {log.describe()}"
        poll(1.5)  # the reset to END queries the end offset, then fetches from there
        for i in range(3):
            assert produce_raw(broker.bootstrap, topic, 0, build_batch([(b"k", f"new-{i}".encode())])).error_code == 0
        poll(20)
    finally:
        c.close()
    log.scan()
    assert got == [(1, b"new-0"), (2, b"new-1"), (3, b"new-2")], (
        f"records received: {got}; errors: {errors[:5]}; {log.describe()}")
    assert log.parse_errors == 0, log.describe()
    bad = [e for e in errors if any(p in str(e) for p in PARSE_ERRORS)]
    assert not bad, f"parse errors reported to the application: {bad[:3]}"


class StreamLines(threading.Thread):
    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines = stream, []

    def run(self):
        for line in iter(self.stream.readline, ""):
            if len(self.lines) < 5000:
                self.lines.append(line.rstrip("\n"))

    def seen(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def count(self, texts) -> int:
        return sum(1 for line in list(self.lines) if any(t in line for t in texts))


def test_kcat_past_the_end_resets_and_consumes(broker):
    """kcat (librdkafka 2.0.2, Fetch v11) started at absolute offset 1000 of a partition holding 1
    record with auto.offset.reset=latest: it resets to the end and prints the 3 records produced
    afterwards, then exits 0 (-c 3)."""
    topic = topic_with_one_record(broker)
    cmd = [kcat_binary(), "-C", "-b", broker.bootstrap, "-X", "broker.address.family=v4",
           "-X", "topic.auto.offset.reset=latest", "-X", "fetch.wait.max.ms=100", "-X", "debug=fetch",
           "-t", topic, "-p", "0", "-o", "1000", "-c", "3", "-f", "%o %s\\n"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, errors="replace")
    err = StreamLines(proc.stderr)
    err.start()
    try:
        try:
            wait_until(lambda: err.seen("offset reset") or proc.poll() is not None, timeout=10, interval=0.05,
                       message="kcat's 'offset reset' log line")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {err.count(PARSE_ERRORS)} protocol parse failure lines, e.g. "
                                 f"{next((l for l in err.lines if 'MessageSetSize' in l), None)!r}") from None
        assert proc.poll() is None, f"kcat exited early ({proc.returncode}): {err.lines[-5:]}"
        time.sleep(1.5)  # the reset queries the end offset, then fetches from there
        for i in range(3):
            assert produce_raw(broker.bootstrap, topic, 0, build_batch([(b"k", f"kc-{i}".encode())])).error_code == 0
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate(timeout=10)
            pytest.fail(f"kcat did not receive 3 records within 20s; stdout {out!r}; "
                        f"{err.count(PARSE_ERRORS)} protocol parse failure lines")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        err.join(5)
    assert proc.returncode == 0, f"kcat exited {proc.returncode}: {err.lines[-5:]}"
    assert out.splitlines() == ["1 kc-0", "2 kc-1", "3 kc-2"]
    assert err.count(PARSE_ERRORS) == 0, [l for l in err.lines if any(p in l for p in PARSE_ERRORS)][:3]


# ---------------------------------------------------------------------------------------------
# OffsetCommit for a topic or partition that does not exist
# ---------------------------------------------------------------------------------------------

def offset_commit_raw(bootstrap: str, group: str, offsets: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """A stand-alone OffsetCommit (generation -1, no member); returns {(topic, partition): error}."""
    v = pick_version(api_versions(bootstrap), OffsetCommitRequest, 2, 8)
    T_ = OffsetCommitRequest.OffsetCommitRequestTopic
    by_topic: dict[str, list] = {}
    for (topic, partition), offset in offsets.items():
        by_topic.setdefault(topic, []).append(T_.OffsetCommitRequestPartition(
            partition_index=partition, committed_offset=offset, committed_leader_epoch=-1,
            committed_metadata="", commit_timestamp=-1))
    req = OffsetCommitRequest(group_id=group, generation_id_or_member_epoch=-1, member_id="",
                              group_instance_id=None, retention_time_ms=-1,
                              topics=[T_(name=t, partitions=ps) for t, ps in by_topic.items()])
    with Wire(bootstrap) as w:
        resp = w.request(req, v, OffsetCommitResponse)
    return {(t.name, p.partition_index): p.error_code for t in resp.topics for p in t.partitions}


def committed_raw(bootstrap: str, group: str, topic: str, partition: int) -> int:
    v = pick_version(api_versions(bootstrap), OffsetFetchRequest, 1, 7)
    T_ = OffsetFetchRequest.OffsetFetchRequestTopic
    req = OffsetFetchRequest(group_id=group, topics=[T_(name=topic, partition_indexes=[partition])],
                             require_stable=False)
    with Wire(bootstrap) as w:
        resp = w.request(req, v, OffsetFetchResponse)
    ((p,),) = [t.partitions for t in resp.topics]
    assert p.error_code == 0, p
    return p.committed_offset


def assert_topic_absent(bootstrap: str, topic: str):
    md = metadata(bootstrap, [topic], auto_create=False)
    codes = {t.name: t.error_code for t in md.topics}
    assert codes.get(topic) == UNKNOWN_TOPIC_OR_PARTITION, (
        f"topic {topic} exists after an OffsetCommit for it (metadata error {codes.get(topic)})")


def test_offset_commit_raw_unknown_topic_and_partition(broker):
    existing = topic_with_one_record(broker)      # one partition
    missing = unique_topic("missing")
    group = unique_topic("wire-group")
    codes = offset_commit_raw(broker.bootstrap, group, {(missing, 0): 5, (existing, 7): 5, (existing, 0): 1})
    assert codes == {(missing, 0): UNKNOWN_TOPIC_OR_PARTITION, (existing, 7): UNKNOWN_TOPIC_OR_PARTITION,
                     (existing, 0): 0}, f"per-partition errors {codes}"
    assert committed_raw(broker.bootstrap, group, existing, 0) == 1
    assert_topic_absent(broker.bootstrap, missing)
    assert len(metadata(broker.bootstrap, [existing]).topics[0].partitions) == 1


@pytest.fixture
def kp_consumer(broker):
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=unique_topic("wire-kp"),
                      enable_auto_commit=False, allow_auto_create_topics=False, request_timeout_ms=10000,
                      retry_backoff_ms=100)
    yield c
    c.close()


@pytest.mark.parametrize("what", ["missing-topic", "partition-beyond-count"])
def test_kafka_python_commit_unknown_topic_or_partition(broker, kp_consumer, caplog, what):
    existing = topic_with_one_record(broker)
    missing = unique_topic("missing")
    tp = KpTopicPartition(missing, 0) if what == "missing-topic" else KpTopicPartition(existing, 3)
    caplog.set_level(logging.ERROR, logger="kafka")
    with pytest.raises(KpKafkaError) as info:
        kp_consumer.commit({tp: OffsetAndMetadata(5, None, -1)}, timeout_ms=1500)
    # kafka-python treats the error as retriable: it retries until timeout_ms, logging the error
    # code each time, then raises KafkaTimeoutError.
    named = "UnknownTopicOrPartition" in repr(info.value) or any(
        "UnknownTopicOrPartition" in r.getMessage() for r in caplog.records)
    assert named, f"the commit failed ({info.value!r}) but not with UNKNOWN_TOPIC_OR_PARTITION"
    assert_topic_absent(broker.bootstrap, missing)
    # Control: the same consumer commits to an existing partition and reads it back.
    good = KpTopicPartition(existing, 0)
    kp_consumer.commit({good: OffsetAndMetadata(1, None, -1)}, timeout_ms=10000)
    assert kp_consumer.committed(good) == 1


@pytest.mark.parametrize("what", ["missing-topic", "partition-beyond-count"])
def test_confluent_commit_unknown_topic_or_partition(broker, what):
    existing = topic_with_one_record(broker)
    missing = unique_topic("missing")
    tp = TopicPartition(missing, 0, 5) if what == "missing-topic" else TopicPartition(existing, 3, 5)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4",
                  "group.id": unique_topic("wire-ck"), "enable.auto.commit": False,
                  "allow.auto.create.topics": False})
    try:
        try:
            result = c.commit(offsets=[tp], asynchronous=False)
        except KafkaException as exc:
            code = exc.args[0].code()
        else:
            errs = [p.error for p in result if p.error is not None]
            code = errs[0].code() if errs else None
        assert code == KafkaError.UNKNOWN_TOPIC_OR_PART, (
            f"commit of {tp.topic} [{tp.partition}]: error {code}, expected UNKNOWN_TOPIC_OR_PART (3)")
        assert_topic_absent(broker.bootstrap, missing)
        # Control: a commit to an existing partition works and is fetched back.
        ok = c.commit(offsets=[TopicPartition(existing, 0, 1)], asynchronous=False)
        assert all(p.error is None for p in ok), ok
        (back,) = c.committed([TopicPartition(existing, 0)], timeout=10)
        assert (back.error, back.offset) == (None, 1)
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# message.format.version
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kp_admin(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    yield admin
    admin.close()


@pytest.fixture(scope="module")
def ck_admin(broker):
    handle = Released(AdminClient({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4"}))
    yield handle
    handle.release()


def described(kp_admin, topic: str, key: str = "message.format.version"):
    res = kp_admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, {key: None})],
                                    config_filter="all")
    entry = res["topic"][topic].get(key)
    return None if entry is None else entry["value"]


def ck_described(ck_admin, topic: str, key: str = "message.format.version"):
    (future,) = ck_admin.describe_configs([CkConfigResource(ResourceType.TOPIC, topic)]).values()
    entry = future.result(timeout=10).get(key)
    return None if entry is None else entry.value


@pytest.mark.parametrize("incremental", [False, True], ids=["AlterConfigs", "IncrementalAlterConfigs"])
def test_kafka_python_alter_message_format_version(broker, kp_admin, incremental):
    topic = unique_topic("mfv")
    create_topic(broker, topic, 1)
    try:
        res = kp_admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                     configs={"message.format.version": "2.8"})],
                                     incremental=incremental)
    except ValueError as exc:
        # kafka-python first checks the key against the topic's dynamic configs in DescribeConfigs.
        raise AssertionError(f"kafka-python refused before sending: {exc} (DescribeConfigs does not list "
                             f"message.format.version as a topic config)") from None
    assert res == {"topic": {topic: "OK"}}, res
    assert described(kp_admin, topic) == "2.8"


def test_confluent_incremental_alter_message_format_version(broker, ck_admin):
    topic = unique_topic("mfv")
    create_topic(broker, topic, 1)
    resource = CkConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("message.format.version", "3.0-IV1", incremental_operation=AlterConfigOpType.SET)])
    (future,) = ck_admin.incremental_alter_configs([resource]).values()
    future.result(timeout=10)
    assert ck_described(ck_admin, topic) == "3.0-IV1"


def test_message_format_version_not_a_version_is_invalid_config(broker, kp_admin, ck_admin):
    topic = unique_topic("mfv")
    create_topic(broker, topic, 1)
    resource = CkConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("message.format.version", "banana", incremental_operation=AlterConfigOpType.SET)])
    (future,) = ck_admin.incremental_alter_configs([resource]).values()
    with pytest.raises(KafkaException) as info:
        future.result(timeout=10)
    assert info.value.args[0].code() == KafkaError.INVALID_CONFIG, info.value
    res = kp_admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                 configs={"message.format.version": "banana"})],
                                 incremental=False, raise_on_unknown=False)
    assert str(res["topic"][topic]).startswith(f"[Error {INVALID_CONFIG}]"), res
    assert described(kp_admin, topic) != "banana"


@pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka"])
def test_create_topic_with_message_format_version(broker, kp_admin, ck_admin, client):
    topic = unique_topic("mfv-create")
    if client == "kafka-python":
        kp_admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1,
                                        "configs": {"message.format.version": "2.8"}}})
    else:
        (future,) = ck_admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1,
                                                     config={"message.format.version": "2.8"})]).values()
        future.result(timeout=10)
    wait_until(lambda: metadata(broker.bootstrap, [topic]).topics[0].error_code == 0, timeout=10,
               message=f"topic {topic} in metadata")
    assert described(kp_admin, topic) == "2.8"
