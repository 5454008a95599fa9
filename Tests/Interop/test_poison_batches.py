"""Poison batches and decompression bombs.

A broker validates the records of every produced batch on append, as Apache Kafka's LogValidator
does (DefaultRecordBatch's record iterator and DefaultRecord.readFrom): a batch whose CRC-32C is
right but whose records are malformed is refused with INVALID_RECORD (87); CORRUPT_MESSAGE (2)
stays for a CRC that does not match. Nothing of a refused batch is stored: the log end offset does
not move and a consumer reading from offset 0 gets exactly the good records produced around it.

Each poison batch starts from a valid batch built by kafka-python (build_batch): its header is
kept, its records are rewritten (uncompressed, or compressed here with the codec the attributes
name), then recordCount / lastOffsetDelta / batchLength are set and the CRC-32C is recomputed, so
only the records are wrong. A strict Python reading of the records (Kafka's rules, below) checks
that every poison batch really is malformed and every good one is not.

Decompression bombs: a batch of a few records of zeros, small on the wire (far under the topic's
max.message.bytes and socket.request.max.bytes) but over the broker's decompression ceiling of
256 MiB once decompressed, is refused (87 or 2) while the broker's RSS stays bounded; a batch just
under the ceiling is accepted, as Apache Kafka accepts it.
"""

from __future__ import annotations

import itertools
import random
import struct
import time

import pytest
from confluent_kafka import Consumer, KafkaError, TopicPartition
from kafka import KafkaConsumer
from kafka.codec import gzip_decode, lz4_decode, snappy_decode, zstd_decode
from kafka.structs import TopicPartition as KpTopicPartition

from interop import (BATCH_HEADER_SIZE, CORRUPT_MESSAGE, INVALID_RECORD, LATEST, MESSAGE_TOO_LARGE,
                     RECORD_COUNT_AT, ProcessSampler, assert_alive, build_batch, compress, create_topic,
                     decode_values, encode_record, fetch_raw, list_offsets_raw, past_timestamps, produce_raw,
                     rebatch, split_batch, unique_topic, varint)

CODECS = ["gzip", "snappy", "lz4", "zstd"]
PARTITIONS = 64
RSS_LIMIT_MIB = 600
MIB = 1 << 20

# ---------------------------------------------------------------------------------------------
# Kafka's reading of v2 records (DefaultRecord.readFrom + the batch's record iterator), strict:
# used only to check that the poison cases are malformed and the good ones are not.
# ---------------------------------------------------------------------------------------------


class Malformed(Exception):
    pass


def _varint(buf: bytes, pos: int, max_bytes: int = 5) -> tuple[int, int]:
    """A zigzag varint (5 bytes at most, Kafka's int32 varint) or varlong (max_bytes=10)."""
    raw = shift = 0
    for _ in range(max_bytes):
        if pos >= len(buf):
            raise Malformed("varint runs past the end")
        b = buf[pos]
        pos += 1
        raw |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (raw >> 1) ^ -(raw & 1), pos
    raise Malformed(f"varint longer than {max_bytes} bytes")


def _field(body: bytes, pos: int, what: str) -> tuple[bytes | None, int]:
    n, pos = _varint(body, pos)
    if n < 0:
        return None, pos
    if pos + n > len(body):
        raise Malformed(f"{what} length {n} runs past the record")
    return body[pos:pos + n], pos + n


def kafka_read_records(blob: bytes, count: int) -> list[tuple[int, bytes | None, bytes | None]]:
    """(offsetDelta, key, value) of count records filling blob exactly; Malformed otherwise."""
    out = []
    pos = 0
    for i in range(count):
        length, pos = _varint(blob, pos)
        if length < 1 or pos + length > len(blob):
            raise Malformed(f"record {i}: length {length} runs past the batch")
        body = blob[pos:pos + length]
        pos += length
        _, q = _varint(body, 1, max_bytes=10)          # attributes, timestampDelta
        delta, q = _varint(body, q)
        key, q = _field(body, q, "key")
        value, q = _field(body, q, "value")
        headers, q = _varint(body, q)
        if headers < 0 or headers > len(body) - q:
            raise Malformed(f"record {i}: {headers} headers")
        for _ in range(headers):
            _, q = _field(body, q, "header key")
            _, q = _field(body, q, "header value")
        if q != len(body):
            raise Malformed(f"record {i}: {len(body) - q} bytes left inside the record")
        out.append((delta, key, value))
    if pos != len(blob):
        raise Malformed(f"{len(blob) - pos} bytes after the last record")
    return out


def is_malformed(blob: bytes, count: int) -> bool:
    try:
        records = kafka_read_records(blob, count)
    except Malformed:
        return True
    return [r[0] for r in records] != list(range(count))


# ---------------------------------------------------------------------------------------------
# Poison cases
# ---------------------------------------------------------------------------------------------

KINDS = ["garbage", "huge-count", "count-plus-one", "count-minus-one", "length-overrun",
         "key-overrun", "header-count-2^30", "varint-6-bytes", "trailing-junk", "offset-gap",
         "undecompressable"]
COMPRESSED_ONLY = {"undecompressable"}
DECODERS = {"gzip": gzip_decode, "snappy": snappy_decode, "lz4": lz4_decode, "zstd": zstd_decode}


def _body(ts_delta: int, offset_delta: bytes, key_length: bytes, key: bytes, value: bytes,
          header_count: bytes) -> bytes:
    """A record body (after its length varint), each varint given as raw bytes where it matters."""
    return (bytes([0]) + varint(ts_delta) + offset_delta + key_length + key + varint(len(value)) + value
            + header_count)


def poison_batch(kind: str, codec: str) -> tuple[bytes, set[int]]:
    """(the batch, the acceptable error codes) for a poison case."""
    ts = past_timestamps(2)
    recs = [(b"key-0", b"poison-0"), (b"key-1", b"poison-1")]
    header, payload = split_batch(build_batch(recs, ts))
    d1 = ts[1] - ts[0]
    r0 = encode_record(0, 0, *recs[0])
    r1 = encode_record(1, d1, *recs[1])
    assert payload == r0 + r1, "scaffolding: encode_record differs from kafka-python's records"
    assert kafka_read_records(payload, 2) == [(0, b"key-0", b"poison-0"), (1, b"key-1", b"poison-1")]

    expect = {INVALID_RECORD}
    count, last_delta = 2, 1
    if kind == "garbage":                       # records replaced by garbage of the same length
        blob = random.Random(87).randbytes(len(payload))
    elif kind == "huge-count":                  # records unchanged
        blob, count, last_delta = payload, 2**31 - 1, 2**31 - 2
    elif kind == "count-plus-one":
        blob, count, last_delta = payload, 3, 2
    elif kind == "count-minus-one":
        blob, count, last_delta = payload, 1, 0
    elif kind == "length-overrun":              # the last record's length runs past the batch end
        b1 = _body(d1, varint(1), varint(5), b"key-1", b"poison-1", varint(0))
        assert r1 == varint(len(b1)) + b1
        blob = r0 + varint(len(b1) + 64) + b1
    elif kind == "key-overrun":                 # key length 200 inside a record of ~25 bytes
        b1 = _body(d1, varint(1), varint(200), b"key-1", b"poison-1", varint(0))
        blob = r0 + varint(len(b1)) + b1
    elif kind == "header-count-2^30":
        b1 = _body(d1, varint(1), varint(5), b"key-1", b"poison-1", varint(2**30))
        blob = r0 + varint(len(b1)) + b1
    elif kind == "varint-6-bytes":              # offsetDelta 1 as a 6-byte varint (5 continuation bits)
        b1 = _body(d1, b"\x82\x80\x80\x80\x80\x00", varint(5), b"key-1", b"poison-1", varint(0))
        blob = r0 + varint(len(b1)) + b1
    elif kind == "trailing-junk":
        blob = payload + b"\xde\xad\xbe\xef\x00\x00"
    elif kind == "offset-gap":
        # Offset deltas 0, 2 with count 2, lastOffsetDelta 1. Stricter than Apache Kafka, which
        # stores such an uncompressed batch as it is and rebuilds a compressed one with
        # consecutive offsets: a broker that never rewrites batches refuses it instead.
        blob = r0 + encode_record(2, d1, *recs[1])
    elif kind == "undecompressable":            # a payload that is no compressed data at all
        assert codec != "none"
        wire = random.Random(2).randbytes(256)
        try:
            DECODERS[codec](wire)
        except Exception:  # noqa: BLE001 - any failure to decode is what this case needs
            pass
        else:
            raise AssertionError(f"scaffolding: random bytes decode as {codec}")
        return rebatch(header, wire, codec, count, last_delta), {INVALID_RECORD, CORRUPT_MESSAGE}
    else:
        raise AssertionError(kind)
    assert is_malformed(blob, count), f"scaffolding: case {kind} is not malformed"
    wire = blob if codec == "none" else compress(codec, blob)
    return rebatch(header, wire, codec, count, last_delta), expect


CASES = [(kind, codec) for kind in KINDS for codec in ["none"] + CODECS
         if not (codec == "none" and kind in COMPRESSED_ONLY)]
CASE_IDS = [f"{kind}-{codec}" for kind, codec in CASES]
COMPRESSED_CASES = [(k, c) for k, c in CASES if c != "none"]


@pytest.fixture(scope="module")
def plain_topic(broker):
    name = unique_topic("poison")
    create_topic(broker, name, PARTITIONS)
    return {"name": name, "next": itertools.count()}


@pytest.fixture(scope="module")
def compact_topic(broker):
    name = unique_topic("poison-compact")
    create_topic(broker, name, PARTITIONS, {"cleanup.policy": "compact"})
    return {"name": name, "next": itertools.count()}


def take_partition(topic: dict) -> int:
    p = next(topic["next"])
    assert p < PARTITIONS, "scaffolding: more cases than partitions"
    return p


def latest(bootstrap: str, topic: str, partition: int) -> int:
    ((error, offset),) = list_offsets_raw(bootstrap, {topic: [partition]}, LATEST).values()
    assert error == 0, f"ListOffsets latest error {error}"
    return offset


def good_batch(tag: str) -> tuple[bytes, list[bytes]]:
    values = [f"{tag}-0".encode(), f"{tag}-1".encode()]
    return build_batch([(b"key-0", values[0]), (b"key-1", values[1])]), values


def assert_refused_and_nothing_stored(broker, topic: str, partition: int, bad: bytes, expect: set[int],
                                      what: str):
    """good batch, the bad batch (refused with one of expect), good batch: the log end offset does
    not move for the bad one and a fetch from 0 gets exactly the good records, at 0..3."""
    bootstrap = broker.bootstrap
    before, before_values = good_batch(f"{what}-before")
    r = produce_raw(bootstrap, topic, partition, before)
    assert (r.error_code, r.base_offset) == (0, 0), f"good batch: error {r.error_code}"
    leo = latest(bootstrap, topic, partition)
    assert leo == 2

    r = produce_raw(bootstrap, topic, partition, bad)
    assert r.error_code in expect, (f"{what}: the broker answered error {r.error_code}, expected "
                                    f"{' or '.join(map(str, sorted(expect)))} (INVALID_RECORD=87, "
                                    f"CORRUPT_MESSAGE=2)")
    assert_alive(broker)
    assert latest(bootstrap, topic, partition) == leo, f"{what}: the refused batch moved the log end offset"

    after, after_values = good_batch(f"{what}-after")
    r = produce_raw(bootstrap, topic, partition, after)
    assert (r.error_code, r.base_offset) == (0, leo), f"good batch after: {r}"
    p = fetch_raw(bootstrap, topic, partition, 0)
    assert p.error_code == 0
    assert decode_values(p.records) == list(enumerate(before_values + after_values))


@pytest.mark.parametrize("codec", ["none"] + CODECS)
def test_control_rebuilt_batch_is_accepted(broker, plain_topic, codec):
    """Scaffolding check: a well-formed batch rebuilt the way the poison batches are (header from
    build_batch, records compressed here, CRC recomputed) is accepted and read back."""
    ts = past_timestamps(2)
    recs = [(b"key-0", b"control-0"), (b"key-1", b"control-1")]
    header, payload = split_batch(build_batch(recs, ts))
    wire = payload if codec == "none" else compress(codec, payload)
    p = take_partition(plain_topic)
    r = produce_raw(broker.bootstrap, plain_topic["name"], p, rebatch(header, wire, codec))
    assert (r.error_code, r.base_offset) == (0, 0), f"error {r.error_code}"
    fetched = fetch_raw(broker.bootstrap, plain_topic["name"], p, 0)
    assert decode_values(fetched.records) == [(0, b"control-0"), (1, b"control-1")]


@pytest.mark.parametrize("kind,codec", CASES, ids=CASE_IDS)
def test_poison_batch_refused(broker, plain_topic, kind, codec):
    bad, expect = poison_batch(kind, codec)
    assert_refused_and_nothing_stored(broker, plain_topic["name"], take_partition(plain_topic), bad,
                                      expect, f"{kind}/{codec}")


@pytest.mark.parametrize("codec", ["none"] + CODECS)
def test_compacted_topic_refuses_null_key(broker, compact_topic, codec):
    ts = past_timestamps(2)
    header, payload = split_batch(build_batch([(b"key-0", b"v0"), (None, b"v1")], ts))
    wire = payload if codec == "none" else compress(codec, payload)
    assert_refused_and_nothing_stored(broker, compact_topic["name"], take_partition(compact_topic),
                                      rebatch(header, wire, codec), {INVALID_RECORD}, f"null-key/{codec}")


@pytest.mark.parametrize("kind,codec", COMPRESSED_CASES, ids=[f"{k}-{c}" for k, c in COMPRESSED_CASES])
def test_compacted_topic_refuses_malformed_compressed_batch(broker, compact_topic, kind, codec):
    bad, expect = poison_batch(kind, codec)
    assert_refused_and_nothing_stored(broker, compact_topic["name"], take_partition(compact_topic), bad,
                                      expect, f"compacted {kind}/{codec}")


# ---------------------------------------------------------------------------------------------
# Real consumers around refused batches
# ---------------------------------------------------------------------------------------------

def read_confluent(bootstrap: str, topic: str, count: int, timeout: float = 15.0):
    c = Consumer({"bootstrap.servers": bootstrap, "broker.address.family": "v4",
                  "group.id": unique_topic("poison-ck"), "enable.auto.commit": False,
                  "auto.offset.reset": "error", "fetch.wait.max.ms": 100, "enable.partition.eof": True})
    got, errors = [], []
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        deadline = time.monotonic() + timeout
        at_end = False
        while time.monotonic() < deadline and not (at_end and len(got) >= count):
            for m in c.consume(num_messages=100, timeout=0.2):
                if m.error() is None:
                    got.append((m.offset(), m.value()))
                elif m.error().code() == KafkaError._PARTITION_EOF:
                    at_end = True
                else:
                    errors.append(m.error())
        # A short extra poll must bring nothing more.
        got += [(m.offset(), m.value()) for m in c.consume(num_messages=10, timeout=0.3) if m.error() is None]
    finally:
        c.close()
    return got, errors


def read_kafka_python(bootstrap: str, topic: str, timeout: float = 15.0):
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="none", fetch_max_wait_ms=100, request_timeout_ms=10000)
    got = []
    try:
        tp = KpTopicPartition(topic, 0)
        c.assign([tp])
        c.seek(tp, 0)
        end = c.end_offsets([tp])[tp]
        deadline = time.monotonic() + timeout
        while c.position(tp) < end and time.monotonic() < deadline:
            for records in c.poll(timeout_ms=200).values():
                got += [(r.offset, r.value) for r in records]
        got += [(r.offset, r.value) for rs in c.poll(timeout_ms=300).values() for r in rs]
    finally:
        c.close()
    return got


def test_consumers_get_exactly_the_good_records(broker):
    """good records, every poison case (uncompressed and each codec), good records: every poison
    batch refused, and confluent-kafka and kafka-python reading from 0 get the good ones only."""
    topic = unique_topic("poison-consume")
    create_topic(broker, topic, 1)
    before, before_values = good_batch("first")
    assert produce_raw(broker.bootstrap, topic, 0, before).error_code == 0
    accepted = {}
    for kind, codec in CASES:
        bad, expect = poison_batch(kind, codec)
        code = produce_raw(broker.bootstrap, topic, 0, bad).error_code
        if code not in expect:
            accepted[f"{kind}/{codec}"] = code
    after, after_values = good_batch("last")
    assert produce_raw(broker.bootstrap, topic, 0, after).error_code == 0
    assert not accepted, f"poison batches not refused (case: error code): {accepted}"

    want = list(enumerate(before_values + after_values))
    assert latest(broker.bootstrap, topic, 0) == len(want)
    got, errors = read_confluent(broker.bootstrap, topic, len(want))
    assert not errors, f"confluent-kafka consumer errors: {errors[:5]}"
    assert got == want, "confluent-kafka read other records than the good ones"
    assert read_kafka_python(broker.bootstrap, topic) == want, "kafka-python read other records than the good ones"


# ---------------------------------------------------------------------------------------------
# Decompression bombs
# ---------------------------------------------------------------------------------------------

# The 256 MiB decompression ceiling is the broker's own limit (Apache Kafka streams the records and
# has none); a batch under it must be accepted as Kafka accepts it.
BOMB_CODECS = ["gzip", "snappy", "snappy-raw", "lz4", "zstd"]
BOMB_RECORD = 100 * MIB
MAX_MESSAGE_BYTES = 32 * MIB     # topic max.message.bytes: a snappy bomb is ~15 MiB on the wire
SOCKET_REQUEST_MAX_BYTES = 100 * MIB
CEILING = 256 * MIB


def zero_records(n: int, ts: list[int], key_prefix: str) -> bytes:
    zeros = bytes(BOMB_RECORD)
    return b"".join(encode_record(i, ts[i] - ts[0], f"{key_prefix}-{i}".encode(), zeros) for i in range(n))


@pytest.fixture(scope="module")
def bomb():
    """(header, records) of 3 records of 100 MiB of zeros each: ~300 MiB uncompressed."""
    ts = past_timestamps(3)
    header, _ = split_batch(build_batch([(f"bomb-{i}".encode(), b"") for i in range(3)], ts))
    records = zero_records(3, ts, "bomb")
    assert len(records) > CEILING
    yield header, records
    del records


@pytest.mark.parametrize("codec", BOMB_CODECS)
def test_decompression_bomb_refused_with_bounded_memory(own_broker, bomb, codec):
    header, records = bomb
    topic = unique_topic(f"bomb-{codec}")
    create_topic(own_broker, topic, 1, {"max.message.bytes": str(MAX_MESSAGE_BYTES)})
    batch = rebatch(header, compress(codec, records), codec)
    assert len(batch) < min(MAX_MESSAGE_BYTES, SOCKET_REQUEST_MAX_BYTES) // 2, (
        f"scaffolding: the {codec} bomb is {len(batch)} bytes on the wire")

    with ProcessSampler(own_broker.proc.pid, interval=0.02) as rss:
        r = produce_raw(own_broker.bootstrap, topic, 0, batch, timeout=60)
    assert_alive(own_broker)
    assert r.error_code != MESSAGE_TOO_LARGE, "refused for its wire size, not for what it decompresses to"
    assert r.error_code in (INVALID_RECORD, CORRUPT_MESSAGE), (
        f"{codec} bomb ({len(batch)} bytes on the wire, {len(records) / MIB:.0f} MiB decompressed, over "
        f"the 256 MiB ceiling): the broker answered error {r.error_code}, expected INVALID_RECORD (87) or "
        f"CORRUPT_MESSAGE (2)")
    assert rss.max_rss_mib < RSS_LIMIT_MIB, (
        f"broker RSS peaked at {rss.max_rss_mib:.0f} MiB (from {rss.baseline_rss / MIB:.0f} MiB) while "
        f"refusing a {codec} bomb, limit {RSS_LIMIT_MIB} MiB")
    assert latest(own_broker.bootstrap, topic, 0) == 0
    good, values = good_batch("after-bomb")
    r = produce_raw(own_broker.bootstrap, topic, 0, good)
    assert (r.error_code, r.base_offset) == (0, 0)


def test_batch_just_under_the_ceiling_is_accepted_with_bounded_memory(own_broker):
    """~200 MiB of zeros in 2 keyed records, zstd, on a compacted topic (whose keys the broker must
    read): Apache Kafka accepts it, so must the broker, and ListOffsets by timestamp, which has to
    look inside the batch, answers the right offsets; RSS stays under the limit throughout."""
    topic = unique_topic("bomb-under")
    create_topic(own_broker, topic, 1, {"max.message.bytes": str(MAX_MESSAGE_BYTES),
                                        "cleanup.policy": "compact"})
    ts = past_timestamps(4)
    r = produce_raw(own_broker.bootstrap, topic, 0, build_batch([(b"a", b"1"), (b"b", b"2")], ts[:2]))
    assert (r.error_code, r.base_offset) == (0, 0)

    header, _ = split_batch(build_batch([(b"big-0", b""), (b"big-1", b"")], ts[2:]))
    records = zero_records(2, ts[2:], "big")
    assert 200 * MIB < len(records) < CEILING
    batch = rebatch(header, compress("zstd", records), "zstd")
    del records
    with ProcessSampler(own_broker.proc.pid, interval=0.02) as rss:
        r = produce_raw(own_broker.bootstrap, topic, 0, batch, timeout=60)
    assert_alive(own_broker)
    assert r.error_code == 0, (f"a zstd batch decompressing to ~200 MiB (under the 256 MiB ceiling) was "
                               f"refused with error {r.error_code}; Apache Kafka accepts it")
    assert r.base_offset == 2
    assert rss.max_rss_mib < RSS_LIMIT_MIB, (
        f"broker RSS peaked at {rss.max_rss_mib:.0f} MiB (from {rss.baseline_rss / MIB:.0f} MiB) while "
        f"appending the batch, limit {RSS_LIMIT_MIB} MiB")

    with ProcessSampler(own_broker.proc.pid, interval=0.02) as rss:
        first = list_offsets_raw(own_broker.bootstrap, {topic: [0]}, ts[2])[(topic, 0)]
        second = list_offsets_raw(own_broker.bootstrap, {topic: [0]}, ts[3])[(topic, 0)]
    assert_alive(own_broker)
    assert first == (0, 2), f"ListOffsets for the first big record's timestamp: {first}"
    assert second == (0, 3), f"ListOffsets for the second big record's timestamp: {second}"
    assert rss.max_rss_mib < RSS_LIMIT_MIB, (
        f"broker RSS peaked at {rss.max_rss_mib:.0f} MiB (from {rss.baseline_rss / MIB:.0f} MiB) during "
        f"ListOffsets by timestamp, limit {RSS_LIMIT_MIB} MiB")
    assert latest(own_broker.bootstrap, topic, 0) == 4


COMPACTION_RSS_LIMIT_MIB = 720   # ~1.5x the measured peak (~475 MiB, debug build)


def _first_batch_record_count(segment) -> int | None:
    """recordCount of the first batch in a segment file (None while it is absent or short)."""
    try:
        with open(segment, "rb") as f:
            header = f.read(BATCH_HEADER_SIZE)
    except FileNotFoundError:
        return None
    if len(header) < BATCH_HEADER_SIZE:
        return None
    return struct.unpack_from(">i", header, RECORD_COUNT_AT)[0]


@pytest.mark.broker_settings({"log.retention.check.interval.ms": "1000"})
def test_compaction_of_batch_just_under_the_ceiling_keeps_memory_bounded(own_broker):
    """A zstd batch of 2 records, k1 and k2, each 100 MiB of zeros (~200 MiB decompressed, under
    the 256 MiB ceiling), then k1 overwritten by a small batch that rolls the segment: the log
    cleaner (run every second with log.retention.check.interval.ms=1000; segment.bytes is the big
    batch's size, so the next batch rolls and the big one's segment becomes inactive, and
    min.compaction.lag.ms=0) rewrites the big batch without k1's old record. The broker's RSS stays
    under 720 MiB from the produce to the end of the read: measured ~475 MiB peak with the debug
    build, almost all of it in the cleaner (the append alone stays near 40 MiB); 720 is ~1.5x that.
    A confluent-kafka consumer from offset 0 then gets k2's 100 MiB of zeros at 1 and k1 = b"new"
    at 2, and nothing at 0."""
    ts = past_timestamps(3)
    header, _ = split_batch(build_batch([(b"k1", b""), (b"k2", b"")], ts[:2]))
    records = b"".join(encode_record(i, ts[i] - ts[0], key, bytes(BOMB_RECORD))
                       for i, key in enumerate([b"k1", b"k2"]))
    assert 200 * MIB < len(records) < CEILING
    big = rebatch(header, compress("zstd", records), "zstd")
    del records

    topic = unique_topic("compact-under")
    create_topic(own_broker, topic, 1, {"cleanup.policy": "compact", "max.message.bytes": str(10 * MIB),
                                        "segment.bytes": str(len(big)), "min.compaction.lag.ms": "0"})
    segment = own_broker.data_dir / f"{topic}-0" / "00000000000000000000.log"
    started = time.monotonic()
    with ProcessSampler(own_broker.proc.pid, interval=0.02) as rss:
        r = produce_raw(own_broker.bootstrap, topic, 0, big, timeout=60)
        assert (r.error_code, r.base_offset) == (0, 0), f"the ~200 MiB zstd batch: error {r.error_code}"
        r = produce_raw(own_broker.bootstrap, topic, 0, build_batch([(b"k1", b"new")], ts[2:]))
        assert (r.error_code, r.base_offset) == (0, 2), f"the overwriting batch: {r}"
        assert _first_batch_record_count(segment) == 2, f"scaffolding: {segment} does not hold the big batch"

        deadline = time.monotonic() + 60
        while _first_batch_record_count(segment) != 1 and time.monotonic() < deadline:
            assert_alive(own_broker)
            time.sleep(0.2)
        compacted_after = time.monotonic() - started
        assert_alive(own_broker)
        assert _first_batch_record_count(segment) == 1, (
            f"the big batch's segment was not compacted within 60 s (first batch holds "
            f"{_first_batch_record_count(segment)} records); log tail:\n{own_broker.log_tail()}")

        c = Consumer({"bootstrap.servers": own_broker.bootstrap, "broker.address.family": "v4",
                      "group.id": unique_topic("compact-under-ck"), "enable.auto.commit": False,
                      "auto.offset.reset": "error", "fetch.wait.max.ms": 100, "enable.partition.eof": True,
                      "fetch.max.bytes": 256 * MIB, "max.partition.fetch.bytes": 256 * MIB,
                      "receive.message.max.bytes": 512 * MIB})
        got, errors = [], []
        try:
            c.assign([TopicPartition(topic, 0, 0)])
            deadline = time.monotonic() + 20
            at_end = False
            while time.monotonic() < deadline and not at_end:
                for m in c.consume(num_messages=10, timeout=0.2):
                    if m.error() is None:
                        value = m.value()
                        # Only a summary of a big value is kept.
                        got.append((m.offset(), m.key(), len(value),
                                    value.count(0) == len(value) if len(value) > 100 else value))
                        del value, m
                    elif m.error().code() == KafkaError._PARTITION_EOF:
                        at_end = True
                    else:
                        errors.append(m.error())
        finally:
            c.close()
    assert_alive(own_broker)
    assert not errors, f"confluent-kafka consumer errors: {errors[:5]}"
    assert got == [(1, b"k2", BOMB_RECORD, True), (2, b"k1", 3, b"new")], (
        f"read after compaction (offset, key, value length, all zeros or value): {got}")
    assert rss.max_rss_mib < COMPACTION_RSS_LIMIT_MIB, (
        f"broker RSS peaked at {rss.max_rss_mib:.0f} MiB (from {rss.baseline_rss / MIB:.0f} MiB) while "
        f"appending, compacting (done {compacted_after:.1f} s after the produce) and serving the "
        f"~200 MiB batch, limit {COMPACTION_RSS_LIMIT_MIB} MiB")
