#!/usr/bin/env python3
"""Records golden request vectors: the exact bytes real Kafka clients put on the wire.

A small *recording responder* listens on 127.0.0.1 (a free port per scenario), pretends to be a
single-node Kafka broker well enough for real clients to run their normal flows, answers with
kafka-python's message classes, and records every request frame it receives (the whole frame
after the 4-byte size prefix: request header + body). The clients are:

  * kafka-python    (the installed version): KafkaProducer once per codec (idempotent by
                     default), acks=1, acks=0, a 3-partition topic, transactional producer;
                     KafkaConsumer with a group (fetch sessions, commit, offsets_for_times), and
                     one resuming from a committed offset through a leader-epoch change
                     (OffsetForLeaderEpoch); KafkaAdminClient (topics, configs, groups, ...)
  * confluent-kafka (librdkafka): Producer once per codec, idempotent, 3-partition topic,
                     transactional; Consumer with a group, and the leader-epoch resume; AdminClient
  * kcat            (its bundled librdkafka): -P per codec, -P with transactions, -C, -G, -Q, -L

The responder keeps a real little log per partition (produced batches are stored with their
base offsets rewritten and served back by Fetch), group state (KIP-394 member-id round trip,
one generation per join), committed offsets, KIP-227 fetch sessions and producer ids, so the
clients get through their normal flows.

ApiVersions advertises exactly the ranges Strait's codec implements (ADVERTISED below), so
every client negotiates versions inside our range. An ApiVersions request above our max gets
the KIP-511 answer: error 35 (UNSUPPORTED_VERSION) in a v0 body listing our keys, with a v0
response header.

Regenerate the vectors (needs python3 with kafka-python 3.x + lz4/zstandard/python-snappy,
confluent-kafka, and kcat on PATH; takes a few seconds, every scenario is bounded by --timeout
and the whole run by --budget):

    python3 Tests/KafkaProtocolTests/Oracle/record_vectors.py \
        --out Tests/KafkaProtocolTests/Vectors

Other options: --only SUBSTR (run only matching scenarios), --jobs N (parallel scenarios),
--check-only (re-run the kafka-python sanity check on existing files), -v (log every frame).

Output: DIR/<client>.json for client in kafka-python, confluent-kafka, kcat: a JSON list of
  {"api_key": k, "api_version": v, "header_version": 1|2, "hex": "<header+body>",
   "note": "<scenario: what the client was doing>", "client_id": "...",
   # Produce only:
   "compression": "none|gzip|snappy|lz4|zstd", "batch_compression": "...",
   "records": [{"key": str|null, "value": str|null, "headers": [[str, str|null], ...]}, ...],
   "records_complete": true|false,
   # only on frames with bytes after the request body:
   "trailing_bytes": "<hex>"}
Frames are de-duplicated ignoring the correlation id (bytes 4..8 of the frame), and at most
MAX_PER_VERSION frames are kept per (api_key, api_version) per client, picked round-robin across
scenarios (Produce keeps one per scenario). For Produce, "records" lists the records carried by
the frame's batches in frame order (topic, partition, batch, record), as the client was asked to
send them (UTF-8 text; every one is cross-checked against the scenario's input), so a test can
decompress the batches and compare; "records_complete" says whether the frame carries all
records the scenario asked the client to send; "compression" is the codec the client was asked
for and "batch_compression" the codec actually found in the batch attributes (they differ for
kcat's gzip/snappy/lz4: librdkafka 2.0.2 only compresses those when the broker's Produce
range includes v0, and Strait advertises 3-9; the kcat-produce-*-produce0 scenarios re-run them
against a responder advertising Produce 0-9, which is the only deviation from Strait's ranges). "trailing_bytes" (hex), when present, marks a frame
that carries bytes after the end of the request body (librdkafka's all-topics Metadata request
does); a decoder that ignores them and re-encodes gets the frame without that suffix.

After writing, every vector is decoded with kafka-python's request classes (header + body) and
re-encoded; the per-client counts of clean decodes / byte-identical re-encodes are printed.
"""

import argparse
import collections
import concurrent.futures
import itertools
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import uuid

import kafka.protocol.admin  # noqa: F401  (registers the message classes)
import kafka.protocol.consumer  # noqa: F401
import kafka.protocol.metadata  # noqa: F401
import kafka.protocol.producer  # noqa: F401
from kafka.protocol.api_message import ApiMessage

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "Vectors"))
MAX_PER_VERSION = 6
CLUSTER_ID = "strait-oracle-cluster"
NS = uuid.UUID("6f1d7e3c-5b0a-4c2e-9a51-3c1f2b7d9e10")

# The API version ranges Strait's codec implements; advertised verbatim in ApiVersions.
ADVERTISED = {
    0: (3, 9),     # Produce
    1: (4, 12),    # Fetch
    2: (1, 7),     # ListOffsets
    3: (0, 12),    # Metadata
    8: (2, 8),     # OffsetCommit
    9: (1, 8),     # OffsetFetch
    10: (0, 4),    # FindCoordinator
    11: (0, 9),    # JoinGroup
    12: (0, 4),    # Heartbeat
    13: (0, 5),    # LeaveGroup
    14: (0, 5),    # SyncGroup
    15: (0, 5),    # DescribeGroups
    16: (0, 4),    # ListGroups
    18: (0, 4),    # ApiVersions
    19: (2, 7),    # CreateTopics
    20: (1, 6),    # DeleteTopics
    21: (0, 2),    # DeleteRecords
    22: (0, 4),    # InitProducerId
    23: (2, 4),    # OffsetForLeaderEpoch
    24: (0, 3),    # AddPartitionsToTxn
    25: (0, 3),    # AddOffsetsToTxn
    26: (0, 3),    # EndTxn
    28: (0, 3),    # TxnOffsetCommit
    32: (1, 4),    # DescribeConfigs
    33: (0, 2),    # AlterConfigs
    37: (0, 3),    # CreatePartitions
    42: (0, 2),    # DeleteGroups
    44: (0, 1),    # IncrementalAlterConfigs
    47: (0, 0),    # OffsetDelete
    60: (0, 1),    # DescribeCluster
}

CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def _message_classes():
    req, resp = {}, {}

    def subs(c):
        for s in c.__subclasses__():
            yield s
            yield from subs(s)

    for c in subs(ApiMessage):
        if getattr(c, "_class_version", None) is None and getattr(c, "_json", None):
            (req if c.is_request() else resp)[c.API_KEY] = c
    return req, resp


REQUESTS, RESPONSES = _message_classes()
API_NAMES = {k: c.name.replace("Request", "") for k, c in REQUESTS.items()}


def header_version(api_key, api_version):
    cls = REQUESTS.get(api_key)
    if api_key == 7 and api_version == 0:   # ControlledShutdown v0 (never advertised)
        return 0
    if cls is not None and cls.flexible_version_q(api_version):
        return 2
    if cls is None and api_key == 18 and api_version >= 3:
        return 2
    return 1


def parse_request_header(frame):
    """(api_key, api_version, correlation_id, client_id, header_length) of a request frame."""
    api_key, api_version, corr = struct.unpack_from(">hhi", frame, 0)
    pos = 8
    (n,) = struct.unpack_from(">h", frame, pos)
    pos += 2
    client_id = None
    if n >= 0:
        client_id = frame[pos:pos + n].decode("utf-8", "replace")
        pos += n
    if header_version(api_key, api_version) >= 2:
        count, pos = read_uvarint(frame, pos)
        for _ in range(count):
            _tag, pos = read_uvarint(frame, pos)
            size, pos = read_uvarint(frame, pos)
            pos += size
    return api_key, api_version, corr, client_id, pos


def read_uvarint(buf, pos):
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


# --------------------------------------------------------------------------------------------
# Record batches
# --------------------------------------------------------------------------------------------

def split_batches(data):
    """Splits a records blob into (offset, bytes) of each v2 batch."""
    out = []
    pos = 0
    data = bytes(data or b"")
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">i", data, pos + 8)
        end = pos + 12 + length
        if end > len(data):
            break
        out.append(data[pos:end])
        pos = end
    return out


def batch_record_count(batch):
    (last_offset_delta,) = struct.unpack_from(">i", batch, 23)
    return last_offset_delta + 1


def build_batch(records, codec="none", base_offset=0):
    from kafka.record.default_records import DefaultRecordBatchBuilder
    b = DefaultRecordBatchBuilder(magic=2, compression_type=CODEC_IDS[codec], is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    ts = 1_700_000_000_000
    for i, r in enumerate(records):
        b.append(i, ts + i, enc(r["key"]), enc(r["value"]),
                 [(k, enc(v)) for k, v in r["headers"]])
    data = bytearray(b.build())
    struct.pack_into(">q", data, 0, base_offset)
    return bytes(data)


def decode_batches(data):
    """[(codec_name, crc_ok, [record dict])] for each batch in a records blob."""
    from kafka.record.default_records import DefaultRecordBatch
    names = {v: k for k, v in CODEC_IDS.items()}
    out = []
    for raw in split_batches(data):
        batch = DefaultRecordBatch(bytearray(raw))
        crc_ok = batch.validate_crc()
        recs = []
        for r in batch:
            recs.append({"key": dec(r.key), "value": dec(r.value),
                         "headers": [[k, dec(v)] for k, v in r.headers]})
        out.append((names.get(batch.compression_type, str(batch.compression_type)), crc_ok, recs))
    return out


def enc(s):
    return None if s is None else s.encode("utf-8")


def dec(b):
    return None if b is None else bytes(b).decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# The recording responder
# --------------------------------------------------------------------------------------------

class Group:
    def __init__(self, gid):
        self.gid = gid
        self.members = collections.OrderedDict()  # member_id -> dict
        self.generation = 0
        self.protocol_type = "consumer"
        self.protocol = None
        self.leader = None
        self.assignments = {}
        self.ids = itertools.count()


class Broker:
    """A single-node Kafka impostor (node 0) that records every request frame."""

    def __init__(self, scenario, verbose=False, advertise_override=None):
        self.scenario = scenario
        self.advertised = dict(ADVERTISED)
        self.advertised.update({k: tuple(v) for k, v in (advertise_override or {}).items()})
        self.verbose = verbose
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.frames = []
        self.problems = []
        self.topics = {}       # name -> {"id": UUID, "parts": [[batch bytes...]], "hw": [int], "lso": [int]}
        self.groups = {}
        self.committed = {}    # group -> {(topic, partition): (offset, metadata, leader_epoch)}
        self.pids = itertools.count(4000)
        self.leader_epoch = 0
        self.epoch_bump = False
        self.fetch_sessions = {}
        self.session_ids = itertools.count(7001)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        self.conns = []
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    # ---- plumbing

    def stop(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            self.cond.notify_all()
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass

    def _accept_loop(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _recv_exact(conn, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _serve(self, conn):
        try:
            while not self.closed:
                head = self._recv_exact(conn, 4)
                if head is None:
                    return
                (size,) = struct.unpack(">i", head)
                frame = self._recv_exact(conn, size)
                if frame is None:
                    return
                reply = self._handle_frame(frame)
                if reply is False:
                    return  # close the connection
                if reply:
                    conn.sendall(reply)
        except (OSError, ConnectionError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _handle_frame(self, frame):
        api_key, api_version, corr, client_id, _ = parse_request_header(frame)
        with self.lock:
            self.frames.append({"api_key": api_key, "api_version": api_version,
                                "header_version": header_version(api_key, api_version),
                                "frame": frame, "client_id": client_id, "t": time.time()})
        if self.verbose:
            print("  [%s] %s v%d corr=%d client=%s (%d bytes)" % (
                self.scenario, API_NAMES.get(api_key, api_key), api_version, corr, client_id,
                len(frame)), flush=True)
        if api_key == 18 and api_version > self.advertised[18][1]:
            return self._kip511(corr)
        rng = self.advertised.get(api_key)
        if rng is None or not rng[0] <= api_version <= rng[1]:
            self.problems.append("unadvertised %s v%d from %s" % (
                API_NAMES.get(api_key, api_key), api_version, client_id))
            return False
        req_cls = REQUESTS[api_key]
        try:
            req = req_cls.decode(frame, version=api_version, header=True)
        except Exception as e:  # noqa: BLE001
            self.problems.append("decode %s v%d failed: %r" % (API_NAMES[api_key], api_version, e))
            return False
        handler = getattr(self, "h_%d" % api_key, None)
        try:
            resp = handler(req, api_version, client_id) if handler else self._default(api_key, api_version)
        except Exception:  # noqa: BLE001
            self.problems.append("handler %s v%d: %s" % (
                API_NAMES[api_key], api_version, traceback.format_exc(limit=3)))
            return False
        if resp is None:
            return b""   # e.g. Produce with acks=0
        resp.with_header(correlation_id=corr)
        return resp.encode(header=True, framed=True)

    def _resp(self, api_key, version, **fields):
        return RESPONSES[api_key](version=version, **fields)

    def _default(self, api_key, version):
        return RESPONSES[api_key](version=version)

    def _kip511(self, corr):
        R = RESPONSES[18]
        keys = [R.ApiVersion(api_key=k, min_version=lo, max_version=hi)
                for k, (lo, hi) in sorted(self.advertised.items())]
        resp = R(version=0, error_code=35, api_keys=keys)
        resp.with_header(correlation_id=corr)
        return resp.encode(header=True, framed=True)

    # ---- state helpers

    def topic_id(self, name):
        return uuid.uuid5(NS, "topic/" + name)

    def create_topic(self, name, partitions=1):
        with self.lock:
            if name in self.topics:
                return False
            partitions = max(1, partitions)
            self.topics[name] = {"id": self.topic_id(name), "parts": [[] for _ in range(partitions)],
                                 "hw": [0] * partitions}
            return True

    def append(self, topic, partition, records_blob):
        """Appends the batches of a records blob; returns the base offset."""
        with self.lock:
            t = self.topics[topic]
            base = t["hw"][partition]
            for raw in split_batches(records_blob):
                data = bytearray(raw)
                struct.pack_into(">q", data, 0, t["hw"][partition])
                t["parts"][partition].append(bytes(data))
                t["hw"][partition] += batch_record_count(data)
            self.cond.notify_all()
            return base

    def preset(self, topic, records_blob, partition=0, partitions=1):
        """Creates topic (if new) and puts records_blob's batches in partition verbatim (base offsets
        kept as encoded); the high watermark becomes the end of the last batch and the log start
        offset (ListOffsets earliest) the first batch's base offset."""
        self.create_topic(topic, partitions)
        with self.lock:
            t = self.topics[topic]
            batches = split_batches(records_blob)
            t["parts"][partition] = list(batches)
            ends = [struct.unpack_from(">q", b, 0)[0] + batch_record_count(b) for b in batches]
            t["hw"][partition] = max(ends) if ends else 0
            t.setdefault("start", [0] * len(t["parts"]))[partition] = \
                struct.unpack_from(">q", batches[0], 0)[0] if batches else 0
            self.cond.notify_all()

    def seed(self, topic, batches_records, partitions=1):
        self.create_topic(topic, partitions)
        for codec, recs in batches_records:
            self.append(topic, 0, build_batch(recs, codec))

    def read(self, topic, partition, offset, max_bytes):
        with self.lock:
            out = bytearray()
            for b in self.topics[topic]["parts"][partition]:
                (base,) = struct.unpack_from(">q", b, 0)
                if base + batch_record_count(b) <= offset:
                    continue
                if out and len(out) + len(b) > max_bytes:
                    break
                out += b
            return bytes(out)

    def _broker(self, R, version):
        return R.MetadataResponseBroker(node_id=0, host="127.0.0.1", port=self.port, rack=None)

    # ---- handlers: h_<api_key>(request, version, client_id) -> response or None

    def h_18(self, req, v, cid):  # ApiVersions
        R = RESPONSES[18]
        keys = [R.ApiVersion(api_key=k, min_version=lo, max_version=hi)
                for k, (lo, hi) in sorted(self.advertised.items())]
        return R(version=v, error_code=0, api_keys=keys, throttle_time_ms=0)

    def h_3(self, req, v, cid):  # Metadata
        R = RESPONSES[3]
        T = R.MetadataResponseTopic
        P = T.MetadataResponsePartition
        with self.lock:
            if req.topics is None or (v == 0 and not req.topics):
                wanted = sorted(self.topics)
            else:
                wanted = []
                by_id = {t["id"]: n for n, t in self.topics.items()}
                for t in req.topics:
                    name = t.name
                    if name is None and getattr(t, "topic_id", None) is not None:
                        name = by_id.get(t.topic_id)
                    wanted.append(name)
            auto = v < 4 or req.allow_auto_topic_creation
            topics = []
            for name in wanted:
                if name is not None and name not in self.topics and auto and not name.startswith("_"):
                    self.create_topic(name, 1)
                if name is None or name not in self.topics:
                    topics.append(T(error_code=3, name=name, topic_id=uuid.UUID(int=0), is_internal=False,
                                    partitions=[]))
                    continue
                t = self.topics[name]
                parts = [P(error_code=0, partition_index=i, leader_id=0, leader_epoch=self.leader_epoch,
                           replica_nodes=[0], isr_nodes=[0], offline_replicas=[])
                         for i in range(len(t["parts"]))]
                topics.append(T(error_code=0, name=name, topic_id=t["id"], is_internal=False,
                                partitions=parts))
        return R(version=v, throttle_time_ms=0, brokers=[self._broker(R, v)], cluster_id=CLUSTER_ID,
                 controller_id=0, topics=topics)

    def h_0(self, req, v, cid):  # Produce
        R = RESPONSES[0]
        TR = R.TopicProduceResponse
        PR = TR.PartitionProduceResponse
        out = []
        for td in req.topic_data:
            parts = []
            for pd in td.partition_data:
                with self.lock:
                    known = td.name in self.topics and 0 <= pd.index < len(self.topics[td.name]["parts"])
                if not known:
                    parts.append(PR(index=pd.index, error_code=3, base_offset=-1, log_append_time_ms=-1,
                                    log_start_offset=-1, record_errors=[], error_message=None))
                    continue
                base = self.append(td.name, pd.index, pd.records)
                parts.append(PR(index=pd.index, error_code=0, base_offset=base, log_append_time_ms=-1,
                                log_start_offset=0, record_errors=[], error_message=None))
            out.append(TR(name=td.name, partition_responses=parts))
        if req.acks == 0:
            return None
        return R(version=v, responses=out, throttle_time_ms=0)

    def h_1(self, req, v, cid):  # Fetch (with KIP-227 fetch sessions from v7)
        R = RESPONSES[1]
        TR = R.FetchableTopicResponse
        PD = TR.PartitionData
        wait_until = time.time() + min(max(req.max_wait_ms, 0), 500) / 1000.0
        asked = collections.OrderedDict()
        for t in req.topics:
            for p in t.partitions:
                asked[(t.topic, p.partition)] = (p.fetch_offset, p.current_leader_epoch if v >= 9 else -1)
        sid, epoch = (req.session_id, req.session_epoch) if v >= 7 else (0, -1)
        with self.cond:
            if epoch == 0:                       # full fetch that opens a new session
                sid = next(self.session_ids)
                session = self.fetch_sessions[sid] = collections.OrderedDict(asked)
                incremental = False
            elif sid != 0 and epoch > 0:         # incremental fetch on an open session
                session = self.fetch_sessions.get(sid)
                if session is None:
                    return R(version=v, throttle_time_ms=0, error_code=70, session_id=0, responses=[])
                session.update(asked)
                for ft in req.forgotten_topics_data:
                    for p in ft.partitions:
                        session.pop((ft.topic, p), None)
                incremental = True
            else:                                # sessionless (epoch -1), closes any session
                self.fetch_sessions.pop(sid, None)
                session, sid, incremental = asked, 0, False

            def ready(key, pos):
                info = self.topics.get(key[0])
                return (info is None or key[1] >= len(info["hw"]) or pos[0] != info["hw"][key[1]]
                        or 0 <= pos[1] < self.leader_epoch)

            while (not self.closed and time.time() < wait_until
                   and not any(ready(k, o) for k, o in session.items())):
                self.cond.wait(max(0.0, wait_until - time.time()))
            by_topic = collections.OrderedDict()
            bump = False
            for (topic, part), (offset, leader_epoch) in session.items():
                if incremental and (topic, part) not in asked and not ready((topic, part), (offset, leader_epoch)):
                    continue                     # unchanged partitions are left out
                info = self.topics.get(topic)
                if info is None or part >= len(info["hw"]):
                    pd = PD(partition_index=part, error_code=3, high_watermark=-1, last_stable_offset=-1,
                            log_start_offset=-1, aborted_transactions=None, preferred_read_replica=-1,
                            records=b"")
                else:
                    hw = info["hw"][part]
                    if 0 <= leader_epoch < self.leader_epoch:
                        err, recs = 74, b""  # FENCED_LEADER_EPOCH: the client has a stale leader epoch
                    elif offset > hw or offset < 0:
                        err, recs = 1, b""   # OFFSET_OUT_OF_RANGE
                    else:
                        err, recs = 0, self.read(topic, part, offset, 1 << 20)
                        bump = bump or bool(recs)
                    pd = PD(partition_index=part, error_code=err, high_watermark=hw, last_stable_offset=hw,
                            log_start_offset=0, aborted_transactions=[] if req.isolation_level == 1 else None,
                            preferred_read_replica=-1, records=recs)
                by_topic.setdefault(topic, []).append(pd)
            responses = [TR(topic=t, partitions=ps) for t, ps in by_topic.items()]
            if bump and self.epoch_bump:         # new leader epoch after the first data: the client
                self.epoch_bump = False          # gets FENCED_LEADER_EPOCH, refreshes metadata and
                self.leader_epoch += 1           # validates its position (OffsetForLeaderEpoch)
        return R(version=v, throttle_time_ms=0, error_code=0, session_id=sid, responses=responses)

    def h_2(self, req, v, cid):  # ListOffsets
        R = RESPONSES[2]
        TR = R.ListOffsetsTopicResponse
        PR = TR.ListOffsetsPartitionResponse
        out = []
        with self.lock:
            for t in req.topics:
                info = self.topics.get(t.name)
                parts = []
                for p in t.partitions:
                    if info is None or p.partition_index >= len(info["hw"]):
                        parts.append(PR(partition_index=p.partition_index, error_code=3, timestamp=-1,
                                        offset=-1, leader_epoch=-1))
                        continue
                    hw = info["hw"][p.partition_index]
                    start = info.get("start", [0] * len(info["hw"]))[p.partition_index]
                    off = {-1: hw, -2: start, -3: hw}.get(p.timestamp, start)
                    parts.append(PR(partition_index=p.partition_index, error_code=0, timestamp=-1,
                                    offset=off, leader_epoch=self.leader_epoch))
                out.append(TR(name=t.name, partitions=parts))
        return R(version=v, throttle_time_ms=0, topics=out)

    def h_10(self, req, v, cid):  # FindCoordinator
        R = RESPONSES[10]
        if v >= 4:
            coords = [R.Coordinator(key=k, node_id=0, host="127.0.0.1", port=self.port, error_code=0,
                                    error_message=None) for k in req.coordinator_keys]
            return R(version=v, throttle_time_ms=0, coordinators=coords)
        return R(version=v, throttle_time_ms=0, error_code=0, error_message=None, node_id=0,
                 host="127.0.0.1", port=self.port)

    def _group(self, gid):
        with self.lock:
            if gid not in self.groups:
                self.groups[gid] = Group(gid)
            return self.groups[gid]

    def h_11(self, req, v, cid):  # JoinGroup
        R = RESPONSES[11]
        g = self._group(req.group_id)
        with self.lock:
            mid = req.member_id
            if not mid:
                mid = "%s-%s" % (cid or "member", uuid.uuid5(NS, "%s/%s/%d" % (
                    self.scenario, req.group_id, next(g.ids))))
                if v >= 4:   # KIP-394: hand out the member id and ask the client to rejoin
                    return R(version=v, throttle_time_ms=0, error_code=79, generation_id=-1,
                             protocol_type=None, protocol_name=None if v >= 7 else "",
                             leader="", skip_assignment=False, member_id=mid, members=[])
            g.members[mid] = {"client_id": cid, "protocol_type": req.protocol_type,
                              "protocols": [(p.name, bytes(p.metadata)) for p in req.protocols],
                              "instance": getattr(req, "group_instance_id", None)}
            g.protocol_type = req.protocol_type
            g.generation += 1
            if g.leader not in g.members:
                g.leader = mid
            leader_protocols = [n for n, _ in g.members[g.leader]["protocols"]]
            common = [n for n in leader_protocols
                      if all(n in [x for x, _ in m["protocols"]] for m in g.members.values())]
            g.protocol = common[0] if common else leader_protocols[0]
            members = []
            if mid == g.leader:
                for m_id, m in g.members.items():
                    meta = dict(m["protocols"]).get(g.protocol, b"")
                    members.append(R.JoinGroupResponseMember(member_id=m_id, group_instance_id=m["instance"],
                                                             metadata=meta))
            return R(version=v, throttle_time_ms=0, error_code=0, generation_id=g.generation,
                     protocol_type=g.protocol_type, protocol_name=g.protocol, leader=g.leader,
                     skip_assignment=False, member_id=mid, members=members)

    def h_14(self, req, v, cid):  # SyncGroup
        R = RESPONSES[14]
        g = self._group(req.group_id)
        with self.lock:
            if req.assignments:
                g.assignments = {a.member_id: bytes(a.assignment) for a in req.assignments}
            assignment = g.assignments.get(req.member_id, b"")
        return R(version=v, throttle_time_ms=0, error_code=0, protocol_type=g.protocol_type,
                 protocol_name=g.protocol, assignment=assignment)

    def h_12(self, req, v, cid):  # Heartbeat
        return self._resp(12, v, throttle_time_ms=0, error_code=0)

    def h_13(self, req, v, cid):  # LeaveGroup
        R = RESPONSES[13]
        g = self._group(req.group_id)
        out = []
        with self.lock:
            ids = [m.member_id for m in req.members] if v >= 3 else [req.member_id]
            for m in (req.members if v >= 3 else []):
                out.append(R.MemberResponse(member_id=m.member_id, group_instance_id=m.group_instance_id,
                                            error_code=0))
            for mid in ids:
                g.members.pop(mid, None)
            if g.leader not in g.members:
                g.leader = next(iter(g.members), None)
        return R(version=v, throttle_time_ms=0, error_code=0, members=out)

    def h_8(self, req, v, cid):  # OffsetCommit
        R = RESPONSES[8]
        T = R.OffsetCommitResponseTopic
        out = []
        with self.lock:
            store = self.committed.setdefault(req.group_id, {})
            for t in req.topics:
                parts = []
                for p in t.partitions:
                    store[(t.name, p.partition_index)] = (p.committed_offset, p.committed_metadata,
                                                          p.committed_leader_epoch)
                    parts.append(T.OffsetCommitResponsePartition(partition_index=p.partition_index,
                                                                 error_code=0))
                out.append(T(name=t.name, partitions=parts))
        return R(version=v, throttle_time_ms=0, topics=out)

    def _offsets_for(self, gid, topics):
        """[(topic, [(partition, offset, metadata, epoch)])] for an OffsetFetch."""
        store = self.committed.get(gid, {})
        if topics is None:
            names = sorted({t for (t, _) in store})
            topics = [(n, sorted(p for (t, p) in store if t == n)) for n in names]
        out = []
        for name, parts in topics:
            rows = []
            for p in parts:
                off, meta, epoch = store.get((name, p), (-1, "", -1))
                rows.append((p, off, meta if meta is not None else "", epoch))
            out.append((name, rows))
        return out

    def h_9(self, req, v, cid):  # OffsetFetch
        R = RESPONSES[9]
        with self.lock:
            if v >= 8:
                GT = R.OffsetFetchResponseGroup.OffsetFetchResponseTopics
                groups = []
                for grp in req.groups:
                    topics = None if grp.topics is None else [(t.name, list(t.partition_indexes))
                                                               for t in grp.topics]
                    rows = self._offsets_for(grp.group_id, topics)
                    groups.append(R.OffsetFetchResponseGroup(group_id=grp.group_id, error_code=0, topics=[
                        GT(name=n, partitions=[GT.OffsetFetchResponsePartitions(
                            partition_index=p, committed_offset=o, committed_leader_epoch=e, metadata=m,
                            error_code=0) for p, o, m, e in ps]) for n, ps in rows]))
                return R(version=v, throttle_time_ms=0, groups=groups)
            T = R.OffsetFetchResponseTopic
            topics = None if req.topics is None else [(t.name, list(t.partition_indexes)) for t in req.topics]
            rows = self._offsets_for(req.group_id, topics)
            return R(version=v, throttle_time_ms=0, error_code=0, topics=[
                T(name=n, partitions=[T.OffsetFetchResponsePartition(
                    partition_index=p, committed_offset=o, committed_leader_epoch=e, metadata=m, error_code=0)
                    for p, o, m, e in ps]) for n, ps in rows])

    def h_15(self, req, v, cid):  # DescribeGroups
        R = RESPONSES[15]
        G = R.DescribedGroup
        out = []
        with self.lock:
            for gid in req.groups:
                g = self.groups.get(gid)
                if g is None:
                    out.append(G(error_code=0, group_id=gid, group_state="Dead", protocol_type="",
                                 protocol_data="", members=[]))
                    continue
                members = [G.DescribedGroupMember(
                    member_id=mid, group_instance_id=m["instance"], client_id=m["client_id"] or "",
                    client_host="/127.0.0.1", member_metadata=dict(m["protocols"]).get(g.protocol, b""),
                    member_assignment=g.assignments.get(mid, b"")) for mid, m in g.members.items()]
                out.append(G(error_code=0, group_id=gid, group_state="Stable" if members else "Empty",
                             protocol_type=g.protocol_type, protocol_data=g.protocol or "", members=members))
        return R(version=v, throttle_time_ms=0, groups=out)

    def h_16(self, req, v, cid):  # ListGroups
        R = RESPONSES[16]
        with self.lock:
            groups = [R.ListedGroup(group_id=gid, protocol_type=g.protocol_type,
                                    group_state="Stable" if g.members else "Empty", group_type="classic")
                      for gid, g in sorted(self.groups.items())]
        return R(version=v, throttle_time_ms=0, error_code=0, groups=groups)

    def h_42(self, req, v, cid):  # DeleteGroups
        R = RESPONSES[42]
        out = []
        with self.lock:
            for gid in req.groups_names:
                known = gid in self.groups or gid in self.committed
                self.groups.pop(gid, None)
                self.committed.pop(gid, None)
                out.append(R.DeletableGroupResult(group_id=gid, error_code=0 if known else 69))
        return R(version=v, throttle_time_ms=0, results=out)

    def h_47(self, req, v, cid):  # OffsetDelete
        R = RESPONSES[47]
        T = R.OffsetDeleteResponseTopic
        out = []
        with self.lock:
            store = self.committed.get(req.group_id, {})
            for t in req.topics:
                for p in t.partitions:
                    store.pop((t.name, p.partition_index), None)
                out.append(T(name=t.name, partitions=[T.OffsetDeleteResponsePartition(
                    partition_index=p.partition_index, error_code=0) for p in t.partitions]))
        return R(version=v, error_code=0, throttle_time_ms=0, topics=out)

    def h_19(self, req, v, cid):  # CreateTopics
        R = RESPONSES[19]
        out = []
        for t in req.topics:
            n = t.num_partitions if t.num_partitions > 0 else (len(t.assignments) or 1)
            rf = t.replication_factor if t.replication_factor > 0 else 1
            created = req.validate_only or self.create_topic(t.name, n)
            if req.validate_only and t.name in self.topics:
                created = False
            out.append(R.CreatableTopicResult(
                name=t.name, topic_id=self.topic_id(t.name), error_code=0 if created else 36,
                error_message=None if created else "Topic '%s' already exists." % t.name,
                num_partitions=n if created else -1, replication_factor=rf if created else -1,
                configs=[] if created else None))
        return R(version=v, throttle_time_ms=0, topics=out)

    def h_20(self, req, v, cid):  # DeleteTopics
        R = RESPONSES[20]
        names = [t.name for t in req.topics] if v >= 6 else list(req.topic_names)
        out = []
        with self.lock:
            for n in names:
                known = n in self.topics
                self.topics.pop(n, None)
                out.append(R.DeletableTopicResult(name=n, topic_id=self.topic_id(n or ""),
                                                  error_code=0 if known else 3, error_message=None))
        return R(version=v, throttle_time_ms=0, responses=out)

    def h_21(self, req, v, cid):  # DeleteRecords
        R = RESPONSES[21]
        T = R.DeleteRecordsTopicResult
        out = []
        with self.lock:
            for t in req.topics:
                hw = self.topics.get(t.name, {}).get("hw", [])
                parts = []
                for p in t.partitions:
                    off = p.offset if p.offset >= 0 else (hw[p.partition_index] if p.partition_index < len(hw) else 0)
                    parts.append(T.DeleteRecordsPartitionResult(partition_index=p.partition_index,
                                                                low_watermark=off, error_code=0))
                out.append(T(name=t.name, partitions=parts))
        return R(version=v, throttle_time_ms=0, topics=out)

    def h_37(self, req, v, cid):  # CreatePartitions
        R = RESPONSES[37]
        out = []
        with self.lock:
            for t in req.topics:
                info = self.topics.get(t.name)
                if info is None:
                    out.append(R.CreatePartitionsTopicResult(name=t.name, error_code=3, error_message=None))
                    continue
                if not req.validate_only:
                    while len(info["parts"]) < t.count:
                        info["parts"].append([])
                        info["hw"].append(0)
                out.append(R.CreatePartitionsTopicResult(name=t.name, error_code=0, error_message=None))
        return R(version=v, throttle_time_ms=0, results=out)

    CONFIGS = {
        2: [("cleanup.policy", "delete"), ("compression.type", "producer"), ("retention.ms", "604800000"),
            ("max.message.bytes", "1048588"), ("min.insync.replicas", "1")],
        4: [("log.retention.hours", "168"), ("num.partitions", "1"), ("auto.create.topics.enable", "true"),
            ("message.max.bytes", "1048588")],
    }

    def h_32(self, req, v, cid):  # DescribeConfigs
        R = RESPONSES[32]
        Res = R.DescribeConfigsResult
        C = Res.DescribeConfigsResourceResult
        out = []
        for r in req.resources:
            entries = self.CONFIGS.get(r.resource_type, [])
            if r.configuration_keys is not None:
                entries = [e for e in entries if e[0] in r.configuration_keys]
            configs = [C(name=n, value=val, read_only=False, config_source=5, is_default=True,
                         is_sensitive=False, synonyms=[], config_type=2, documentation=None)
                       for n, val in entries]
            out.append(Res(error_code=0, error_message=None, resource_type=r.resource_type,
                           resource_name=r.resource_name, configs=configs))
        return R(version=v, throttle_time_ms=0, results=out)

    def _alter_configs(self, key, req, v):
        R = RESPONSES[key]
        out = [R.AlterConfigsResourceResponse(error_code=0, error_message=None, resource_type=r.resource_type,
                                              resource_name=r.resource_name) for r in req.resources]
        return R(version=v, throttle_time_ms=0, responses=out)

    def h_33(self, req, v, cid):  # AlterConfigs
        return self._alter_configs(33, req, v)

    def h_44(self, req, v, cid):  # IncrementalAlterConfigs
        return self._alter_configs(44, req, v)

    def h_60(self, req, v, cid):  # DescribeCluster
        R = RESPONSES[60]
        return R(version=v, throttle_time_ms=0, error_code=0, error_message=None, endpoint_type=1,
                 cluster_id=CLUSTER_ID, controller_id=0, brokers=[R.DescribeClusterBroker(
                     broker_id=0, host="127.0.0.1", port=self.port, rack=None)])

    def h_22(self, req, v, cid):  # InitProducerId
        with self.lock:
            pid = next(self.pids)
        epoch = 0 if getattr(req, "producer_epoch", -1) in (-1, None) else req.producer_epoch + 1
        return self._resp(22, v, throttle_time_ms=0, error_code=0, producer_id=pid, producer_epoch=epoch)

    def h_23(self, req, v, cid):  # OffsetForLeaderEpoch
        R = RESPONSES[23]
        T = R.OffsetForLeaderTopicResult
        out = []
        with self.lock:
            for t in req.topics:
                info = self.topics.get(t.topic)
                parts = []
                for p in t.partitions:
                    known = info is not None and p.partition < len(info["hw"])
                    parts.append(T.EpochEndOffset(error_code=0 if known else 3, partition=p.partition,
                                                  leader_epoch=min(p.leader_epoch, self.leader_epoch)
                                                  if known else -1,
                                                  end_offset=info["hw"][p.partition] if known else -1))
                out.append(T(topic=t.topic, partitions=parts))
        return R(version=v, throttle_time_ms=0, topics=out)

    def h_24(self, req, v, cid):  # AddPartitionsToTxn (v0-3)
        R = RESPONSES[24]
        T = R.AddPartitionsToTxnTopicResult
        out = [T(name=t.name, results_by_partition=[T.AddPartitionsToTxnPartitionResult(
            partition_index=p, partition_error_code=0) for p in t.partitions])
            for t in req.v3_and_below_topics]
        return R(version=v, throttle_time_ms=0, results_by_topic_v3_and_below=out)

    def h_25(self, req, v, cid):  # AddOffsetsToTxn
        return self._resp(25, v, throttle_time_ms=0, error_code=0)

    def h_26(self, req, v, cid):  # EndTxn
        return self._resp(26, v, throttle_time_ms=0, error_code=0)

    def h_28(self, req, v, cid):  # TxnOffsetCommit
        R = RESPONSES[28]
        T = R.TxnOffsetCommitResponseTopic
        out = []
        with self.lock:
            store = self.committed.setdefault(req.group_id, {})
            for t in req.topics:
                for p in t.partitions:
                    store[(t.name, p.partition_index)] = (p.committed_offset, p.committed_metadata,
                                                          p.committed_leader_epoch)
                out.append(T(name=t.name, partitions=[T.TxnOffsetCommitResponsePartition(
                    partition_index=p.partition_index, error_code=0) for p in t.partitions]))
        return R(version=v, throttle_time_ms=0, topics=out)


def start_responder(topics, advertise_override=None, name="responder", verbose=False):
    """Starts a responder (call .stop() when done; .bootstrap is "127.0.0.1:PORT") whose topics
    are preset: topics maps a topic name to the raw record-batch bytes its partition 0 holds."""
    broker = Broker(name, verbose=verbose, advertise_override=advertise_override)
    for topic, blob in topics.items():
        broker.preset(topic, blob)
    return broker


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

def make_records(tag, n=3, null_key=False, headers=None):
    recs = []
    for i in range(n):
        hdrs = headers if headers is not None else [["h-index", str(i)], ["h-tag", tag]]
        recs.append({"key": "key-%d" % i,
                     "value": "%s value %d: " % (tag, i) + "strait golden vector " * 6,
                     "headers": hdrs})
    if null_key:
        recs.append({"key": None, "value": "%s keyless value: " % tag + "no key here " * 4,
                     "headers": []})
    return recs


SEED_TOPIC_RECORDS = [("none", make_records("seed-a", 3)), ("gzip", make_records("seed-b", 2))]


def scenarios():
    sc = []
    for c in CODECS:
        sc.append({"name": "kp-produce-%s" % c, "client": "kafka-python", "kind": "kp_produce",
                   "compression": c, "topic": "kp-%s" % c, "records": make_records("kp-" + c, 3, True),
                   "note": "kafka-python KafkaProducer (idempotent default), compression_type=%s, "
                           "keyed records with headers" % (None if c == "none" else c)})
    sc.append({"name": "kp-produce-acks1", "client": "kafka-python", "kind": "kp_produce",
               "compression": "none", "topic": "kp-acks1", "records": make_records("kp-acks1", 2),
               "extra": {"acks": 1, "enable_idempotence": False},
               "note": "kafka-python KafkaProducer acks=1 enable_idempotence=False"})
    sc.append({"name": "kp-produce-txn", "client": "kafka-python", "kind": "kp_txn",
               "compression": "gzip", "topic": "kp-txn", "records": make_records("kp-txn", 2),
               "note": "kafka-python transactional KafkaProducer (transactional_id, gzip, "
                       "send_offsets_to_transaction, commit)"})
    sc.append({"name": "kp-produce-acks0", "client": "kafka-python", "kind": "kp_produce",
               "compression": "lz4", "topic": "kp-acks0", "records": make_records("kp-acks0", 2),
               "extra": {"acks": 0, "enable_idempotence": False},
               "note": "kafka-python KafkaProducer acks=0 (no ProduceResponse) compression_type=lz4"})
    sc.append({"name": "kp-produce-multi", "client": "kafka-python", "kind": "kp_produce",
               "compression": "snappy", "topic": "kp-multi", "partitions": 3,
               "records": make_records("kp-multi", 6),
               "note": "kafka-python KafkaProducer snappy, 6 keyed records over a 3-partition topic"})
    sc.append({"name": "kp-consume-group", "client": "kafka-python", "kind": "kp_consume",
               "topic": "kp-consume", "seed": True, "group": "kp-group",
               "note": "kafka-python KafkaConsumer group_id subscribe/poll (fetch sessions)/commit/"
                       "offsets_for_times/end_offsets/close"})
    sc.append({"name": "kp-consume-resume", "client": "kafka-python", "kind": "kp_consume",
               "topic": "kp-resume", "seed": True, "group": "kp-resume-group", "seed_commit": 2, "epoch_bump": True,
               "note": "kafka-python KafkaConsumer resuming from a committed offset (2, leader epoch 0); the leader epoch "
                       "then moves to 1 (FENCED_LEADER_EPOCH, metadata refresh, OffsetForLeaderEpoch)"})
    sc.append({"name": "kp-admin", "client": "kafka-python", "kind": "kp_admin", "topic": "kp-admin-seed",
               "seed": True, "seed_group": True,
               "note": "kafka-python KafkaAdminClient"})
    for c in CODECS:
        sc.append({"name": "ck-produce-%s" % c, "client": "confluent-kafka", "kind": "ck_produce",
                   "compression": c, "topic": "ck-%s" % c, "records": make_records("ck-" + c, 3, True),
                   "note": "confluent-kafka Producer compression.codec=%s, keyed records with headers" % c})
    sc.append({"name": "ck-produce-idempotent", "client": "confluent-kafka", "kind": "ck_produce",
               "compression": "lz4", "topic": "ck-idem", "records": make_records("ck-idem", 3),
               "extra": {"enable.idempotence": True},
               "note": "confluent-kafka Producer enable.idempotence=true compression.codec=lz4"})
    sc.append({"name": "ck-produce-txn", "client": "confluent-kafka", "kind": "ck_txn",
               "compression": "zstd", "topic": "ck-txn", "records": make_records("ck-txn", 2),
               "note": "confluent-kafka transactional Producer (zstd, send_offsets_to_transaction, commit)"})
    sc.append({"name": "ck-produce-multi", "client": "confluent-kafka", "kind": "ck_produce",
               "compression": "snappy", "topic": "ck-multi", "partitions": 3,
               "records": make_records("ck-multi", 6),
               "note": "confluent-kafka Producer snappy, 6 keyed records over a 3-partition topic"})
    sc.append({"name": "ck-consume-group", "client": "confluent-kafka", "kind": "ck_consume",
               "topic": "ck-consume", "seed": True, "group": "ck-group",
               "note": "confluent-kafka Consumer group.id subscribe/poll/commit/close"})
    sc.append({"name": "ck-consume-resume", "client": "confluent-kafka", "kind": "ck_consume",
               "topic": "ck-resume", "seed": True, "group": "ck-resume-group", "seed_commit": 2, "epoch_bump": True,
               "note": "confluent-kafka Consumer resuming from a committed offset (2, leader epoch 0); the leader epoch "
                       "then moves to 1 (FENCED_LEADER_EPOCH, metadata refresh, OffsetForLeaderEpoch)"})
    sc.append({"name": "ck-admin", "client": "confluent-kafka", "kind": "ck_admin", "topic": "ck-admin-seed",
               "seed": True, "seed_group": True, "note": "confluent-kafka AdminClient"})
    for c in CODECS:
        sc.append({"name": "kcat-produce-%s" % c, "client": "kcat", "kind": "kcat_produce",
                   "compression": c, "topic": "kcat-%s" % c,
                   "codec_caveat": " (librdkafka 2.0.2 gates gzip/snappy/lz4 on the broker's Produce "
                                   "range including v0; Strait advertises 3-9, so it sends them "
                                   "uncompressed)" if c in ("gzip", "snappy", "lz4") else "",
                   "records": make_records("kcat-" + c, 3, headers=[["h-src", "kcat"], ["h-codec", c]]),
                   "note": "kcat -P%s -K: -H h-src=kcat -H h-codec=%s" % ("" if c == "none" else " -z " + c, c)})
    for c in ["gzip", "snappy", "lz4"]:
        sc.append({"name": "kcat-produce-%s-produce0" % c, "client": "kcat", "kind": "kcat_produce",
                   "compression": c, "topic": "kcat-%s-p0" % c, "advertise": {0: (0, 9)},
                   "records": make_records("kcat-p0-" + c, 3, headers=[["h-src", "kcat"], ["h-codec", c]]),
                   "note": "kcat -P -z %s -K: -H ..., broker advertising Produce 0-9 instead of Strait's 3-9 "
                           "(librdkafka 2.0.2 only compresses gzip/snappy/lz4 if the broker's Produce "
                           "range includes v0)" % c})
    sc.append({"name": "kcat-produce-txn", "client": "kcat", "kind": "kcat_produce", "compression": "zstd",
               "topic": "kcat-txn", "records": make_records("kcat-txn", 2, headers=[["h-src", "kcat"]]),
               "extra": ["-X", "transactional.id=kcat-txn"],
               "note": "kcat -P -z zstd -X transactional.id=kcat-txn"})
    sc.append({"name": "kcat-consume", "client": "kcat", "kind": "kcat_consume", "topic": "kcat-consume",
               "seed": True, "note": "kcat -C -o beginning -e (simple consumer)"})
    sc.append({"name": "kcat-consume-group", "client": "kcat", "kind": "kcat_group", "topic": "kcat-group",
               "seed": True, "note": "kcat -G (balanced consumer group, auto.offset.reset=earliest, auto commit)"})
    sc.append({"name": "kcat-query", "client": "kcat", "kind": "kcat_query", "topic": "kcat-query",
               "seed": True, "note": "kcat -Q -t topic:0:<timestamp> (offsets for a timestamp)"})
    sc.append({"name": "kcat-metadata", "client": "kcat", "kind": "kcat_metadata", "topic": "kcat-meta",
               "seed": True, "note": "kcat -L (metadata list)"})
    return sc


SCENARIOS = {s["name"]: s for s in scenarios()}
SEED_COUNT = sum(len(r) for _, r in SEED_TOPIC_RECORDS)


# ---- client drivers (run in a subprocess: record_vectors.py --drive NAME --bootstrap ADDR)

def drive(name, bootstrap):
    sc = SCENARIOS[name]
    fn = globals()["drive_" + sc["kind"]]
    fn(sc, bootstrap)


def drive_kp_produce(sc, bootstrap, transactional=False):
    from kafka import KafkaProducer
    kw = dict(bootstrap_servers=bootstrap, client_id="strait-oracle-kp",
              compression_type=None if sc["compression"] == "none" else sc["compression"],
              linger_ms=200, request_timeout_ms=10000, max_block_ms=15000)
    kw.update(sc.get("extra", {}))
    if transactional:
        kw["transactional_id"] = "kp-txn-id"
    p = KafkaProducer(**kw)
    if transactional:
        p.init_transactions()
        p.begin_transaction()
    futs = [p.send(sc["topic"], value=enc(r["value"]), key=enc(r["key"]),
                   headers=[(k, enc(v)) for k, v in r["headers"]]) for r in sc["records"]]
    if transactional:
        from kafka.structs import OffsetAndMetadata, TopicPartition
        p.send_offsets_to_transaction({TopicPartition("kp-txn-source", 0): OffsetAndMetadata(5, "", -1)},
                                      "kp-txn-group")
        p.commit_transaction()
    p.flush(timeout=15)
    for f in futs:
        print("kafka-python produced:", f.get(timeout=10))
    p.close(timeout=5)


def drive_kp_txn(sc, bootstrap):
    drive_kp_produce(sc, bootstrap, transactional=True)


def drive_kp_consume(sc, bootstrap):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="strait-oracle-kp", group_id=sc["group"],
                      auto_offset_reset="earliest", enable_auto_commit=False, fetch_max_wait_ms=300,
                      session_timeout_ms=10000, heartbeat_interval_ms=1000, request_timeout_ms=12000)
    c.subscribe([sc["topic"]])
    want = SEED_COUNT - sc.get("seed_commit", 0)
    got = 0
    deadline = time.time() + 20
    while got < want and time.time() < deadline:
        for _tp, recs in c.poll(timeout_ms=500).items():
            got += len(recs)
    linger = time.time() + 1.5   # a few more (empty, long-polling) fetches and a heartbeat
    while time.time() < linger:
        c.poll(timeout_ms=300)
    print("kafka-python consumed", got, "of", want)
    c.commit()
    tp = TopicPartition(sc["topic"], 0)
    print("committed:", c.committed(tp))
    _try("offsets_for_times", lambda: c.offsets_for_times({tp: 1_700_000_000_001}))
    _try("end_offsets", lambda: c.end_offsets([tp]))
    c.close()


def _try(label, fn):
    try:
        r = fn()
        print("OK  ", label, repr(r)[:200])
    except Exception as e:  # noqa: BLE001
        print("FAIL", label, repr(e)[:300])


def drive_kp_admin(sc, bootstrap):
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, OffsetSpec
    a = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="strait-oracle-kp", request_timeout_ms=8000)
    t = "kp-admin-new"
    _try("create_topics", lambda: a.create_topics({t: {"num_partitions": 2, "replication_factor": 1,
                                                       "configs": {"retention.ms": "3600000"}}}))
    _try("list_topics", lambda: a.list_topics())
    _try("describe_topics", lambda: a.describe_topics([t]))
    _try("describe_cluster", lambda: a.describe_cluster())
    _try("describe_configs", lambda: a.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, t), ConfigResource(ConfigResourceType.BROKER, "0")],
        config_filter="all"))
    _try("alter_configs(incremental)", lambda: a.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, t, {"retention.ms": "7200000"})],
        raise_on_unknown=False, incremental=True))
    _try("alter_configs(legacy)", lambda: a.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, t, {"retention.ms": "7200000"})],
        raise_on_unknown=False, incremental=False))
    _try("create_partitions", lambda: a.create_partitions({t: 3}))
    _try("list_groups", lambda: a.list_groups())
    _try("describe_groups", lambda: a.describe_groups(["seed-group"]))
    _try("list_group_offsets", lambda: a.list_group_offsets({"seed-group": None}))
    _try("alter_group_offsets", lambda: a.alter_group_offsets(
        "seed-group", {TopicPartition(sc["topic"], 0): OffsetAndMetadata(2, "altered", -1)}))
    _try("delete_group_offsets", lambda: a.delete_group_offsets(
        "seed-group", [TopicPartition(sc["topic"], 0)]))
    _try("list_partition_offsets", lambda: a.list_partition_offsets(
        {TopicPartition(sc["topic"], 0): OffsetSpec.LATEST}))
    _try("delete_records", lambda: a.delete_records({TopicPartition(sc["topic"], 0): 1}))
    _try("delete_groups", lambda: a.delete_groups(["seed-group"]))
    _try("delete_topics", lambda: a.delete_topics([t]))
    a.close()


def _ck_conf(extra=None):
    conf = {"client.id": "strait-oracle-ck", "socket.timeout.ms": 10000}
    conf.update(extra or {})
    return conf


def drive_ck_produce(sc, bootstrap, transactional=False):
    from confluent_kafka import Consumer, Producer, TopicPartition
    conf = _ck_conf({"bootstrap.servers": bootstrap, "compression.codec": sc["compression"],
                     "linger.ms": 200, "message.timeout.ms": 15000})
    conf.update(sc.get("extra", {}))
    if transactional:
        conf["transactional.id"] = "ck-txn-id"
    p = Producer(conf)
    reports = []

    def cb(err, msg):
        reports.append((err, msg.topic() if msg else None, msg.offset() if msg else None))

    if transactional:
        p.init_transactions(15)
        p.begin_transaction()
    for r in sc["records"]:
        p.produce(sc["topic"], value=enc(r["value"]), key=enc(r["key"]),
                  headers=[(k, enc(v)) for k, v in r["headers"]], on_delivery=cb)
    if transactional:
        c = Consumer(_ck_conf({"bootstrap.servers": bootstrap, "group.id": "ck-txn-group"}))
        p.send_offsets_to_transaction([TopicPartition("ck-txn-source", 0, 5)],
                                      c.consumer_group_metadata(), 15)
        p.commit_transaction(15)
        c.close()
    left = p.flush(15)
    print("confluent-kafka produced:", reports, "left:", left)


def drive_ck_txn(sc, bootstrap):
    drive_ck_produce(sc, bootstrap, transactional=True)


def drive_ck_consume(sc, bootstrap):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer(_ck_conf({"bootstrap.servers": bootstrap, "group.id": sc["group"],
                           "auto.offset.reset": "earliest", "enable.auto.commit": False,
                           "session.timeout.ms": 10000, "heartbeat.interval.ms": 1000,
                           "fetch.wait.max.ms": 300}))
    c.subscribe([sc["topic"]])
    want = SEED_COUNT - sc.get("seed_commit", 0)
    got = 0
    deadline = time.time() + 20
    while got < want and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got += 1
    linger = time.time() + 1.5   # a few more (empty, long-polling) fetches and a heartbeat
    while time.time() < linger:
        c.poll(0.3)
    print("confluent-kafka consumed", got, "of", want)
    _try("commit", lambda: c.commit(asynchronous=False))
    _try("committed", lambda: c.committed([TopicPartition(sc["topic"], 0)], timeout=5))
    c.close()


def drive_ck_admin(sc, bootstrap):
    from confluent_kafka import (ConsumerGroupTopicPartitions, IsolationLevel, TopicCollection,
                                 TopicPartition)
    from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                       NewPartitions, NewTopic, OffsetSpec)
    a = AdminClient(_ck_conf({"bootstrap.servers": bootstrap}))
    t = "ck-admin-new"

    def wait(fs):
        if isinstance(fs, dict):
            return {k: f.result(10) for k, f in fs.items()}
        return fs.result(10)

    _try("create_topics", lambda: wait(a.create_topics(
        [NewTopic(t, num_partitions=2, replication_factor=1, config={"retention.ms": "3600000"})],
        request_timeout=8)))
    _try("list_topics", lambda: a.list_topics(timeout=8))
    _try("describe_topics", lambda: wait(a.describe_topics(TopicCollection([t]), request_timeout=8)))
    _try("describe_cluster", lambda: wait(a.describe_cluster(request_timeout=8)))
    _try("describe_configs", lambda: wait(a.describe_configs(
        [ConfigResource("topic", t), ConfigResource("broker", "0")], request_timeout=8)))
    _try("incremental_alter_configs", lambda: wait(a.incremental_alter_configs([ConfigResource(
        "topic", t, incremental_configs=[ConfigEntry("retention.ms", "7200000",
                                                     incremental_operation=AlterConfigOpType.SET)])],
        request_timeout=8)))
    _try("alter_configs", lambda: wait(a.alter_configs(
        [ConfigResource("topic", t, set_config={"retention.ms": "7200000"})], request_timeout=8)))
    _try("create_partitions", lambda: wait(a.create_partitions([NewPartitions(t, 3)], request_timeout=8)))
    _try("list_consumer_groups", lambda: wait(a.list_consumer_groups(request_timeout=8)))
    _try("describe_consumer_groups", lambda: wait(a.describe_consumer_groups(["seed-group"],
                                                                             request_timeout=8)))
    _try("list_consumer_group_offsets", lambda: wait(a.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions("seed-group")], request_timeout=8)))
    _try("alter_consumer_group_offsets", lambda: wait(a.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions("seed-group", [TopicPartition(sc["topic"], 0, 2)])],
        request_timeout=8)))
    _try("list_offsets", lambda: wait(a.list_offsets(
        {TopicPartition(sc["topic"], 0): OffsetSpec.latest(),
         TopicPartition(sc["topic"], 0): OffsetSpec.earliest()},
        isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=8)))
    _try("delete_records", lambda: wait(a.delete_records([TopicPartition(sc["topic"], 0, 1)],
                                                         request_timeout=8)))
    _try("delete_consumer_groups", lambda: wait(a.delete_consumer_groups(["seed-group"],
                                                                         request_timeout=8)))
    _try("delete_topics", lambda: wait(a.delete_topics([t], request_timeout=8)))


# ---- orchestration

def kcat_command(sc, bootstrap):
    base = ["kcat", "-b", bootstrap, "-X", "client.id=strait-oracle-kcat", "-m", "10"]
    kind = sc["kind"]
    if kind == "kcat_produce":
        cmd = base + ["-P", "-t", sc["topic"], "-K", ":", "-X", "linger.ms=200"]
        if sc["compression"] != "none":
            cmd += ["-z", sc["compression"]]
        for k, v in sc["records"][0]["headers"]:
            cmd += ["-H", "%s=%s" % (k, v)]
        cmd += sc.get("extra", [])
        stdin = "".join("%s:%s\n" % (r["key"], r["value"]) for r in sc["records"])
        return cmd, stdin
    if kind == "kcat_consume":
        return base + ["-C", "-t", sc["topic"], "-p", "0", "-o", "beginning", "-e", "-c", str(SEED_COUNT),
                       "-f", "%k=%s\\n"], None
    if kind == "kcat_group":
        return base + ["-G", "kcat-group", "-e", "-c", str(SEED_COUNT), "-X", "auto.offset.reset=earliest",
                       "-X", "auto.commit.interval.ms=300", "-X", "session.timeout.ms=10000",
                       "-f", "%k=%s\\n", sc["topic"]], None
    if kind == "kcat_query":
        return base + ["-Q", "-t", "%s:0:1700000000001" % sc["topic"]], None
    if kind == "kcat_metadata":
        return base + ["-L"], None
    raise ValueError(kind)


def run_scenario(sc, timeout, verbose, deadline=None):
    if deadline is not None:
        timeout = min(timeout, deadline - time.time())
        if timeout < 1:
            return {"scenario": sc, "status": "skipped (budget)", "elapsed": 0.0, "output": "",
                    "frames": [], "problems": []}
    broker = Broker(sc["name"], verbose=verbose, advertise_override=sc.get("advertise"))
    if sc.get("seed"):
        broker.seed(sc["topic"], SEED_TOPIC_RECORDS)
    broker.epoch_bump = sc.get("epoch_bump", False)
    if sc.get("partitions"):
        broker.create_topic(sc["topic"], sc["partitions"])
    if sc.get("seed_commit"):
        broker.committed[sc["group"]] = {(sc["topic"], 0): (sc["seed_commit"], "seeded", 0)}
    if sc.get("seed_group"):
        g = broker._group("seed-group")
        g.members["seed-member-1"] = {"client_id": "seed-client", "protocol_type": "consumer",
                                      "protocols": [("range", b"")], "instance": None}
        g.protocol, g.leader, g.generation = "range", "seed-member-1", 1
        broker.committed["seed-group"] = {(sc["topic"], 0): (3, "", -1)}
    if sc["client"] == "kcat":
        cmd, stdin = kcat_command(sc, broker.bootstrap)
    else:
        cmd, stdin = [sys.executable, os.path.abspath(__file__), "--drive", sc["name"],
                      "--bootstrap", broker.bootstrap], None
    started = time.time()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    status = "ok"
    try:
        out, _ = proc.communicate(stdin, timeout=timeout)
        if proc.returncode != 0:
            status = "exit %d" % proc.returncode
    except subprocess.TimeoutExpired:
        status = "timeout"
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
    broker.stop()
    return {"scenario": sc, "status": status, "elapsed": time.time() - started, "output": out,
            "frames": broker.frames, "problems": broker.problems}


def produce_extras(frame, api_version, sc):
    """Compression/records of a Produce frame, cross-checked against what the scenario sent."""
    req = REQUESTS[0].decode(frame, version=api_version, header=True)
    recs, codecs, crc_ok = [], set(), True
    for td in req.topic_data:
        for pd in td.partition_data:
            for codec, ok, rs in decode_batches(pd.records):
                codecs.add(codec)
                crc_ok &= ok
                recs += rs
    expected = sc.get("records") or []
    canon = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
    exp = collections.Counter(canon(r) for r in expected)
    got = collections.Counter(canon(r) for r in recs)
    issues = []
    if got - exp:
        issues.append("records not asked for: %s" % list(got - exp))
    if codecs != {sc.get("compression", "none")}:
        issues.append("batch codecs %s, asked for %s%s" % (sorted(codecs), sc.get("compression"),
                                                          sc.get("codec_caveat", "")))
    if not crc_ok:
        issues.append("CRC mismatch")
    return {"compression": sc.get("compression", "none"),
            "batch_compression": ",".join(sorted(codecs)) or "none", "records": recs,
            "records_complete": got == exp}, issues


def select_vectors(results, client):
    """De-duplicates (ignoring correlation id) and caps frames per (key, version)."""
    seen = set()
    buckets = collections.OrderedDict()   # (k, v) -> OrderedDict(note -> [entries])
    issues = []
    for res in results:
        sc = res["scenario"]
        if sc["client"] != client:
            continue
        for f in res["frames"]:
            frame = f["frame"]
            masked = frame[:4] + b"\0\0\0\0" + frame[8:]
            if masked in seen:
                continue
            seen.add(masked)
            entry = {"api_key": f["api_key"], "api_version": f["api_version"],
                     "header_version": f["header_version"], "hex": frame.hex(),
                     "note": "%s: %s" % (sc["name"], sc["note"]), "client_id": f["client_id"]}
            if f["api_key"] == 0 and ADVERTISED[0][0] <= f["api_version"] <= ADVERTISED[0][1]:
                try:
                    extra, probs = produce_extras(frame, f["api_version"], sc)
                    entry.update(extra)
                    issues += ["%s: %s" % (sc["name"], p) for p in probs]
                except Exception as e:  # noqa: BLE001
                    issues.append("%s: produce decode failed: %r" % (sc["name"], e))
            try:
                _, again = kp_roundtrip(frame, f["api_key"], f["api_version"])
                if again != frame and frame.startswith(again):
                    entry["trailing_bytes"] = frame[len(again):].hex()
            except Exception:  # noqa: BLE001
                pass
            buckets.setdefault((f["api_key"], f["api_version"]), collections.OrderedDict()) \
                .setdefault(sc["name"], []).append(entry)
    out = []
    for (k, v), by_sc in sorted(buckets.items()):
        cap = max(MAX_PER_VERSION, len(by_sc)) if k == 0 else MAX_PER_VERSION
        # Frames kafka-python cannot re-encode byte-identically come first; then round-robin.
        picked = [e for lst in by_sc.values() for e in lst if e.get("trailing_bytes")][:cap]
        queues = [collections.deque(e for e in lst if not e.get("trailing_bytes")) for lst in by_sc.values()]
        while len(picked) < cap and any(queues):
            for q in queues:
                if q and len(picked) < cap:
                    picked.append(q.popleft())
        out += picked
    return out, issues


def kp_roundtrip(frame, api_key, api_version):
    """Decodes a request frame with kafka-python and re-encodes it: (object, bytes)."""
    cls = REQUESTS.get(api_key)
    if cls is None or api_version > cls.max_version:
        raise LookupError("kafka-python has no class for this version")
    obj = cls.decode(frame, version=api_version, header=True)
    hdr = obj.header
    if (hdr.request_api_key, hdr.request_api_version) != (api_key, api_version):
        raise ValueError("header mismatch")
    return obj, bytes(obj.encode(header=True))


def check_vectors(vectors):
    """Decodes each vector with kafka-python and re-encodes it; returns (ok, identical, failures)."""
    ok = same = 0
    failures = []
    for vec in vectors:
        k, v = vec["api_key"], vec["api_version"]
        frame = bytes.fromhex(vec["hex"])
        label = "%s v%d (%s)" % (API_NAMES.get(k, k), v, vec["note"].split(":")[0])
        try:
            obj = REQUESTS[k].decode(frame, version=v, header=True)
            hdr = obj.header
            assert (hdr.request_api_key, hdr.request_api_version) == (k, v), "header mismatch"
            ok += 1
        except Exception as e:  # noqa: BLE001
            failures.append("%s: decode failed: %r" % (label, e))
            continue
        try:
            again = bytes(obj.encode(header=True))
            if again == frame:
                same += 1
            elif frame.startswith(again):
                failures.append("%s: frame has %d trailing bytes after the body (%s) that kafka-python "
                                "ignores; re-encode is the frame without them%s" % (
                                    label, len(frame) - len(again), frame[len(again):].hex(),
                                    " (annotated as trailing_bytes)" if vec.get("trailing_bytes") else ""))
            else:
                failures.append("%s: re-encode differs (%d vs %d bytes)" % (label, len(again), len(frame)))
        except Exception as e:  # noqa: BLE001
            failures.append("%s: re-encode failed: %r" % (label, e))
        if k == 0 and "records" in vec:
            try:
                _, probs = produce_extras(frame, v, {"records": vec["records"],
                                                     "compression": vec["batch_compression"]})
                failures += ["%s: %s" % (label, p) for p in probs]
            except Exception as e:  # noqa: BLE001
                failures.append("%s: records check failed: %r" % (label, e))
    return ok, same, failures


def selftest_kip511():
    """Sends ApiVersions v127 and v4 by hand; checks the KIP-511 fallback and a normal answer."""
    b = Broker("selftest")
    try:
        results = []
        for ver in (127, 4):
            s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
            hdr = struct.pack(">hhih", 18, ver, 7, 4) + b"test" + b"\0"      # header v2
            body = b"\x07strait\x041.0\x00"   # compact strings + tagged fields
            s.sendall(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
            (n,) = struct.unpack(">i", Broker._recv_exact(s, 4))
            data = Broker._recv_exact(s, n)
            s.close()
            corr, err = struct.unpack_from(">ih", data, 0)
            results.append((ver, corr, err))
            if ver == 127:
                resp = RESPONSES[18].decode(data, version=0, header=True)
                assert resp.error_code == 35 and len(resp.api_keys) == len(ADVERTISED)
            else:
                resp = RESPONSES[18].decode(data, version=4, header=True)
                assert resp.error_code == 0 and len(resp.api_keys) == len(ADVERTISED)
        return results
    finally:
        b.stop()


def summarize(vectors):
    counts = collections.Counter((v["api_key"], v["api_version"]) for v in vectors)
    by_key = collections.OrderedDict()
    for (k, v), n in sorted(counts.items()):
        by_key.setdefault(k, []).append("v%d×%d" % (v, n))
    return ["  %-24s %s" % ("%s (%d)" % (API_NAMES.get(k, k), k), " ".join(vs)) for k, vs in by_key.items()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    ap.add_argument("--only", action="append", help="run only scenarios whose name contains this")
    ap.add_argument("--jobs", type=int, default=6)
    ap.add_argument("--timeout", type=float, default=30.0, help="per-scenario timeout, seconds")
    ap.add_argument("--budget", type=float, default=100.0, help="whole-run budget, seconds")
    ap.add_argument("--check-only", action="store_true")
    ap.add_argument("--show-output", action="store_true", help="print each client's output")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--drive", help=argparse.SUPPRESS)
    ap.add_argument("--bootstrap", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.drive:
        drive(args.drive, args.bootstrap)
        return 0

    clients = ["kafka-python", "confluent-kafka", "kcat"]
    if args.check_only:
        for client in clients:
            path = os.path.join(args.out, client + ".json")
            with open(path) as fh:
                vecs = json.load(fh)
            ok, same, failures = check_vectors(vecs)
            print("%s: %d vectors, %d decode cleanly with kafka-python, %d re-encode byte-identically"
                  % (client, len(vecs), ok, same))
            for f in failures:
                print("   -", f)
        return 0

    t0 = time.time()
    print("KIP-511 self-test (ApiVersions version, correlation id, error code):", selftest_kip511())
    todo = [s for s in SCENARIOS.values()
            if not args.only or any(o in s["name"] for o in args.only)]
    if shutil.which("kcat") is None:
        print("kcat not found; skipping kcat scenarios")
        todo = [s for s in todo if s["client"] != "kcat"]
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        deadline = time.time() + args.budget
        futs = {ex.submit(run_scenario, s, args.timeout, args.verbose, deadline): s for s in todo}
        for fut in concurrent.futures.as_completed(futs):
            res = fut.result()
            sc = res["scenario"]
            kinds = collections.Counter("%s v%d" % (API_NAMES.get(f["api_key"], f["api_key"]),
                                                    f["api_version"]) for f in res["frames"])
            print("%-24s %-8s %5.1fs %3d frames: %s" % (sc["name"], res["status"], res["elapsed"],
                                                         len(res["frames"]), ", ".join(
                                                             "%s×%d" % kv for kv in sorted(kinds.items()))),
                  flush=True)
            for p in res["problems"]:
                print("    problem:", p)
            if args.show_output or res["status"] != "ok":
                for line in (res["output"] or "").strip().splitlines()[-15:]:
                    print("    |", line)
            results.append(res)
    order = {name: i for i, name in enumerate(SCENARIOS)}
    results.sort(key=lambda r: order[r["scenario"]["name"]])

    os.makedirs(args.out, exist_ok=True)
    ran_clients = sorted({r["scenario"]["client"] for r in results}, key=clients.index)
    for client in ran_clients:
        vecs, issues = select_vectors(results, client)
        path = os.path.join(args.out, client + ".json")
        with open(path, "w") as fh:
            json.dump(vecs, fh, indent=1)
            fh.write("\n")
        ok, same, failures = check_vectors(vecs)
        print("\n%s -> %s (%d vectors, %d bytes)" % (client, path, len(vecs), os.path.getsize(path)))
        print("\n".join(summarize(vecs)))
        print("  kafka-python sanity check: %d/%d decode cleanly, %d/%d re-encode byte-identically"
              % (ok, len(vecs), same, len(vecs)))
        for f in failures + issues:
            print("   -", f)
    print("\ndone in %.1fs" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
