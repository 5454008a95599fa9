"""kafka-python 3.0.12: topics, keyed/header/null records, every codec, assign + seek + times."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from interop import CODEC_ID, CODECS, fetch_codecs, past_timestamps, unique_topic

CLIENT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def admin(broker):
    client = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=CLIENT_TIMEOUT_MS,
                              client_id="interop-kp-admin")
    yield client
    client.close()


def create_topic(admin, name: str, partitions: int, configs: dict | None = None):
    admin.create_topics({name: {"num_partitions": partitions, "replication_factor": 1,
                                "configs": configs or {}}}, wait_for_metadata=True)


def producer(broker, **kw) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=broker.bootstrap, request_timeout_ms=CLIENT_TIMEOUT_MS,
                         max_block_ms=CLIENT_TIMEOUT_MS, linger_ms=20, client_id="interop-kp-producer", **kw)


def consumer(broker) -> KafkaConsumer:
    return KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None, enable_auto_commit=False,
                         auto_offset_reset="earliest", fetch_max_wait_ms=100,
                         request_timeout_ms=CLIENT_TIMEOUT_MS, client_id="interop-kp-consumer")


def read(c: KafkaConsumer, count: int, timeout: float = 15.0) -> dict[int, list]:
    """Polls until count records arrived (bounded); then one short poll must bring nothing more."""
    got = defaultdict(list)
    total = 0
    deadline = time.monotonic() + timeout
    while total < count and time.monotonic() < deadline:
        for tp, records in c.poll(timeout_ms=200).items():
            got[tp.partition].extend(records)
            total += len(records)
    assert total == count, f"expected {count} records, got {total} within {timeout}s"
    extra = sum(len(r) for r in c.poll(timeout_ms=300).values())
    assert extra == 0, f"{extra} records beyond the expected {count}"
    return got


def send_all(p: KafkaProducer, topic: str, records: list[dict]) -> list:
    """Sends records (dicts of key/value/headers/partition/timestamp_ms); returns RecordMetadata."""
    futures = [p.send(topic, key=r.get("key"), value=r.get("value"), headers=r.get("headers"),
                      partition=r.get("partition"), timestamp_ms=r.get("timestamp_ms"))
               for r in records]
    p.flush(timeout=CLIENT_TIMEOUT_MS / 1000)
    return [f.get(timeout=CLIENT_TIMEOUT_MS / 1000) for f in futures]


def test_create_topic_with_partitions(broker, admin):
    topic = unique_topic("kp-create")
    create_topic(admin, topic, 6)
    assert topic in admin.list_topics()
    (desc,) = admin.describe_topics([topic])
    assert desc["error_code"] == 0
    assert desc["name"] == topic
    assert sorted(p["partition_index"] for p in desc["partitions"]) == list(range(6))
    brokers = {b["broker_id"] for b in admin.describe_cluster()["brokers"]}
    for p in desc["partitions"]:
        assert p["error_code"] == 0
        assert p["leader_id"] in brokers
        assert p["replica_nodes"] == [p["leader_id"]]


def test_keyed_records_land_in_one_partition_each(broker, admin):
    topic = unique_topic("kp-keys")
    create_topic(admin, topic, 5)
    keys = [f"key-{i}".encode() for i in range(12)]
    records = [{"key": keys[i % len(keys)], "value": f"value-{i}".encode()} for i in range(120)]
    p = producer(broker)
    try:
        metas = send_all(p, topic, records)
    finally:
        p.close(timeout=5)
    by_key = defaultdict(set)
    for r, m in zip(records, metas):
        by_key[r["key"]].add(m.partition)
    assert all(len(parts) == 1 for parts in by_key.values()), dict(by_key)
    assert len({next(iter(s)) for s in by_key.values()}) > 1, "12 keys all hashed to one partition"

    c = consumer(broker)
    try:
        c.assign([TopicPartition(topic, i) for i in range(5)])
        got = read(c, len(records))
    finally:
        c.close()
    # Every record sits exactly where the produce response put it.
    at = {(part, rec.offset): rec for part, recs in got.items() for rec in recs}
    for r, m in zip(records, metas):
        rec = at[(m.partition, m.offset)]
        assert (rec.key, rec.value) == (r["key"], r["value"])
    for part, recs in got.items():
        assert [x.offset for x in recs] == list(range(len(recs))), f"partition {part} not contiguous"


def test_headers_null_values_and_null_keys(broker, admin):
    topic = unique_topic("kp-headers")
    create_topic(admin, topic, 1)
    records = [
        {"key": b"k0", "value": b"v0", "headers": [("h1", b"a"), ("h2", b"")]},
        {"key": b"k1", "value": None, "headers": []},                                  # tombstone
        {"key": None, "value": b"no key", "headers": [("dup", b"1"), ("dup", b"2")]},  # repeated key
        {"key": b"k3", "value": b"", "headers": [("utf8-\u00e9", "\u00fc".encode())]},
        {"key": b"k4", "value": None, "headers": [("only", b"headers")]},          # null value + header
    ]
    for r in records:
        r["partition"] = 0
    p = producer(broker)
    try:
        metas = send_all(p, topic, records)
    finally:
        p.close(timeout=5)
    assert [m.offset for m in metas] == list(range(len(records)))

    c = consumer(broker)
    try:
        c.assign([TopicPartition(topic, 0)])
        got = read(c, len(records))[0]
    finally:
        c.close()
    for r, rec in zip(records, got):
        assert rec.key == r["key"]
        assert rec.value == r["value"]
        assert [(k, v) for k, v in rec.headers] == r["headers"]


PARTITIONS, PER_PARTITION = 3, 40


@pytest.fixture(scope="module", params=CODECS)
def codec_topic(request, broker, admin):
    """A 3-partition topic holding 40 records per partition produced with one codec."""
    codec = request.param
    topic = unique_topic(f"kp-{codec}")
    create_topic(admin, topic, PARTITIONS)
    ts = past_timestamps(PER_PARTITION)
    records = [{"partition": part, "key": f"k{part}-{i}".encode(),
                "value": (f"{codec} value {part}/{i} " * 8).encode(),
                "headers": [("seq", str(i).encode()), ("codec", codec.encode())],
                "timestamp_ms": ts[i]}
               for part in range(PARTITIONS) for i in range(PER_PARTITION)]
    p = producer(broker, compression_type=None if codec == "none" else codec)
    try:
        metas = send_all(p, topic, records)
    finally:
        p.close(timeout=5)
    return {"codec": codec, "topic": topic, "records": records, "metas": metas, "ts": ts,
            "tps": [TopicPartition(topic, i) for i in range(PARTITIONS)]}


def expect_partition(have, want):
    assert [x.key for x in have] == [r["key"] for r in want]
    assert [x.value for x in have] == [r["value"] for r in want]
    assert [list(x.headers) for x in have] == [r["headers"] for r in want]
    assert [x.timestamp for x in have] == [r["timestamp_ms"] for r in want]
    assert all(x.timestamp_type == 0 for x in have)  # CreateTime


def test_codec_produce_offsets_and_stored_codec(broker, codec_topic):
    ct = codec_topic
    for r, m in zip(ct["records"], ct["metas"]):
        assert m.partition == r["partition"]
    for part in range(PARTITIONS):
        offs = [m.offset for r, m in zip(ct["records"], ct["metas"]) if r["partition"] == part]
        assert offs == list(range(PER_PARTITION))
        # compression.type=producer (Kafka's default) keeps the producer's codec.
        assert fetch_codecs(broker.bootstrap, ct["topic"], part) == {CODEC_ID[ct["codec"]]}


def test_codec_consume_from_beginning(broker, codec_topic):
    ct = codec_topic
    c = consumer(broker)
    try:
        c.assign(ct["tps"])
        c.seek_to_beginning()
        got = read(c, len(ct["records"]))
    finally:
        c.close()
    for part in range(PARTITIONS):
        assert [x.offset for x in got[part]] == list(range(PER_PARTITION))
        expect_partition(got[part], [r for r in ct["records"] if r["partition"] == part])


def test_codec_consume_from_offset(broker, codec_topic):
    ct = codec_topic
    tp = ct["tps"][1]
    c = consumer(broker)
    try:
        c.assign([tp])
        c.seek(tp, 17)
        got = read(c, PER_PARTITION - 17)[1]
    finally:
        c.close()
    # A compressed batch is served whole; the client drops the records before 17.
    assert [x.offset for x in got] == list(range(17, PER_PARTITION))
    expect_partition(got, [r for r in ct["records"] if r["partition"] == 1][17:])


TANSU_TIMES = ("ListOffsets by timestamp answers offset 0 with a wall-clock timestamp instead of the "
               "first record whose CreateTime >= the target")


@pytest.mark.tansu_xfail(TANSU_TIMES)
def test_codec_consume_from_timestamp(broker, codec_topic):
    ct = codec_topic
    tps, ts = ct["tps"], ct["ts"]
    c = consumer(broker)
    try:
        # The earliest offset whose timestamp >= the target (per record, also inside a batch).
        found = c.offsets_for_times({tps[2]: ts[11], tps[0]: ts[25] - 1})
        assert (found[tps[2]].offset, found[tps[2]].timestamp) == (11, ts[11])
        assert (found[tps[0]].offset, found[tps[0]].timestamp) == (25, ts[25])
        late = c.offsets_for_times({tps[1]: ts[-1] + 60_000})
        assert late[tps[1]] is None  # no record that late
        c.assign([tps[2]])
        c.seek(tps[2], found[tps[2]].offset)
        got = read(c, PER_PARTITION - 11)[2]
    finally:
        c.close()
    assert [x.offset for x in got] == list(range(11, PER_PARTITION))
    expect_partition(got, [r for r in ct["records"] if r["partition"] == 2][11:])
