"""Helpers shared by the interop tests: names, bounded waits, raw Kafka wire access."""

from __future__ import annotations

import gc
import os
import resource
import shutil
import socket
import struct
import threading
import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaAdminClient
from kafka.protocol.admin import (CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest,
                                  CreateTopicsResponse)
from kafka.protocol.consumer import FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse
from kafka.protocol.producer import ProduceRequest, ProduceResponse
from kafka.codec import gzip_encode, lz4_encode, snappy_encode, zstd_encode
from kafka.record.memory_records import MemoryRecords, MemoryRecordsBuilder
from kafka.record.util import calc_crc32c, encode_varint

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
# RecordBatch attributes bits 0-2 (Kafka's CompressionType ids).
CODEC_ID = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

# Kafka error codes used by the suite (the protocol guide's table).
NONE = 0
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_TOPIC_EXCEPTION = 17
UNSUPPORTED_VERSION = 35
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_REQUEST = 42
INVALID_RECORD = 87

LATEST = -1    # ListOffsets timestamp sentinels
EARLIEST = -2


def unique_topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.1, message: str = "condition"):
    """Polls predicate() until it returns a truthy value (returned) or timeout (AssertionError)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - retried until the deadline, then reported
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {message}{detail}")
        time.sleep(interval)


def past_timestamps(n: int, step_ms: int = 1000) -> list[int]:
    """n strictly increasing CreateTime timestamps in the recent past (inside any broker's
    accepted window: log.message.timestamp.before.max.ms defaults to unbounded)."""
    base = (int(time.time() * 1000) - 10 * 60 * 1000) // 1000 * 1000
    return [base + i * step_ms for i in range(n)]


class Released:
    """Wraps a client whose connections must be gone before the broker stops (a graceful broker
    shutdown may wait for open connections). pytest keeps the last test's fixture values alive
    through teardown, so the fixture releases the client through this handle instead."""

    def __init__(self, client, close=None):
        self._client = client
        self._close = close

    def __getattr__(self, name):
        client = self.__dict__.get("_client")
        if client is None:
            raise RuntimeError("client already released")
        return getattr(client, name)

    def release(self):
        client, self._client = self._client, None
        if client is not None and self._close is not None:
            self._close(client)
        del client
        gc.collect()


# ---------------------------------------------------------------------------------------------
# Raw wire access
# ---------------------------------------------------------------------------------------------

class Disconnected(Exception):
    """The broker closed (or reset) the connection."""


class Wire:
    """One TCP connection speaking Kafka framing; requests built with kafka-python's classes."""

    def __init__(self, bootstrap: str, timeout: float = 5.0, client_id: str = "strait-interop",
                 source: str | None = None):
        """source: the local address to connect from (any 127.x.y.z works on Linux loopback)."""
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.settimeout(timeout)
        self.client_id = client_id
        self.next_correlation = 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data: bytes):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise Disconnected(str(exc)) from exc

    def _recv_exact(self, n: int) -> bytes:
        chunks = []
        while n > 0:
            try:
                chunk = self.sock.recv(min(n, 1 << 20))
            except ConnectionResetError as exc:
                raise Disconnected(str(exc)) from exc
            if not chunk:
                raise Disconnected("EOF")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def recv_frame(self, timeout: float | None = None) -> bytes:
        """The next response frame without its size prefix. Raises Disconnected on EOF/reset and
        socket.timeout when nothing arrives in time."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        size = struct.unpack(">i", self._recv_exact(4))[0]
        assert 0 <= size < 256 * 1024 * 1024, f"implausible response size {size}"
        return self._recv_exact(size)

    def send(self, request, version: int) -> int:
        correlation = self.next_correlation
        self.next_correlation += 1
        request.API_VERSION = version
        request.with_header(correlation_id=correlation, client_id=self.client_id)
        self.send_raw(bytes(request.encode(header=True, framed=True)))
        return correlation

    def request(self, request, version: int, response_class, timeout: float = 10.0):
        correlation = self.send(request, version)
        frame = self.recv_frame(timeout)
        response = response_class.decode(frame, version=version, header=True)
        assert response.header.correlation_id == correlation, (
            f"correlation id {response.header.correlation_id} != {correlation}")
        return response

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """True when the broker closes the connection within timeout (any bytes sent before the
        close are drained and ignored)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
        return False

    def is_open(self) -> bool:
        return socket_is_open(self.sock)


def socket_is_open(sock: socket.socket) -> bool:
    """False when the peer closed or reset the connection; True otherwise (nothing read: any
    pending bytes stay queued). Never waits."""
    previous = sock.gettimeout()
    sock.settimeout(0.0)  # with a timeout set, recv would first wait for readability
    try:
        data = sock.recv(1, socket.MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        return True
    except OSError:
        return False
    finally:
        sock.settimeout(previous)
    return bool(data)


def await_close(sock: socket.socket, timeout: float) -> tuple[bool, bytes]:
    """Reads until the peer closes (or resets) the connection or timeout passes; returns
    (closed, the bytes received meanwhile, at most the first 64 KiB)."""
    received = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, received
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False, received
        except OSError:
            return True, received
        if not chunk:
            return True, received
        if len(received) < 65536:
            received += chunk[:65536 - len(received)]


# ---------------------------------------------------------------------------------------------
# Hand-built frames (for requests kafka-python's classes cannot express: lies, huge counts)
# ---------------------------------------------------------------------------------------------

def header_v1(api_key: int, version: int, correlation: int, client_id: bytes = b"interop") -> bytes:
    """Request header v1: api key, version, correlation id, nullable client id."""
    return struct.pack(">hhih", api_key, version, correlation, len(client_id)) + client_id


def header_v2(api_key: int, version: int, correlation: int, client_id: bytes = b"interop") -> bytes:
    """Request header v2 (flexible versions): header v1 plus empty tagged fields."""
    return header_v1(api_key, version, correlation, client_id) + b"\x00"


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def api_versions_frame(correlation: int) -> bytes:
    """A complete ApiVersions v0 request frame."""
    return frame(header_v1(18, 0, correlation))


def delete_topics_frame(names: int, correlation: int, name: bytes = b"a") -> bytes:
    """DeleteTopics v1 naming the same short topic `names` times (3 bytes per element: 2 million
    names make a 6 MB frame, well inside the 100 MiB socket.request.max.bytes)."""
    body = struct.pack(">i", names) + (struct.pack(">h", len(name)) + name) * names + struct.pack(">i", 1000)
    return frame(header_v1(20, 1, correlation) + body)


def response_error_codes(resp: bytes) -> set[int]:
    """The int16 that would be a response's top-level error code: right after the correlation id
    (response header v0) or after the empty tagged fields of a v1 header."""
    found = {struct.unpack(">h", resp[4:6])[0]} if len(resp) >= 6 else set()
    if len(resp) >= 7 and resp[4] == 0:
        found.add(struct.unpack(">h", resp[5:7])[0])
    return found


def served(bootstrap: str, source: str | None = None, timeout: float = 10.0):
    """A fresh connection gets ApiVersions and Metadata answered."""
    with Wire(bootstrap, timeout=timeout, source=source) as w:
        resp = w.request(ApiVersionsRequest(), 0, ApiVersionsResponse, timeout=timeout)
    assert resp.error_code == 0, f"ApiVersions error {resp.error_code}"
    ranges = {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}
    assert 18 in ranges and 3 in ranges
    md = metadata(bootstrap, [])
    assert len(md.brokers) >= 1


def api_versions(bootstrap: str) -> dict[int, tuple[int, int]]:
    """The broker's ApiVersions (v0 request, answered by every broker since 0.10)."""
    with Wire(bootstrap) as w:
        resp = w.request(ApiVersionsRequest(), 0, ApiVersionsResponse)
    assert resp.error_code == 0, f"ApiVersions v0 error {resp.error_code}"
    return {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}


def pick_version(ranges: dict, request_class, lo: int, hi: int) -> int:
    """The highest version of request_class within [lo, hi] that the broker supports."""
    key = request_class.API_KEY
    assert key in ranges, f"broker does not advertise API key {key} ({request_class.__name__})"
    bmin, bmax = ranges[key]
    v = min(bmax, hi, request_class.max_version)
    assert v >= max(bmin, lo), (f"no common version for {request_class.__name__}: broker {bmin}-{bmax}, "
                                f"wanted {lo}-{hi}")
    return v


def metadata(bootstrap: str, topics: list[str] | None, auto_create: bool = False, version=None):
    ranges = api_versions(bootstrap)
    v = version if version is not None else pick_version(ranges, MetadataRequest, 1, 12)
    req = MetadataRequest(
        topics=None if topics is None else [MetadataRequest.MetadataRequestTopic(name=t) for t in topics],
        allow_auto_topic_creation=auto_create)
    with Wire(bootstrap) as w:
        return w.request(req, v, MetadataResponse)


def build_batch(records, timestamps=None, compression: int = 0, base_offset: int = 0) -> bytes:
    """A v2 RecordBatch; records are (key, value) or (key, value, headers) tuples of bytes."""
    ts = timestamps or past_timestamps(len(records))
    builder = MemoryRecordsBuilder(magic=2, compression_type=compression, batch_size=64 << 20,
                                   offset=base_offset)
    for (rec, t) in zip(records, ts):
        key, value = rec[0], rec[1]
        headers = rec[2] if len(rec) > 2 else []
        assert builder.append(t, key, value, headers) is not None
    builder.close()
    return bytes(builder.buffer())


# RecordBatch v2 header layout (offsets into the batch).
BATCH_LENGTH_AT = 8           # int32 batchLength (bytes after this field)
CRC_AT = 17                   # uint32 CRC-32C of attributes..end
ATTRIBUTES_AT = 21            # int16
LAST_OFFSET_DELTA_AT = 23     # int32
RECORD_COUNT_AT = 57          # int32
BATCH_HEADER_SIZE = 61


def parse_batches(data: bytes) -> list[dict]:
    """Headers of the v2 record batches in a Fetch records blob (a trailing partial batch, which
    Kafka may return, is ignored)."""
    out = []
    pos = 0
    while pos + BATCH_HEADER_SIZE <= len(data):
        base_offset, length = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + length
        if end > len(data):
            break
        magic = data[pos + 16]
        attributes, last_delta = struct.unpack_from(">hi", data, pos + ATTRIBUTES_AT)
        count = struct.unpack_from(">i", data, pos + RECORD_COUNT_AT)[0] if magic >= 2 else None
        out.append({"base_offset": base_offset, "magic": magic, "codec": attributes & 7,
                    "attributes": attributes, "last_offset_delta": last_delta, "count": count})
        pos = end
    return out


def varint(value: int) -> bytes:
    """A zigzag varint/varlong as the v2 record format writes it."""
    out = bytearray()
    encode_varint(value, out.append)
    return bytes(out)


def encode_record(offset_delta: int, timestamp_delta: int, key: bytes | None, value: bytes | None,
                  headers=(), attributes: int = 0) -> bytes:
    """One v2 record (length varint included), byte for byte what kafka-python's builder writes."""
    def field(data):
        return varint(-1) if data is None else varint(len(data)) + bytes(data)
    body = [bytes([attributes]), varint(timestamp_delta), varint(offset_delta), field(key), field(value),
            varint(len(headers))]
    for h_key, h_value in headers:
        body += [field(h_key.encode() if isinstance(h_key, str) else h_key), field(h_value)]
    size = sum(len(part) for part in body)
    return b"".join([varint(size)] + body)


def compress(codec: str, data: bytes) -> bytes:
    """data compressed as a Kafka client compresses a v2 batch's records: gzip, snappy (xerial
    framing, 32 KiB blocks, as kafka-python, the Java client and librdkafka write it),
    snappy-raw (one bare snappy block), lz4 (frame format, independent blocks) or zstd."""
    if codec == "gzip":
        return gzip_encode(data)
    if codec == "snappy":
        return snappy_encode(data)
    if codec == "snappy-raw":
        return snappy_encode(data, xerial_compatible=False)
    if codec == "lz4":
        return lz4_encode(data)
    if codec == "zstd":
        return zstd_encode(data)
    raise ValueError(f"unknown codec {codec!r}")


def split_batch(batch: bytes) -> tuple[bytes, bytes]:
    """(61-byte header, records payload) of one v2 batch."""
    length = struct.unpack_from(">i", batch, BATCH_LENGTH_AT)[0]
    assert len(batch) == 12 + length, f"not exactly one batch: {len(batch)} bytes, batchLength {length}"
    return bytes(batch[:BATCH_HEADER_SIZE]), bytes(batch[BATCH_HEADER_SIZE:])


def recrc(batch: bytearray) -> bytearray:
    """Recomputes a v2 batch's CRC-32C (attributes to the end) in place."""
    struct.pack_into(">I", batch, CRC_AT, calc_crc32c(memoryview(batch)[ATTRIBUTES_AT:]))
    return batch


def rebatch(header: bytes, payload: bytes, codec: str = "none", count: int | None = None,
            last_offset_delta: int | None = None) -> bytes:
    """A v2 batch from an existing batch's header and a new payload (the records, already compressed
    when codec is not "none"): codec bits, recordCount, lastOffsetDelta and batchLength rewritten,
    CRC-32C recomputed, so only what the payload holds can be wrong."""
    batch = bytearray(header) + payload
    attributes = struct.unpack_from(">h", batch, ATTRIBUTES_AT)[0]
    codec_id = CODEC_ID["snappy" if codec == "snappy-raw" else codec]
    struct.pack_into(">h", batch, ATTRIBUTES_AT, (attributes & ~7) | codec_id)
    if count is not None:
        struct.pack_into(">i", batch, RECORD_COUNT_AT, count)
    if last_offset_delta is not None:
        struct.pack_into(">i", batch, LAST_OFFSET_DELTA_AT, last_offset_delta)
    struct.pack_into(">i", batch, BATCH_LENGTH_AT, len(batch) - 12)
    return bytes(recrc(batch))


def decode_values(records: bytes) -> list[tuple[int, bytes | None]]:
    """(offset, value) of every record in a Fetch records blob, decoded by kafka-python."""
    out = []
    mr = MemoryRecords(bytes(records or b""))
    while mr.has_next():
        batch = mr.next_batch()
        if batch is None:
            break
        for rec in batch:
            out.append((rec.offset, rec.value))
    return out


def produce_raw(bootstrap: str, topic: str, partition: int, batch: bytes, acks: int = -1,
                version: int | None = None, timeout: float = 10.0):
    """Sends one Produce request; returns the partition response (error_code, base_offset...)."""
    ranges = api_versions(bootstrap)
    v = version if version is not None else pick_version(ranges, ProduceRequest, 3, 9)
    req = ProduceRequest(
        transactional_id=None, acks=acks, timeout_ms=5000,
        topic_data=[ProduceRequest.TopicProduceData(
            name=topic,
            partition_data=[ProduceRequest.TopicProduceData.PartitionProduceData(
                index=partition, records=batch)])])
    with Wire(bootstrap, timeout=timeout) as w:
        resp = w.request(req, v, ProduceResponse, timeout=timeout)
    (topic_resp,) = resp.responses
    (part_resp,) = topic_resp.partition_responses
    return part_resp


def fetch_request(topic: str, partition: int, offset: int, max_bytes: int = 8 << 20, *,
                  partition_max_bytes: int | None = None, max_wait_ms: int = 100, min_bytes: int = 1,
                  repeat: int = 1) -> FetchRequest:
    """A Fetch (by topic name, so v4..v12) of one partition from offset, read_uncommitted.
    partition_max_bytes defaults to max_bytes; repeat lists the same partition that many times."""
    return FetchRequest(
        replica_id=-1, max_wait_ms=max_wait_ms, min_bytes=min_bytes, max_bytes=max_bytes, isolation_level=0,
        session_id=0, session_epoch=-1,
        topics=[FetchRequest.FetchTopic(topic=topic, partitions=[FetchRequest.FetchTopic.FetchPartition(
            partition=partition, current_leader_epoch=-1, fetch_offset=offset, log_start_offset=-1,
            partition_max_bytes=max_bytes if partition_max_bytes is None else partition_max_bytes)
            for _ in range(repeat)])],
        forgotten_topics_data=[], rack_id="")


def fetch_raw(bootstrap: str, topic: str, partition: int, offset: int, max_bytes: int = 8 << 20):
    """One Fetch (v4..v12, by name) of a partition; returns the partition data."""
    ranges = api_versions(bootstrap)
    v = pick_version(ranges, FetchRequest, 4, 12)
    req = fetch_request(topic, partition, offset, max_bytes)
    with Wire(bootstrap) as w:
        resp = w.request(req, v, FetchResponse)
    (t,) = resp.responses
    (p,) = t.partitions
    return p


def fetch_codecs(bootstrap: str, topic: str, partition: int) -> set[int]:
    """The compression codec ids of the batches stored in a partition (from offset 0)."""
    p = fetch_raw(bootstrap, topic, partition, 0)
    assert p.error_code == 0, f"Fetch error {p.error_code}"
    records = bytes(p.records or b"")
    return {b["codec"] for b in parse_batches(records)}


def list_offsets_raw(bootstrap: str, topic_partitions: dict[str, list[int]], timestamp: int):
    """ListOffsets (v1..v7) for every listed partition; returns {(topic, partition): (error, offset)}."""
    ranges = api_versions(bootstrap)
    v = pick_version(ranges, ListOffsetsRequest, 1, 7)
    req = ListOffsetsRequest(
        replica_id=-1, isolation_level=0,
        topics=[ListOffsetsRequest.ListOffsetsTopic(name=t, partitions=[
            ListOffsetsRequest.ListOffsetsTopic.ListOffsetsPartition(
                partition_index=p, current_leader_epoch=-1, timestamp=timestamp)
            for p in parts]) for t, parts in topic_partitions.items()])
    with Wire(bootstrap, timeout=30) as w:
        resp = w.request(req, v, ListOffsetsResponse, timeout=30)
    return {(t.name, p.partition_index): (p.error_code, p.offset)
            for t in resp.topics for p in t.partitions}


def create_topics_raw(bootstrap: str, topics: dict[str, int], timeout: float = 10.0,
                      validate_only: bool = False) -> dict[str, tuple[int, str | None]]:
    """One CreateTopics request (v2..v7) for {name: partitions} (replication factor 1); returns
    {name: (error code, error message)}."""
    ranges = api_versions(bootstrap)
    v = pick_version(ranges, CreateTopicsRequest, 2, 7)
    req = CreateTopicsRequest(
        topics=[CreateTopicsRequest.CreatableTopic(name=n, num_partitions=p, replication_factor=1,
                                                   assignments=[], configs=[])
                for n, p in topics.items()],
        timeout_ms=int(timeout * 1000), validate_only=validate_only)
    with Wire(bootstrap, timeout=timeout) as w:
        resp = w.request(req, v, CreateTopicsResponse, timeout=timeout)
    return {t.name: (t.error_code, t.error_message) for t in resp.topics}


def create_partitions_raw(bootstrap: str, topics: dict[str, int], timeout: float = 10.0
                          ) -> dict[str, tuple[int, str | None]]:
    """One CreatePartitions request (v0..v3) raising each topic to the given total count;
    returns {name: (error code, error message)}."""
    ranges = api_versions(bootstrap)
    v = pick_version(ranges, CreatePartitionsRequest, 0, 3)
    req = CreatePartitionsRequest(
        topics=[CreatePartitionsRequest.CreatePartitionsTopic(name=n, count=c, assignments=None)
                for n, c in topics.items()],
        timeout_ms=int(timeout * 1000), validate_only=False)
    with Wire(bootstrap, timeout=timeout) as w:
        resp = w.request(req, v, CreatePartitionsResponse, timeout=timeout)
    return {r.name: (r.error_code, r.error_message) for r in resp.results}


def create_topic(broker, name: str, partitions: int, configs: dict | None = None):
    """Creates a topic (with optional topic configs) through kafka-python's admin client and waits
    for its metadata."""
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        admin.create_topics({name: {"num_partitions": partitions, "replication_factor": 1,
                                    "configs": configs or {}}},
                            wait_for_metadata=True)
    finally:
        admin.close()


class ContinuousProducer(threading.Thread):
    """Produces round-robin over the partitions until stopped; keeps the acknowledged (partition, offset).
    Shared by the group and assignor tests."""

    def __init__(self, broker, topic: str, partitions: int, rate: float = 200.0):
        super().__init__(daemon=True)
        self.producer = Producer({"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4",
                                  "linger.ms": 5, "acks": "all", "message.timeout.ms": 15000})
        self.topic, self.partitions, self.rate = topic, partitions, rate
        self.acked: set[tuple[int, int]] = set()
        self.errors: list = []
        self.halt = threading.Event()

    def _cb(self, err, msg):
        if err is not None:
            self.errors.append(err)
        else:
            self.acked.add((msg.partition(), msg.offset()))

    def run(self):
        i = 0
        while not self.halt.is_set():
            self.producer.produce(self.topic, value=f"seq-{i}".encode(), partition=i % self.partitions,
                                  on_delivery=self._cb)
            self.producer.poll(0)
            i += 1
            time.sleep(1.0 / self.rate)

    def stop(self) -> set[tuple[int, int]]:
        self.halt.set()
        self.join(10)
        if self.producer is not None:
            remaining = self.producer.flush(20.0)
            self.producer = None   # destroyed now, not after the broker stopped
            assert remaining == 0, "producer could not flush"
        assert not self.errors, f"produce errors: {self.errors[:5]}"
        return set(self.acked)



# ---------------------------------------------------------------------------------------------
# A well-behaved client, and watching the broker process
# ---------------------------------------------------------------------------------------------

def round_trip(bootstrap: str, topic: str | None = None, count: int = 100, timeout: float = 20.0) -> float:
    """A well-behaved confluent-kafka client: produces `count` records (acks=all) to partition 0
    of `topic` (a new, auto-created one when None) and reads them back by assignment, all within
    `timeout` seconds. Returns the seconds taken. Both clients are gone when it returns."""
    topic = topic or unique_topic("good-client")
    started = time.monotonic()
    deadline = started + timeout
    conf = {"bootstrap.servers": bootstrap, "broker.address.family": "v4", "socket.timeout.ms": 10000}
    marker = uuid.uuid4().hex[:8]
    values = [f"{marker}-{i}".encode() for i in range(count)]
    offsets, errors = [], []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            offsets.append(msg.offset())

    producer = Producer({**conf, "acks": "all", "linger.ms": 5,
                         "message.timeout.ms": max(1000, int(timeout * 1000))})
    try:
        for v in values:
            producer.produce(topic, value=v, partition=0, on_delivery=on_delivery)
            producer.poll(0)
        remaining = producer.flush(max(0.1, deadline - time.monotonic()))
    finally:
        del producer
        gc.collect()
    assert remaining == 0 and not errors, (
        f"good client: {remaining} of {count} records undelivered after {timeout}s, errors {errors[:3]}")
    assert len(offsets) == count

    got = []
    consumer = Consumer({**conf, "group.id": unique_topic("good-client-group"), "enable.auto.commit": False,
                         "auto.offset.reset": "error", "fetch.wait.max.ms": 100})
    try:
        consumer.assign([TopicPartition(topic, 0, min(offsets))])
        while len(got) < count and time.monotonic() < deadline:
            msg = consumer.poll(min(0.5, max(0.01, deadline - time.monotonic())))
            if msg is None:
                continue
            assert msg.error() is None, f"good client: consume error {msg.error()}"
            if msg.value() is not None and msg.value().startswith(marker.encode()):
                got.append(msg.value())
    finally:
        consumer.close()
        del consumer
        gc.collect()
    assert got == values, (f"good client: read back {len(got)} of {count} records within {timeout}s "
                           f"(first missing {next((v for v in values if v not in got), None)!r})")
    return time.monotonic() - started


def raise_nofile(needed: int) -> int:
    """Raises this process's soft RLIMIT_NOFILE to the hard limit (brokers started afterwards
    inherit it); fails the test when the hard limit is below `needed`. Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.fail(f"the hard RLIMIT_NOFILE is {hard}, this test needs {needed} open files "
                    f"(raise it with `ulimit -Hn` or in limits.conf)", pytrace=False)
    if soft != resource.RLIM_INFINITY and (soft < needed or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_bytes(pid: int) -> int:
    """VmRSS of a process (from /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class ProcessSampler(threading.Thread):
    """Samples a process's RSS (and, with fds=True, its open descriptors) every `interval`
    seconds until stop(); keeps the maxima. Use as a context manager."""

    def __init__(self, pid: int, interval: float = 0.05, fds: bool = False):
        super().__init__(daemon=True)
        self.pid, self.interval, self.fds = pid, interval, fds
        self.baseline_rss = rss_bytes(pid)
        self.baseline_fds = open_fds(pid) if fds else 0
        self.max_rss = self.baseline_rss
        self.max_fds = self.baseline_fds
        self.samples = 0
        self.gone = False
        self.halt = threading.Event()

    def sample(self):
        try:
            self.max_rss = max(self.max_rss, rss_bytes(self.pid))
            if self.fds:
                self.max_fds = max(self.max_fds, open_fds(self.pid))
            self.samples += 1
        except (OSError, AssertionError):
            self.gone = True

    def run(self):
        while not self.halt.is_set() and not self.gone:
            self.sample()
            self.halt.wait(self.interval)

    def stop(self) -> "ProcessSampler":
        self.halt.set()
        self.join(10)
        if not self.gone:
            self.sample()
        return self

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def max_rss_mib(self) -> float:
        return self.max_rss / (1 << 20)

    @property
    def rss_growth_mib(self) -> float:
        return (self.max_rss - self.baseline_rss) / (1 << 20)


def assert_alive(broker):
    """The broker process is still running (a crash shows its exit status and log tail)."""
    code = broker.proc.poll() if broker.proc is not None else None
    assert broker.is_running(), f"broker process died (exit status {code}); log tail:\n{broker.log_tail()}"


def kcat_binary() -> str:
    name = os.environ.get("KCAT_BIN", "kcat")
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"kcat not found ({name!r}; install the kcat package or set KCAT_BIN)", pytrace=False)
    return path

