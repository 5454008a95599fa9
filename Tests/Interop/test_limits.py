"""Broker resource limits, with Kafka's setting names, each set small so the test is fast:
max.connections, max.connections.per.ip (+ .overrides), connections.max.idle.ms,
queued.max.requests, queued.max.request.bytes, fetch.max.bytes, max.broker.partitions (KIP-578),
the cap on array elements per request, and a Fetch listing one partition 100,000 times.

Every test starts its own broker with the settings it needs, abuses it, then checks that a
well-behaved client (ApiVersions + Metadata on a fresh connection, and a confluent-kafka producer
and consumer round-tripping 100 records) is still served."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from kafka.protocol.admin import CreateTopicsRequest, CreateTopicsResponse
from kafka.protocol.consumer import FetchRequest, FetchResponse
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse

from interop import (INVALID_PARTITIONS, UNKNOWN_TOPIC_OR_PARTITION, Disconnected, ProcessSampler, Wire,
                     api_versions, api_versions_frame, assert_alive, await_close, build_batch,
                     create_partitions_raw, create_topics_raw, delete_topics_frame, fetch_raw, fetch_request,
                     header_v1, metadata, parse_batches, pick_version, produce_raw, raise_nofile, round_trip,
                     served, socket_is_open, unique_topic, wait_until)

MiB = 1 << 20


def good_client_works(broker):
    """The well-behaved client after the abuse: a fresh connection is served (retried for a few
    seconds: the broker may not have noticed the abusers' closes yet) and 100 records round-trip."""
    wait_until(lambda: served(broker.bootstrap, timeout=5) is None, timeout=10,
               message="a fresh connection served")
    round_trip(broker.bootstrap, timeout=20)
    assert_alive(broker)


def open_served(broker, source: str | None = None) -> Wire:
    """A connection (from `source`) whose ApiVersions request is answered."""
    w = Wire(broker.bootstrap, timeout=5, source=source)
    try:
        resp = w.request(ApiVersionsRequest(), 0, ApiVersionsResponse, timeout=5)
        assert resp.error_code == 0
    except BaseException:
        w.close()
        raise
    return w


def refused(broker, source: str | None = None, timeout: float = 3.0) -> tuple[bool, bytes]:
    """Connects (from `source`), sends ApiVersions and waits for the close: (closed, bytes the
    broker sent). Refusal = accepted, then closed with no response."""
    w = Wire(broker.bootstrap, timeout=5, source=source)
    try:
        try:
            w.send_raw(api_versions_frame(1))
        except (Disconnected, OSError):
            return True, b""
        return await_close(w.sock, timeout)
    finally:
        w.close()


def close_all(conns):
    for c in conns:
        c.close()
    conns.clear()


@pytest.fixture(autouse=True)
def many_files():
    # The queued.max.request.bytes test holds 300 sockets; raise the soft limit to the hard one.
    raise_nofile(2048)


# ---------------------------------------------------------------------------------------------
# max.connections / max.connections.per.ip
# ---------------------------------------------------------------------------------------------

@pytest.mark.broker_settings({"max.connections": "50"})
def test_max_connections(own_broker):
    """With max.connections=50, 50 connections are served; further ones are accepted and closed
    at once without a response; once one of the 50 closes, a new connection is served again."""
    time.sleep(0.3)  # the fixture's readiness probe has closed; let the broker notice
    conns = []
    try:
        for i in range(50):
            conns.append(open_served(own_broker))
        for i in range(5):
            closed, got = refused(own_broker)
            assert len(got) == 0, (f"connection {51 + i} (max.connections=50) was answered "
                                   f"({len(got)} bytes) instead of being closed")
            assert closed, f"connection {51 + i} (max.connections=50) was neither answered nor closed in 3 s"
        assert all(c.is_open() for c in conns), "the broker closed one of the first 50 connections"
        conns.pop().close()

        def one_more():
            w = open_served(own_broker)
            conns.append(w)
            return True
        wait_until(one_more, timeout=5, interval=0.2, message="a new connection served after one of the 50 closed")
    finally:
        close_all(conns)
    good_client_works(own_broker)


@pytest.mark.broker_settings({"max.connections.per.ip": "20",
                              "max.connections.per.ip.overrides": "127.0.0.3:40"})
def test_max_connections_per_ip(own_broker):
    """max.connections.per.ip=20 with an override of 40 for 127.0.0.3: each source address gets
    its own quota (127.0.0.1 at its limit does not affect 127.0.0.2); beyond it a connection is
    accepted and closed without a response."""
    time.sleep(0.3)
    conns = {"127.0.0.1": [], "127.0.0.2": [], "127.0.0.3": []}
    quota = {"127.0.0.1": 20, "127.0.0.2": 20, "127.0.0.3": 40}
    try:
        for ip in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            for i in range(quota[ip]):
                try:
                    conns[ip].append(open_served(own_broker, source=ip))
                except (Disconnected, OSError) as exc:
                    pytest.fail(f"connection {i + 1} from {ip} (quota {quota[ip]}) was not served: {exc!r}")
            for extra in range(2):
                closed, got = refused(own_broker, source=ip)
                assert len(got) == 0, (f"connection {quota[ip] + 1 + extra} from {ip} (quota {quota[ip]}) was "
                                       f"answered ({len(got)} bytes) instead of being closed")
                assert closed, (f"connection {quota[ip] + 1 + extra} from {ip} (quota {quota[ip]}) was "
                                f"neither answered nor closed within 3 s")
        for ip, ws in conns.items():
            assert all(w.is_open() for w in ws), f"the broker closed a connection from {ip} within its quota"

        conns["127.0.0.1"].pop().close()

        def one_more():
            conns["127.0.0.1"].append(open_served(own_broker, source="127.0.0.1"))
            return True
        wait_until(one_more, timeout=5, interval=0.2,
                   message="a new connection from 127.0.0.1 served after one of its 20 closed")
    finally:
        for ws in conns.values():
            close_all(ws)
    good_client_works(own_broker)


# ---------------------------------------------------------------------------------------------
# connections.max.idle.ms
# ---------------------------------------------------------------------------------------------

@pytest.mark.broker_settings({"connections.max.idle.ms": "2000"})
def test_idle_connections_closed(own_broker):
    """connections.max.idle.ms=2000: a connection that sent one request, and one that never sent
    anything, are closed after about 2 s of silence (between 1.5 s and 6 s is accepted); one
    sending ApiVersions every 500 ms stays open and answered for 7 s."""
    quiet = open_served(own_broker)          # one request, then silence
    quiet_since = time.monotonic()
    mute = Wire(own_broker.bootstrap, timeout=5)  # never sends a byte
    mute_since = time.monotonic()
    busy = open_served(own_broker)
    closed_at = {}
    try:
        answered = 0
        end = time.monotonic() + 7.0
        while time.monotonic() < end:
            resp = busy.request(ApiVersionsRequest(), 0, ApiVersionsResponse, timeout=5)
            assert resp.error_code == 0
            answered += 1
            now = time.monotonic()
            for name, w, since in (("quiet", quiet, quiet_since), ("mute", mute, mute_since)):
                if name not in closed_at and not w.is_open():
                    closed_at[name] = now - since
            time.sleep(0.5)
        print(f"idle connections closed after {closed_at} s")
        assert busy.is_open(), "the broker closed a connection sending a request every 500 ms"
        assert answered >= 10, f"only {answered} requests answered on the busy connection in 7 s"
        for name in ("quiet", "mute"):
            assert name in closed_at, (f"the {name} connection was still open after 7 s of silence "
                                       f"(connections.max.idle.ms=2000)")
            assert 1.5 <= closed_at[name] <= 6.0, (f"the {name} connection was closed after "
                                                   f"{closed_at[name]:.1f} s of silence, expected about 2 s")
    finally:
        for w in (quiet, mute, busy):
            w.close()
    good_client_works(own_broker)


# ---------------------------------------------------------------------------------------------
# queued.max.requests
# ---------------------------------------------------------------------------------------------

def create_topics_then_api_versions(bootstrap: str, partitions: int) -> tuple[float, float]:
    """Sends a CreateTopics of `partitions` partitions on one connection and, 50 ms later, an
    ApiVersions on another; returns when each answer arrived (seconds after the CreateTopics)."""
    ranges = api_versions(bootstrap)
    v = pick_version(ranges, CreateTopicsRequest, 2, 7)
    create = CreateTopicsRequest(
        topics=[CreateTopicsRequest.CreatableTopic(name=unique_topic("limits-slow"), num_partitions=partitions,
                                                   replication_factor=1, assignments=[], configs=[])],
        timeout_ms=60000, validate_only=False)
    with Wire(bootstrap, timeout=60) as creator, Wire(bootstrap, timeout=60) as probe:
        probe.request(ApiVersionsRequest(), 0, ApiVersionsResponse)  # connected and served first
        started = time.monotonic()
        creator.send(create, v)
        time.sleep(0.05)
        probe.send(ApiVersionsRequest(), 0)
        probe.recv_frame(60)
        probe_answered = time.monotonic() - started
        created = CreateTopicsResponse.decode(creator.recv_frame(60), version=v, header=True)
        assert created.topics[0].error_code == 0, f"CreateTopics failed: {created.topics[0]}"
        return time.monotonic() - started, probe_answered


@pytest.mark.broker_settings({"queued.max.requests": "1"})
def test_queued_max_requests_queues_work(own_broker):
    """queued.max.requests=1: while a CreateTopics of 3000 partitions is being worked on, another
    connection's ApiVersions waits for it (no error), and is answered at once afterwards. The
    control below, with the default of 500, answers it while the CreateTopics still runs."""
    create_done, probe_done = create_topics_then_api_versions(own_broker.bootstrap, 3000)
    assert create_done > 0.3, f"CreateTopics of 3000 partitions took only {create_done:.2f} s: too fast to show queueing"
    assert probe_done >= create_done - 0.05, (f"ApiVersions answered at {probe_done:.2f} s, before the CreateTopics "
                                              f"that held the only request slot ({create_done:.2f} s)")
    started = time.monotonic()
    api_versions(own_broker.bootstrap)
    assert time.monotonic() - started < 2, "ApiVersions still slow after the CreateTopics finished"
    good_client_works(own_broker)


def test_queued_max_requests_default_does_not_queue(own_broker):
    """The control of the test above: with the default queued.max.requests (500) the same
    ApiVersions is answered while the CreateTopics still runs."""
    create_done, probe_done = create_topics_then_api_versions(own_broker.bootstrap, 3000)
    assert create_done > 0.3, f"CreateTopics of 3000 partitions took only {create_done:.2f} s: too fast to compare"
    assert probe_done < create_done - 0.1, (f"ApiVersions answered at {probe_done:.2f} s, not before the CreateTopics "
                                            f"({create_done:.2f} s), with 500 request slots")


@pytest.mark.broker_settings({"queued.max.requests": "1"})
def test_long_polls_do_not_hold_request_slots(own_broker):
    """A Fetch waiting for data holds no request slot while it waits (Kafka parks it in
    purgatory): with queued.max.requests=1 and two Fetch requests long-polling an empty
    partition for 3 s, another connection's ApiVersions is answered at once, and the fetches
    still answer after their wait."""
    topic = unique_topic("limits-parked")
    md = metadata(own_broker.bootstrap, [topic], auto_create=True)
    assert md.topics[0].error_code == 0
    ranges = api_versions(own_broker.bootstrap)
    v = pick_version(ranges, FetchRequest, 4, 12)
    fetchers = [Wire(own_broker.bootstrap, timeout=10) for _ in range(2)]
    probe = Wire(own_broker.bootstrap, timeout=10)
    try:
        probe.request(ApiVersionsRequest(), 0, ApiVersionsResponse)  # connected and served first
        correlations = []
        fetch_started = time.monotonic()
        for w in fetchers:
            long_poll = fetch_request(topic, 0, 0, max_bytes=MiB, max_wait_ms=3000, min_bytes=1)
            correlations.append(w.send(long_poll, v))
        time.sleep(0.3)  # both fetches are read and waiting
        sent = time.monotonic()
        probe.send(ApiVersionsRequest(), 0)
        frame = probe.recv_frame(10)
        waited = time.monotonic() - sent
        assert struct.unpack(">h", frame[4:6])[0] == 0, "ApiVersions answered with an error"
        assert waited < 1.0, f"ApiVersions waited {waited:.2f} s behind two long-polling Fetch requests"
        for w, c in zip(fetchers, correlations):
            resp = FetchResponse.decode(w.recv_frame(10), version=v, header=True)
            assert resp.header.correlation_id == c and getattr(resp, "error_code", 0) in (0, None)
            assert resp.responses[0].partitions[0].error_code == 0
        elapsed = time.monotonic() - fetch_started
        assert 2.5 < elapsed < 8, f"the long polls answered after {elapsed:.2f} s, not after their 3 s wait"
    finally:
        for w in fetchers + [probe]:
            w.close()
    good_client_works(own_broker)


# ---------------------------------------------------------------------------------------------
# queued.max.request.bytes
# ---------------------------------------------------------------------------------------------

HALF_SENT = 300
RSS_GROWTH_BOUND_MIB = 64


@pytest.mark.broker_settings({"socket.request.max.bytes": str(MiB), "queued.max.request.bytes": str(2 * MiB)})
def test_queued_max_request_bytes(own_broker):
    """queued.max.request.bytes=2 MiB (socket.request.max.bytes=1 MiB): 300 connections each send
    the size prefix of a 1 MiB frame and half of it (512 KiB), then stop. Without the limit the
    broker holds ~150 MiB of partial frames; with it the broker stops reading (back-pressure: no
    error, no close) and its RSS grows by less than 64 MiB. A client that sent ApiVersions
    meanwhile is answered within 5 s of the half-sent connections closing; afterwards a ~900 KiB
    Produce is accepted."""
    time.sleep(0.3)
    half = struct.pack(">i", MiB) + header_v1(0, 8, 1) + b"\x00" * (MiB // 2)
    socks = []
    waiting = None
    try:
        with ProcessSampler(own_broker.proc.pid, interval=0.05) as sampler:
            for _ in range(HALF_SENT):
                s = socket.create_connection(("127.0.0.1", own_broker.port), timeout=5)
                socks.append(s)
                s.setblocking(False)
                sent = 0
                while sent < len(half):  # as much as the kernel takes now; bounded by its buffers
                    try:
                        sent += s.send(half[sent:sent + 65536])
                    except (BlockingIOError, InterruptedError):
                        break
            time.sleep(2.0)  # the broker reads whatever it is going to read
            waiting = Wire(own_broker.bootstrap, timeout=10)
            waiting.send(ApiVersionsRequest(), 0)
            time.sleep(1.0)
        growth = sampler.rss_growth_mib
        closed_by_broker = sum(1 for s in socks if not socket_is_open(s))
        assert growth < RSS_GROWTH_BOUND_MIB, (
            f"broker RSS grew by {growth:.0f} MiB (to {sampler.max_rss_mib:.0f} MiB) holding {HALF_SENT} "
            f"half-sent 1 MiB frames (queued.max.request.bytes=2 MiB; bound {RSS_GROWTH_BOUND_MIB} MiB)")
        assert closed_by_broker == 0, (f"the broker closed {closed_by_broker} of the half-sent connections "
                                       f"(expected back-pressure, no close)")
        close_all(socks)
        closed_at = time.monotonic()
        try:
            resp = waiting.recv_frame(5)
        except socket.timeout:
            pytest.fail("the client waiting behind the half-sent frames was not answered within 5 s of "
                        "their connections closing")
        assert struct.unpack(">h", resp[4:6])[0] == 0
        print(f"waiting client answered {time.monotonic() - closed_at:.2f} s after the half-sent connections closed")
    finally:
        close_all(socks)
        if waiting is not None:
            waiting.close()
    topic = unique_topic("limits-bytes")
    assert metadata(own_broker.bootstrap, [topic], auto_create=True).topics[0].error_code == 0
    r = produce_raw(own_broker.bootstrap, topic, 0, build_batch([(b"k", b"p" * (900 * 1024))]))
    assert r.error_code == 0, f"a 900 KiB Produce under socket.request.max.bytes failed: error {r.error_code}"
    good_client_works(own_broker)


# ---------------------------------------------------------------------------------------------
# fetch.max.bytes
# ---------------------------------------------------------------------------------------------

BATCH_VALUE = 100 * 1024


@pytest.mark.broker_settings({"fetch.max.bytes": str(MiB), "message.max.bytes": str(4 * MiB)})
def test_fetch_max_bytes(own_broker):
    """fetch.max.bytes=1 MiB: with 5 MiB stored in ~100 KiB batches, a Fetch asking for
    max_bytes=2**31-1 gets at most 1 MiB plus one batch; a single 2 MiB batch, larger than the
    limit, is still returned whole (KIP-74)."""
    topic = unique_topic("limits-fetch")
    assert metadata(own_broker.bootstrap, [topic], auto_create=True).topics[0].error_code == 0
    for i in range(50):
        r = produce_raw(own_broker.bootstrap, topic, 0, build_batch([(b"k%d" % i, bytes([i]) * BATCH_VALUE)]))
        assert r.error_code == 0, f"produce {i}: error {r.error_code}"
    p = fetch_raw(own_broker.bootstrap, topic, 0, 0, max_bytes=2**31 - 1)
    assert p.error_code == 0 and p.high_watermark == 50
    records = bytes(p.records or b"")
    batches = parse_batches(records)
    assert batches and batches[0]["base_offset"] == 0, "no complete batch from offset 0"
    assert [b["base_offset"] for b in batches] == list(range(len(batches)))
    largest = BATCH_VALUE + 1024  # one stored batch: a 100 KiB value plus headers
    size = len(records)
    assert size <= MiB + largest, (f"Fetch with max_bytes=2**31-1 returned {size} bytes "
                                           f"({len(batches)} batches); fetch.max.bytes=1 MiB allows at most "
                                           f"{MiB + largest}")
    # From the middle, a smaller request max is still honoured.
    p = fetch_raw(own_broker.bootstrap, topic, 0, 25, max_bytes=300 * 1024)
    assert p.error_code == 0
    mid = parse_batches(bytes(p.records or b""))
    assert mid and mid[0]["base_offset"] == 25 and len(bytes(p.records)) <= 300 * 1024 + largest

    big_topic = unique_topic("limits-fetch-big")
    assert metadata(own_broker.bootstrap, [big_topic], auto_create=True).topics[0].error_code == 0
    big = build_batch([(b"big", b"B" * (2 * MiB))])
    assert produce_raw(own_broker.bootstrap, big_topic, 0, big).error_code == 0
    p = fetch_raw(own_broker.bootstrap, big_topic, 0, 0, max_bytes=2**31 - 1)
    assert p.error_code == 0
    got = parse_batches(bytes(p.records or b""))
    assert len(got) == 1 and got[0]["count"] == 1, "a first batch larger than fetch.max.bytes was not returned whole"
    good_client_works(own_broker)


# ---------------------------------------------------------------------------------------------
# max.broker.partitions (KIP-578)
# ---------------------------------------------------------------------------------------------

LIMIT = 200


def total_partitions(bootstrap: str) -> tuple[int, dict[str, int]]:
    md = metadata(bootstrap, None)
    counts = {t.name: len(t.partitions) for t in md.topics if t.error_code == 0}
    return sum(counts.values()), counts


def refused_for_limit(result: tuple[int, str | None], what: str):
    code, message = result
    assert code == INVALID_PARTITIONS, f"{what}: error {code} ({message!r}), expected INVALID_PARTITIONS (37)"
    assert message and "max.broker.partitions" in message, f"{what}: message {message!r} does not name max.broker.partitions"


@pytest.mark.broker_settings({"max.broker.partitions": str(LIMIT)})
def test_max_broker_partitions(own_broker):
    """max.broker.partitions=200 counts every partition on the broker, internal topics included:
    CreateTopics, CreatePartitions and auto-creation that would go past it fail with
    INVALID_PARTITIONS naming the setting, and create nothing; reaching exactly 200 is allowed;
    CreateTopics with 1,000,000,000 partitions is refused at once."""
    bs = own_broker.bootstrap
    base, before = total_partitions(bs)
    headroom = LIMIT - base
    assert headroom > 20, f"{base} partitions at start (internal topics: {before}) leave no room under {LIMIT}"
    a, b = unique_topic("limits-parts-a"), unique_topic("limits-parts-b")

    assert create_topics_raw(bs, {a: headroom - 10})[a][0] == 0
    refused_for_limit(create_topics_raw(bs, {b: 11})[b], "CreateTopics of 11 partitions with 10 left")
    assert metadata(bs, [b]).topics[0].error_code == UNKNOWN_TOPIC_OR_PARTITION, "the refused topic was created"
    refused_for_limit(create_partitions_raw(bs, {a: headroom + 1})[a], "CreatePartitions 11 past the limit")
    assert len(metadata(bs, [a]).topics[0].partitions) == headroom - 10, "CreatePartitions added partitions anyway"

    assert create_topics_raw(bs, {b: 10})[b][0] == 0, "CreateTopics up to exactly the limit was refused"
    assert total_partitions(bs)[0] == LIMIT

    c = unique_topic("limits-parts-auto")
    md = metadata(bs, [c], auto_create=True)
    assert md.topics[0].error_code == INVALID_PARTITIONS, (
        f"auto-creation past max.broker.partitions: error {md.topics[0].error_code}, expected 37")
    assert metadata(bs, [c]).topics[0].error_code == UNKNOWN_TOPIC_OR_PARTITION, "the auto-created topic exists"

    huge = unique_topic("limits-parts-huge")
    started = time.monotonic()
    result = create_topics_raw(bs, {huge: 1_000_000_000}, timeout=10)[huge]
    assert time.monotonic() - started < 5, "CreateTopics of 1e9 partitions took more than 5 s to refuse"
    refused_for_limit(result, "CreateTopics of 1,000,000,000 partitions")
    served(bs)

    total, after = total_partitions(bs)
    assert total == LIMIT and set(after) == set(before) | {a, b}, f"partitions {total}, topics {sorted(after)}"
    round_trip(bs, topic=a, timeout=20)
    assert_alive(own_broker)


# ---------------------------------------------------------------------------------------------
# Array elements per request
# ---------------------------------------------------------------------------------------------

RSS_BOUND_MIB = 500


def test_request_with_two_million_array_elements(own_broker):
    """A DeleteTopics request naming a one-byte topic 2,000,000 times (a 6 MB frame, inside the
    100 MiB socket.request.max.bytes) exceeds the 1,000,000-element cap: the connection is closed
    without a response, other clients are served meanwhile, and broker RSS stays under 500 MiB."""
    with ProcessSampler(own_broker.proc.pid, interval=0.02) as sampler:
        w = Wire(own_broker.bootstrap, timeout=30)
        try:
            started = time.monotonic()
            w.send_raw(delete_topics_frame(2_000_000, 7))
            served(own_broker.bootstrap, timeout=10)  # another client, while that request is handled
            closed, got = await_close(w.sock, 30)
            took = time.monotonic() - started
        finally:
            w.close()
    assert len(got) == 0, (f"the broker answered a request with 2,000,000 array elements "
                     f"({len(got)} bytes after {took:.1f} s) instead of closing the connection")
    assert closed, "the broker neither answered nor closed within 30 s"
    assert not sampler.gone, "broker process disappeared"
    assert sampler.max_rss_mib < RSS_BOUND_MIB, f"broker RSS peaked at {sampler.max_rss_mib:.0f} MiB (bound {RSS_BOUND_MIB})"
    good_client_works(own_broker)


# ---------------------------------------------------------------------------------------------
# One partition listed 100,000 times in a Fetch
# ---------------------------------------------------------------------------------------------

def test_fetch_same_partition_100000_times(own_broker):
    """A Fetch listing one partition 100,000 times is answered (one entry per distinct partition,
    as Kafka collapses duplicates, or more), without a descriptor per entry: the broker's open
    descriptors stay under 1000 above the baseline during the request."""
    bs = own_broker.bootstrap
    topic = unique_topic("limits-dup")
    assert metadata(bs, [topic], auto_create=True).topics[0].error_code == 0
    assert produce_raw(bs, topic, 0, build_batch([(b"k", b"v" * 50)])).error_code == 0
    v = pick_version(api_versions(bs), FetchRequest, 4, 12)
    req = fetch_request(topic, 0, 0, max_bytes=2**31 - 1, partition_max_bytes=MiB, repeat=100_000)
    with ProcessSampler(own_broker.proc.pid, interval=0.005, fds=True) as sampler:
        w = Wire(bs, timeout=60)
        try:
            started = time.monotonic()
            resp = w.request(req, v, FetchResponse, timeout=60)
            took = time.monotonic() - started
        finally:
            w.close()
    grew = sampler.max_fds - sampler.baseline_fds
    assert grew < 1000, (f"broker descriptors rose from {sampler.baseline_fds} to {sampler.max_fds} during a Fetch "
                         f"listing one partition 100,000 times (answered in {took:.1f} s)")
    assert getattr(resp, "error_code", 0) in (0, None)
    entries = [(t.topic, p.partition_index) for t in resp.responses for p in t.partitions]
    assert 1 <= len(entries) <= 100_000 and set(entries) == {(topic, 0)}, f"{len(entries)} entries"
    first = resp.responses[0].partitions[0]
    assert first.error_code == 0 and first.high_watermark == 1
    assert len(parse_batches(bytes(first.records or b""))) == 1
    good_client_works(own_broker)
