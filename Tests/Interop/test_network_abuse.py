"""Network abuse against one running broker with default limits: thousands of idle connections,
slow readers that never read their Fetch responses, half-sent frames, and a flood of requests
whose arrays declare huge element counts. Throughout, a well-behaved confluent-kafka producer and
consumer must round-trip 100 records within 20 s, the broker must stay up, and its RSS (VmRSS,
sampled every 50 ms) must stay under RSS_BOUND_MIB = 800 MiB."""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from kafka.protocol.consumer import FetchRequest

from interop import (CORRUPT_MESSAGE, INVALID_REQUEST, UNSUPPORTED_VERSION, Disconnected, ProcessSampler, Wire,
                     api_versions, assert_alive, build_batch, delete_topics_frame, fetch_request, frame, header_v1,
                     header_v2, metadata, pick_version, produce_raw, raise_nofile, response_error_codes,
                     round_trip, served, socket_is_open, unique_topic, uvarint)

RSS_BOUND_MIB = 800
MiB = 1 << 20


@pytest.fixture(scope="module", autouse=True)
def many_files():
    # 3,000 idle connections plus the clients' own: raise the soft limit to the hard one (before
    # the module's broker starts, so it inherits it too).
    raise_nofile(4096)


def assert_rss_bound(sampler: ProcessSampler, what: str):
    print(f"broker RSS during {what}: {sampler.baseline_rss / MiB:.0f} MiB at the start, peak "
          f"{sampler.max_rss_mib:.0f} MiB ({sampler.samples} samples)")
    assert not sampler.gone, f"broker process disappeared during {what}"
    assert sampler.max_rss_mib < RSS_BOUND_MIB, (f"broker RSS peaked at {sampler.max_rss_mib:.0f} MiB during "
                                                 f"{what} (bound {RSS_BOUND_MIB} MiB)")


def close_all(socks):
    for s in socks:
        s.close()
    socks.clear()


# ---------------------------------------------------------------------------------------------
# (a) idle connections
# ---------------------------------------------------------------------------------------------

IDLE_SOURCES = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
IDLE_PER_SOURCE = 750  # 3,000 in all, each address under the default max.connections.per.ip=1000


def test_three_thousand_idle_connections(broker):
    """3,000 connections that never send a byte (750 from each of 127.0.0.2-5) stay open while
    the good client round-trips 100 records within 20 s."""
    socks = []
    with ProcessSampler(broker.proc.pid) as sampler:
        try:
            for ip in IDLE_SOURCES:
                for i in range(IDLE_PER_SOURCE):
                    try:
                        socks.append(socket.create_connection(("127.0.0.1", broker.port), timeout=5,
                                                              source_address=(ip, 0)))
                    except OSError as exc:
                        pytest.fail(f"idle connection {i + 1} from {ip} failed: {exc!r}")
            took = round_trip(broker.bootstrap, timeout=20)
            print(f"round trip with {len(socks)} idle connections open: {took:.1f} s")
            dropped = sum(1 for s in socks if not socket_is_open(s))
            assert dropped == 0, f"the broker closed {dropped} of the {len(socks)} idle connections (all within limits)"
        finally:
            close_all(socks)
    served(broker.bootstrap)
    assert_rss_bound(sampler, "3,000 idle connections")
    assert_alive(broker)


# ---------------------------------------------------------------------------------------------
# (b) slow readers
# ---------------------------------------------------------------------------------------------

SLOW_READERS = 50
FETCHES_PER_READER = 3


def test_slow_readers(broker):
    """50 connections each send 3 Fetch requests for a partition holding ~20 MiB (max_bytes
    2**31-1) and never read the responses: the broker must not buffer the 3 GB it owes them (RSS
    bound above), and the good client keeps working while they hang."""
    topic = unique_topic("abuse-slow")
    assert metadata(broker.bootstrap, [topic], auto_create=True).topics[0].error_code == 0
    for i in range(40):  # 40 batches of 512 KiB
        r = produce_raw(broker.bootstrap, topic, 0, build_batch([(b"k", bytes([65 + i % 26]) * (512 * 1024))]))
        assert r.error_code == 0, f"produce {i}: error {r.error_code}"
    v = pick_version(api_versions(broker.bootstrap), FetchRequest, 4, 12)
    socks = []
    with ProcessSampler(broker.proc.pid) as sampler:
        try:
            for i in range(SLOW_READERS):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)  # before connect: small window
                s.settimeout(5)
                s.connect(("127.0.0.1", broker.port))
                data = b""
                for c in range(FETCHES_PER_READER):
                    req = fetch_request(topic, 0, 0, max_bytes=2**31 - 1)
                    req.API_VERSION = v
                    req.with_header(correlation_id=i * 10 + c, client_id="slow-reader")
                    data += bytes(req.encode(header=True, framed=True))
                s.sendall(data)  # small requests: the kernel takes them even if the broker stalls
            time.sleep(2.0)
            stalled = sum(1 for s in socks if select.select([s], [], [], 0)[0])
            assert stalled >= SLOW_READERS // 2, (f"only {stalled} of {SLOW_READERS} slow readers have response "
                                                  f"bytes waiting: the broker did not start answering them")
            took = round_trip(broker.bootstrap, timeout=20)
            print(f"round trip beside {SLOW_READERS} slow readers: {took:.1f} s")
            time.sleep(max(0.0, 2.0 - took))
        finally:
            close_all(socks)
    served(broker.bootstrap)
    assert_rss_bound(sampler, f"{SLOW_READERS} slow readers")
    assert_alive(broker)


# ---------------------------------------------------------------------------------------------
# (c) half-sent frames
# ---------------------------------------------------------------------------------------------

HALF_SENT = 200


def test_half_sent_frames(broker):
    """200 connections send the size prefix of a 1 MiB frame and 100 bytes of it, then nothing:
    none is answered, and the good client keeps working meanwhile."""
    socks = []
    partial = struct.pack(">i", MiB) + (header_v1(18, 0, 1) + b"\x00" * 100)[:100]
    with ProcessSampler(broker.proc.pid) as sampler:
        try:
            for _ in range(HALF_SENT):
                s = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
                socks.append(s)
                s.sendall(partial)
            took = round_trip(broker.bootstrap, timeout=20)
            print(f"round trip beside {HALF_SENT} half-sent frames: {took:.1f} s")
            answered = 0
            for s in socks:
                if socket_is_open(s) and select.select([s], [], [], 0)[0]:
                    answered += 1  # open and readable: bytes were sent to an incomplete frame
            assert answered == 0, f"the broker sent bytes on {answered} connections holding an incomplete frame"
        finally:
            close_all(socks)
    served(broker.bootstrap)
    assert_rss_bound(sampler, f"{HALF_SENT} half-sent frames")
    assert_alive(broker)


# ---------------------------------------------------------------------------------------------
# (d) huge declared counts
# ---------------------------------------------------------------------------------------------

HUGE = 2**31 - 1
FLOOD_CONNECTIONS = 100
REQUESTS_PER_CONNECTION = 20
TWO_MILLION_EVERY = 25  # connections 0, 25, 50, 75 send a DeleteTopics with 2,000,000 names instead
FLOOD_DEADLINE = 45.0


def _huge_requests(c: int) -> list[bytes]:
    """Frames whose arrays declare about 2**31 elements and hold none (or a negative count)."""
    return [
        # Metadata v9 (flexible): compact array length 2**31 = 2**31-1 topics, then three bools.
        frame(header_v2(3, 9, c) + uvarint(HUGE + 1) + b"\x00\x00\x00\x00"),
        # Metadata v4: int32 count.
        frame(header_v1(3, 4, c) + struct.pack(">i", HUGE) + b"\x01"),
        # DeleteTopics v4 (flexible).
        frame(header_v2(20, 4, c) + uvarint(HUGE + 1) + struct.pack(">i", 1000) + b"\x00"),
        # CreateTopics v4: topics count, then timeout and validate_only.
        frame(header_v1(19, 4, c) + struct.pack(">iib", HUGE, 1000, 0)),
        # Produce v7: null transactional id, acks=-1, timeout, topic count.
        frame(header_v1(0, 7, c) + struct.pack(">hhii", -1, -1, 5000, HUGE)),
        # Produce v7: one topic whose partition array declares 2**31-1 entries.
        frame(header_v1(0, 7, c) + struct.pack(">hhiih", -1, -1, 5000, 1, 1) + b"t" + struct.pack(">i", HUGE)),
        # Produce v7: a negative topic count.
        frame(header_v1(0, 7, c) + struct.pack(">hhii", -1, -1, 5000, -5)),
        # Fetch v11: replica, max wait, min bytes, max bytes, isolation, session id/epoch, topic count.
        frame(header_v1(1, 11, c) + struct.pack(">iiiibiii", -1, 100, 1, MiB, 0, 0, -1, HUGE)),
        # ListOffsets v5: replica, isolation, topic count.
        frame(header_v1(2, 5, c) + struct.pack(">ibi", -1, 0, HUGE)),
    ]


def _flood_connection(bootstrap: str, index: int, deadline: float) -> str | None:
    """One flood connection; returns None when the broker behaved as required, else what went
    wrong. Every TWO_MILLION_EVERY-th connection sends a DeleteTopics with 2,000,000 names and
    waits: it must be closed without an answer (pipelining more frames behind it would let a
    broker close the connection on those instead). The others send 20 frames with huge declared
    counts at once and read until the broker closes the connection or has answered all 20 with
    an error."""
    if index % TWO_MILLION_EVERY == 0:
        frames = [(index * 100, delete_topics_frame(2_000_000, index * 100))]
    else:
        kinds = len(_huge_requests(0))
        frames = [(index * 100 + k, _huge_requests(index * 100 + k)[(index + k) % kinds])
                  for k in range(REQUESTS_PER_CONNECTION)]
    sent = {c for c, _ in frames}
    try:
        w = Wire(bootstrap, timeout=10)
    except OSError as exc:
        return f"connection {index}: connect failed: {exc!r}"
    try:
        try:
            w.send_raw(b"".join(f for _, f in frames))
        except (Disconnected, OSError):
            pass  # closed while we were still sending: allowed
        answers = 0
        while answers < len(frames):
            left = deadline - time.monotonic()
            if left <= 0:
                return f"connection {index}: neither closed nor answered after {answers} answers (hang)"
            try:
                resp = w.recv_frame(left)
            except socket.timeout:
                return f"connection {index}: neither closed nor answered after {answers} answers (hang)"
            except (Disconnected, OSError):
                return None  # closed (EOF or reset): allowed
            correlation = struct.unpack(">i", resp[:4])[0]
            if correlation not in sent:
                return f"connection {index}: response with unknown correlation id {correlation}"
            if index % TWO_MILLION_EVERY == 0:
                return (f"connection {index}: the DeleteTopics with 2,000,000 names was answered "
                        f"({len(resp)} bytes) instead of refused")
            if not response_error_codes(resp) & {INVALID_REQUEST, CORRUPT_MESSAGE, UNSUPPORTED_VERSION}:
                return f"connection {index}: request {correlation} answered without an error: {resp[:16].hex()}"
            answers += 1
        return None
    finally:
        w.close()


def test_flood_of_huge_array_counts(broker):
    """100 connections: 96 each send 20 requests whose arrays declare ~2**31 elements (Metadata
    v4/v9, DeleteTopics v4, CreateTopics, Produce, Fetch, ListOffsets) and 4 send a DeleteTopics
    naming a one-byte topic 2,000,000 times. Each connection is closed or every request answered
    with an error (the 2,000,000-name one must be closed unanswered), the broker never crashes,
    and the good client round-trips 100 records within 20 s during and after the flood."""
    good: dict = {}

    def good_client():
        try:
            good["took"] = round_trip(broker.bootstrap, timeout=20)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            good["error"] = exc

    with ProcessSampler(broker.proc.pid) as sampler:
        deadline = time.monotonic() + FLOOD_DEADLINE
        client = threading.Thread(target=good_client, daemon=True)
        client.start()
        with ThreadPoolExecutor(max_workers=FLOOD_CONNECTIONS) as pool:
            outcomes = list(pool.map(lambda i: _flood_connection(broker.bootstrap, i, deadline),
                                     range(FLOOD_CONNECTIONS)))
        client.join(25)
    problems = [o for o in outcomes if o is not None]
    print(f"broker RSS during the flood: peak {sampler.max_rss_mib:.0f} MiB; good client: {good}")
    assert_alive(broker)
    assert not problems, f"{len(problems)} of {FLOOD_CONNECTIONS} connections misbehaved, e.g. {problems[:3]}"
    assert not client.is_alive(), "the good client did not finish"
    assert "error" not in good, f"the good client failed during the flood: {good['error']!r}"
    assert_rss_bound(sampler, "the flood")
    served(broker.bootstrap)
    round_trip(broker.bootstrap, timeout=20)
    assert_alive(broker)
