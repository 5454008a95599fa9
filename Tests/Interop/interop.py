"""Helpers shared by the interop tests: names, bounded waits, raw Kafka wire access."""

from __future__ import annotations

import gc
import socket
import struct
import threading
import time
import uuid

from confluent_kafka import Producer
from kafka import KafkaAdminClient
from kafka.protocol.consumer import FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse
from kafka.protocol.producer import ProduceRequest, ProduceResponse
from kafka.record.memory_records import MemoryRecordsBuilder

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

    def __init__(self, bootstrap: str, timeout: float = 5.0, client_id: str = "strait-interop"):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
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


def fetch_raw(bootstrap: str, topic: str, partition: int, offset: int, max_bytes: int = 8 << 20):
    """One Fetch (v4..v12, by name) of a partition; returns the partition data."""
    ranges = api_versions(bootstrap)
    v = pick_version(ranges, FetchRequest, 4, 12)
    req = FetchRequest(
        replica_id=-1, max_wait_ms=100, min_bytes=1, max_bytes=max_bytes, isolation_level=0,
        session_id=0, session_epoch=-1,
        topics=[FetchRequest.FetchTopic(topic=topic, partitions=[FetchRequest.FetchTopic.FetchPartition(
            partition=partition, current_leader_epoch=-1, fetch_offset=offset, log_start_offset=-1,
            partition_max_bytes=max_bytes)])],
        forgotten_topics_data=[], rack_id="")
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


def create_topic(broker, name: str, partitions: int):
    """Creates a topic through kafka-python's admin client and waits for its metadata."""
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        admin.create_topics({name: {"num_partitions": partitions, "replication_factor": 1}},
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

