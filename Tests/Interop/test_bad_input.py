"""Bad input over raw TCP: malformed and truncated frames, unknown API keys and versions,
KIP-511's ApiVersions answer, oversized frames, and Produce requests the broker must refuse.

For a malformed frame the acceptable outcomes are the right error code or a clean disconnect of
that connection (a hang is a failure); after every case a fresh client must still be served."""

from __future__ import annotations

import socket
import struct

import pytest
from kafka import KafkaAdminClient

from interop import (CORRUPT_MESSAGE, INVALID_RECORD, INVALID_REQUEST, INVALID_TOPIC_EXCEPTION,
                     LAST_OFFSET_DELTA_AT, MESSAGE_TOO_LARGE, RECORD_COUNT_AT, UNKNOWN_TOPIC_OR_PARTITION,
                     UNSUPPORTED_VERSION, Disconnected, Wire, api_versions, build_batch, fetch_raw, frame,
                     header_v1, metadata, produce_raw, recrc, served, unique_topic)

TANSU_NAMES = "topic names are not validated: Produce to 'bad/name' or a 250-character name succeeds"


def error_or_disconnect(w: Wire, correlation: int | None, codes: set[int], timeout: float = 5.0) -> str:
    """'disconnected' on a clean close; 'error' when a response with our correlation id carries one
    of codes (as the body's first int16, after a v0 or v1 response header). Fails on a hang."""
    try:
        resp = w.recv_frame(timeout)
    except Disconnected:
        return "disconnected"
    except socket.timeout:
        pytest.fail(f"broker neither answered nor closed the connection within {timeout}s")
    assert correlation is not None, f"unexpected response to an unparseable frame: {resp[:32].hex()}"
    assert struct.unpack(">i", resp[:4])[0] == correlation, f"wrong correlation id: {resp[:8].hex()}"
    found = {struct.unpack(">h", resp[4:6])[0]} if len(resp) >= 6 else set()
    if len(resp) >= 7 and resp[4] == 0:  # v1 response header: empty tagged fields first
        found.add(struct.unpack(">h", resp[5:7])[0])
    assert found & codes, f"response carries none of the error codes {codes}: {resp[:16].hex()}"
    return "error"


# ---------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------

MALFORMED = {
    # Size 0: no header at all.
    "empty-frame": (frame(b""), None),
    # A negative size prefix.
    "negative-size": (struct.pack(">i", -5) + b"\x00" * 8, None),
    # Random bytes: the "header" names API key 0x3a5c.
    "garbage": (frame(bytes.fromhex("3a5c1f00deadbeef") + b"\xff" * 40), None),
    # A Metadata v1 header whose client_id length runs past the end of the frame.
    "client-id-overrun": (frame(struct.pack(">hhih", 3, 1, 71, 500) + b"abc"), 71),
    # A Metadata v4 header with a body cut inside the topics array (says 3 topics, has none).
    "body-truncated": (frame(header_v1(3, 4, 72) + struct.pack(">i", 3)), 72),
    # A Metadata v9 (flexible) body with an impossible compact-array length.
    "bad-varint": (frame(header_v1(3, 9, 73) + b"\x00" + b"\xff\xff\xff\xff\xff\x01"), 73),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_frame(broker, case):
    data, correlation = MALFORMED[case]
    with Wire(broker.bootstrap) as w:
        w.send_raw(data)
        error_or_disconnect(w, correlation, {INVALID_REQUEST, UNSUPPORTED_VERSION, CORRUPT_MESSAGE})
    served(broker.bootstrap)


def test_truncated_frame_then_eof(broker):
    """A frame announcing 200 bytes of which 30 arrive: no answer; on EOF the broker closes."""
    with Wire(broker.bootstrap) as w:
        payload = header_v1(18, 0, 5) + b"\x00" * 8
        w.send_raw(struct.pack(">i", 200) + payload)
        w.sock.settimeout(0.5)
        try:
            early = w.sock.recv(1024)
        except socket.timeout:
            early = None
        assert not early, f"broker answered an incomplete frame: {early!r}"
        w.sock.shutdown(socket.SHUT_WR)
        assert w.wait_closed(5), "broker kept the connection open after EOF mid-frame"
    served(broker.bootstrap)


def test_pipelined_requests_after_valid_frames(broker):
    """Three ApiVersions requests in one write: three answers, in order (framing sanity)."""
    with Wire(broker.bootstrap) as w:
        w.send_raw(b"".join(frame(header_v1(18, 0, c)) for c in (101, 102, 103)))
        for c in (101, 102, 103):
            resp = w.recv_frame(5)
            assert struct.unpack(">i", resp[:4])[0] == c
            assert struct.unpack(">h", resp[4:6])[0] == 0


@pytest.mark.parametrize("api_key", [9999, 1000, -1])
def test_unknown_api_key(broker, api_key):
    with Wire(broker.bootstrap) as w:
        w.send_raw(frame(header_v1(api_key, 0, 77)))
        error_or_disconnect(w, 77, {UNSUPPORTED_VERSION, INVALID_REQUEST})
    served(broker.bootstrap)


TANSU_ABOVE_MAX = pytest.mark.tansu_xfail("a request one version above the advertised maximum is "
                                          "answered as if supported (error 0), not refused")


@pytest.mark.parametrize("api_key,name", [pytest.param(3, "Metadata", marks=TANSU_ABOVE_MAX),
                                          pytest.param(0, "Produce", marks=TANSU_ABOVE_MAX),
                                          (1, "Fetch")])
def test_unsupported_version_of_existing_api(broker, api_key, name):
    lo, hi = api_versions(broker.bootstrap)[api_key]
    with Wire(broker.bootstrap) as w:
        w.send_raw(frame(header_v1(api_key, hi + 1, 78) + b"\x00" * 16))
        error_or_disconnect(w, 78, {UNSUPPORTED_VERSION, INVALID_REQUEST})
    served(broker.bootstrap)


@pytest.mark.tansu_xfail("ApiVersions above its maximum (v4) is answered with error 0 and a full v3 "
                         "body instead of KIP-511's error 35 in a v0 body")
@pytest.mark.parametrize("version", [5, 127])
def test_api_versions_newer_than_supported_gets_v0_answer(broker, version):
    """KIP-511: error 35 in a v0 body (int16 error, int32-counted array of key/min/max, no throttle
    time, no tagged fields) after a v0 response header (correlation id only)."""
    ranges = api_versions(broker.bootstrap)
    assert ranges[18][1] < version
    body = b"\x0cstrait-test\x061.0.0\x00"  # compact strings + empty tagged fields (v3+ layout)
    header = struct.pack(">hhih", 18, version, 4242, 7) + b"interop" + b"\x00"  # request header v2
    with Wire(broker.bootstrap) as w:
        w.send_raw(frame(header + body))
        resp = w.recv_frame(5)
    correlation, error, count = struct.unpack_from(">ihi", resp, 0)
    assert correlation == 4242
    assert error == UNSUPPORTED_VERSION
    assert 0 < count < 1000, f"not a v0 int32 array count: {count}"
    assert len(resp) == 10 + 6 * count, (f"{len(resp)} bytes: not exactly a v0 header + v0 body "
                                         f"with {count} entries")
    entries = {k: (lo, hi) for k, lo, hi in struct.iter_unpack(">hhh", resp[10:])}
    assert entries[18][1] < version and entries[18][0] == 0
    assert {0, 1, 2, 3, 18} <= set(entries)
    assert entries == ranges


@pytest.mark.tansu_xfail("no maximum request size: it waits for the body of a frame announcing 2 GiB")
def test_oversized_frame_size_prefix_is_refused(broker):
    """A size prefix of ~2 GiB (far above Kafka's default socket.request.max.bytes of 100 MiB):
    the broker must close the connection without waiting for the body."""
    with Wire(broker.bootstrap) as w:
        w.send_raw(struct.pack(">i", 0x7FFFFFF0) + header_v1(18, 0, 9))
        assert w.wait_closed(5), "broker waited for a 2 GiB frame instead of closing"
    served(broker.bootstrap)


@pytest.mark.broker_settings({"socket.request.max.bytes": "1048576"})
@pytest.mark.tansu_xfail("socket.request.max.bytes cannot be set; a frame just over 1 MiB is not refused")
def test_frame_larger_than_socket_request_max_bytes(own_broker):
    with Wire(own_broker.bootstrap) as w:
        w.send_raw(struct.pack(">i", 1048576 + 1) + header_v1(0, 9, 10) + b"\x00" * 4096)
        assert w.wait_closed(5), "broker accepted the start of a frame above socket.request.max.bytes"
    # A frame under the limit is still served on a new connection.
    served(own_broker.bootstrap)


# ---------------------------------------------------------------------------------------------
# Produce requests the broker must refuse
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def topics(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    names = {"good": unique_topic("bad-good"), "small": unique_topic("bad-small")}
    try:
        admin.create_topics({names["good"]: {"num_partitions": 2, "replication_factor": 1},
                             names["small"]: {"num_partitions": 1, "replication_factor": 1,
                                              "configs": {"max.message.bytes": "1024"}}},
                            wait_for_metadata=True)
    finally:
        admin.close()
    return names


def high_watermark(broker, topic, partition=0) -> int:
    p = fetch_raw(broker.bootstrap, topic, partition, 0, max_bytes=1024)
    assert p.error_code == 0
    return p.high_watermark


def test_produce_good_batch_baseline(broker, topics):
    r = produce_raw(broker.bootstrap, topics["good"], 0, build_batch([(b"k", b"v")] * 3))
    assert r.error_code == 0
    assert high_watermark(broker, topics["good"]) >= 3


@pytest.mark.tansu_xfail(TANSU_NAMES)
@pytest.mark.parametrize("name", ["bad/name", "x" * 250, "..", "with space"],
                         ids=["slash", "250-chars", "dot-dot", "space"])
def test_produce_to_invalid_topic_name(broker, name):
    r = produce_raw(broker.bootstrap, name, 0, build_batch([(b"k", b"v")]))
    assert r.error_code == INVALID_TOPIC_EXCEPTION, f"error {r.error_code}"
    served(broker.bootstrap)


def test_metadata_auto_create_of_invalid_topic_name(broker):
    md = metadata(broker.bootstrap, ["bad/name", "x" * 250], auto_create=True)
    assert {t.name: t.error_code for t in md.topics} == {
        "bad/name": INVALID_TOPIC_EXCEPTION, "x" * 250: INVALID_TOPIC_EXCEPTION}


@pytest.mark.tansu_xfail("Produce to a partition that does not exist succeeds")
def test_produce_to_missing_partition(broker, topics):
    r = produce_raw(broker.bootstrap, topics["good"], 99, build_batch([(b"k", b"v")]))
    assert r.error_code == UNKNOWN_TOPIC_OR_PARTITION, f"error {r.error_code}"
    md = metadata(broker.bootstrap, [topics["good"]])
    assert len(md.topics[0].partitions) == 2  # not created by the produce
    served(broker.bootstrap)


@pytest.mark.tansu_xfail("max.message.bytes is not enforced")
def test_produce_batch_larger_than_max_message_bytes(broker, topics):
    big = build_batch([(b"k", b"x" * 1500), (b"k", b"y" * 1500)])
    assert len(big) > 1024
    r = produce_raw(broker.bootstrap, topics["small"], 0, big)
    assert r.error_code == MESSAGE_TOO_LARGE, f"error {r.error_code}"
    assert high_watermark(broker, topics["small"]) == 0
    small = build_batch([(b"k", b"fits")])
    assert produce_raw(broker.bootstrap, topics["small"], 0, small).error_code == 0


@pytest.mark.tansu_xfail("max.message.bytes is not enforced (nor can message.max.bytes be set)")
def test_produce_batch_larger_than_broker_message_max_bytes(broker_factory):
    """The broker-wide message.max.bytes is the default of every topic's max.message.bytes."""
    b = broker_factory({"message.max.bytes": "2000"})
    topic = unique_topic("bad-broker-max")
    md = metadata(b.bootstrap, [topic], auto_create=True)  # auto.create.topics.enable=true
    assert md.topics[0].error_code == 0
    r = produce_raw(b.bootstrap, topic, 0, build_batch([(b"k", b"z" * 3000)]))
    assert r.error_code == MESSAGE_TOO_LARGE, f"error {r.error_code}"
    assert produce_raw(b.bootstrap, topic, 0, build_batch([(b"k", b"z" * 500)])).error_code == 0


@pytest.mark.tansu_xfail("record batch CRCs are not checked")
def test_produce_batch_with_wrong_crc(broker, topics):
    before = high_watermark(broker, topics["good"], 1)
    batch = bytearray(build_batch([(b"k1", b"v1"), (b"k2", b"v2")]))
    at = batch.rfind(b"v2")
    batch[at] ^= 0x01  # one bit of a value flipped: the records still parse, the CRC-32C does not match
    r = produce_raw(broker.bootstrap, topics["good"], 1, bytes(batch))
    assert r.error_code == CORRUPT_MESSAGE, f"error {r.error_code}"
    assert high_watermark(broker, topics["good"], 1) == before
    served(broker.bootstrap)


@pytest.mark.tansu_xfail("lastOffsetDelta / record count are not checked against the records")
@pytest.mark.parametrize("field", ["last_offset_delta", "record_count"])
def test_produce_batch_with_inconsistent_counts(broker, topics, field):
    before = high_watermark(broker, topics["good"], 1)
    batch = bytearray(build_batch([(b"k1", b"v1"), (b"k2", b"v2"), (b"k3", b"v3")]))
    if field == "last_offset_delta":
        struct.pack_into(">i", batch, LAST_OFFSET_DELTA_AT, 5)   # says 6 records, holds 3
    else:
        struct.pack_into(">i", batch, RECORD_COUNT_AT, 4)        # says 4 records, holds 3
    r = produce_raw(broker.bootstrap, topics["good"], 1, bytes(recrc(batch)))  # a valid CRC
    assert r.error_code in (CORRUPT_MESSAGE, INVALID_RECORD), f"error {r.error_code}"
    assert high_watermark(broker, topics["good"], 1) == before
    served(broker.bootstrap)


def test_produce_batch_length_overrunning_records(broker, topics):
    batch = bytearray(build_batch([(b"k", b"v")]))
    struct.pack_into(">i", batch, 8, len(batch) + 100)  # batchLength past the end of the field
    try:
        r = produce_raw(broker.bootstrap, topics["good"], 1, bytes(batch))
    except Disconnected:
        pass  # closing the connection is acceptable too
    else:
        assert r.error_code in (CORRUPT_MESSAGE, INVALID_RECORD, INVALID_REQUEST), f"error {r.error_code}"
    served(broker.bootstrap)
