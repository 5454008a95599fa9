#!/usr/bin/env python3
"""Writes the seed corpus of the two libFuzzer targets:

  corpus/requests/  one Kafka request frame per file, WITHOUT the 4-byte size prefix: the request
                    header (v1, or v2 with its tagged-field byte for flexible versions) and the body,
                    encoded by kafka-python's protocol classes. Each API the broker serves is seeded
                    at the lowest and highest version kafka-python knows and, where an API has both
                    non-flexible and flexible versions, one version at that boundary.
                    Named <apikey>-<name>-v<version>[-variant].bin.
  corpus/records/   one records blob per file, as it appears in a Produce partition or a Fetch
                    response: v2 record batches for every codec, transactional and control batches,
                    back-to-back and truncated batches, and legacy magic 0/1 message sets.

Every frame is checked by parsing its header by hand and round-tripping it through kafka-python's
own decoder; every records blob is walked by hand (CRC-32C, lengths) and decoded by kafka-python.
Output is deterministic (fixed timestamps, producer ids, UUIDs; gzip without a wall-clock mtime),
so re-running rewrites identical files. Stale *.bin seeds this script no longer makes are removed;
other files (inputs libFuzzer adds, named by hash without an extension) are left alone.

    python3 Tests/Fuzz/make_seeds.py
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import inspect
import struct
import sys
import uuid
from pathlib import Path

import kafka.record.default_records as default_records
import kafka.record.legacy_records as legacy_records
from kafka.codec import lz4_encode, snappy_encode, zstd_encode
from kafka.protocol.api_message import ApiMessage
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment, ConsumerProtocolSubscription
from kafka.record.memory_records import MemoryRecords, MemoryRecordsBuilder
from kafka.record.util import calc_crc32, calc_crc32c, encode_varint

ROOT = Path(__file__).resolve().parent / "corpus"
REQUESTS_DIR = ROOT / "requests"
RECORDS_DIR = ROOT / "records"
MAX_SEED_BYTES = 4096

# Fixed values: the corpus must not depend on the clock or on randomness.
CLIENT_ID = "fuzz"
TOPIC, TOPIC2 = "fuzz", "fuzz-2"
TOPIC_ID = uuid.UUID("f022f022-0000-4000-8000-000000000001")
TOPIC2_ID = uuid.UUID("f022f022-0000-4000-8000-000000000002")
GROUP, MEMBER, TXN_ID = "g", "m-1", "t"
# Producer id 1: the records target lists producer 1 as aborted from offset 0, so a read_committed
# decode of the transactional seeds takes the aborted-transaction path.
PRODUCER_ID, PRODUCER_EPOCH = 1, 3
COORDINATOR_EPOCH = 5
BASE_TS = 1_700_000_000_000  # 2023-11-14T22:13:20Z, in ms


# ---------------------------------------------------------------------------------------------
# Deterministic gzip
# ---------------------------------------------------------------------------------------------

def gzip_fixed(payload, compresslevel=None):
    """gzip with mtime 0: kafka.codec.gzip_encode stamps the current time into the gzip header."""
    return gzip.compress(bytes(payload), compresslevel=compresslevel or 9, mtime=0)


# The record builders call the gzip_encode they imported; point both at the deterministic one.
default_records.gzip_encode = gzip_fixed
legacy_records.gzip_encode = gzip_fixed


# ---------------------------------------------------------------------------------------------
# Record batches
# ---------------------------------------------------------------------------------------------

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
ENCODERS = {"gzip": gzip_fixed, "snappy": snappy_encode, "lz4": lz4_encode, "zstd": zstd_encode}

# RecordBatch v2 header layout: baseOffset int64, batchLength int32, partitionLeaderEpoch int32,
# magic int8, crc uint32, attributes int16, lastOffsetDelta int32, baseTimestamp int64,
# maxTimestamp int64, producerId int64, producerEpoch int16, baseSequence int32, recordCount int32.
BATCH_HEADER = struct.Struct(">qiibIhiqqqhii")
BATCH_LENGTH_AT, CRC_AT, ATTRIBUTES_AT = 8, 17, 21
BATCH_HEADER_SIZE = BATCH_HEADER.size  # 61
TRANSACTIONAL_BIT, CONTROL_BIT = 0x10, 0x20


def set_base_offset(batch: bytearray, base_offset: int) -> bytearray:
    """baseOffset sits before the CRC-covered region: the builder always writes 0 there (a producer's
    value; the broker assigns offsets), a Fetch response carries the log's offsets."""
    struct.pack_into(">q", batch, 0, base_offset)
    return batch


def recrc(batch: bytearray) -> bytearray:
    struct.pack_into(">I", batch, CRC_AT, calc_crc32c(memoryview(batch)[ATTRIBUTES_AT:]))
    return batch


def v2_batch(records, codec: str = "none", base_offset: int = 0, transactional: bool = False,
             producer_id: int = -1, producer_epoch: int = -1, base_sequence: int = -1) -> bytes:
    """One v2 batch from (key, value, headers) tuples, timestamps BASE_TS + i seconds.

    kafka-python's builder sends a batch uncompressed when compression does not shrink it (most
    tiny seeds); then the records are compressed here with the same codec and the header fixed up
    (codec bits, batchLength, CRC-32C), as a producer that always compresses would write it."""
    builder = MemoryRecordsBuilder(magic=2, compression_type=CODECS[codec], batch_size=1 << 20,
                                   transactional=transactional, producer_id=producer_id,
                                   producer_epoch=producer_epoch, base_sequence=base_sequence)
    for i, (key, value, headers) in enumerate(records):
        assert builder.append(BASE_TS + i * 1000, key, value, headers) is not None
    builder.close()
    batch = bytearray(builder.buffer())
    attributes = struct.unpack_from(">h", batch, ATTRIBUTES_AT)[0]
    if codec != "none" and attributes & 7 == 0:
        payload = ENCODERS[codec](bytes(batch[BATCH_HEADER_SIZE:]))
        batch = batch[:BATCH_HEADER_SIZE] + payload
        struct.pack_into(">h", batch, ATTRIBUTES_AT, attributes | CODECS[codec])
        struct.pack_into(">i", batch, BATCH_LENGTH_AT, len(batch) - 12)
        recrc(batch)
    return bytes(set_base_offset(batch, base_offset))


def varint(value: int) -> bytes:
    out = bytearray()
    encode_varint(value, out.append)
    return bytes(out)


def control_batch(commit: bool, base_offset: int) -> bytes:
    """A transaction marker, built by hand (only brokers write these): one control record whose key
    is version 0 + type (1 commit, 0 abort) and whose value is version 0 + coordinator epoch."""
    key = struct.pack(">hh", 0, 1 if commit else 0)
    value = struct.pack(">hi", 0, COORDINATOR_EPOCH)
    body = (bytes([0]) + varint(0) + varint(0)              # attributes, timestampDelta, offsetDelta
            + varint(len(key)) + key + varint(len(value)) + value + varint(0))  # no headers
    record = varint(len(body)) + body
    ts = BASE_TS + 60_000
    header = BATCH_HEADER.pack(base_offset, BATCH_HEADER_SIZE - 12 + len(record), 0, 2, 0,
                               TRANSACTIONAL_BIT | CONTROL_BIT, 0, ts, ts,
                               PRODUCER_ID, PRODUCER_EPOCH, -1, 1)
    return bytes(recrc(bytearray(header + record)))


def legacy_message_set(magic: int, codec: str, records) -> bytes:
    """A magic 0 or 1 message set. A compressed set is one wrapper message; its offset is set to the
    last inner offset, as a log stores it (the offset field is outside the message CRC)."""
    builder = legacy_records.LegacyRecordBatchBuilder(magic=magic, compression_type=CODECS[codec],
                                                      batch_size=1 << 20)
    for i, (key, value) in enumerate(records):
        assert builder.append(i, BASE_TS + i * 1000, key, value) is not None
    data = bytearray(builder.build())
    if codec != "none":
        struct.pack_into(">q", data, 0, len(records) - 1)
    return bytes(data)


SINGLE = [(b"key", b"value", [])]
SEVERAL = [
    (b"k0", b"v0", []),
    (None, b"v1", []),                                    # null key
    (b"k2", None, []),                                    # null value (a tombstone)
    (b"k3", b"v3", [("h1", b"a"), ("h-null", None)]),     # headers, one with a null value
    (None, None, [("h", b"")]),                           # null key and value, empty header value
]
TXN_RECORDS = [(b"tk0", b"tv0", []), (b"tk1", b"tv1", [("txn", b"1")])]
LEGACY_RECORDS = [(b"k0", b"v0"), (None, b"v1"), (b"k2", None)]


def txn_batch(codec: str, base_offset: int = 0) -> bytes:
    return v2_batch(TXN_RECORDS, codec, base_offset, transactional=True, producer_id=PRODUCER_ID,
                    producer_epoch=PRODUCER_EPOCH, base_sequence=0)


def records_seeds() -> dict[str, tuple[bytes, dict]]:
    """name -> (blob, expectations checked by check_records)."""
    seeds = {}
    for codec, cid in CODECS.items():
        seeds[f"{codec}-single"] = (v2_batch(SINGLE, codec), dict(batches=[(2, cid, 1)]))
        seeds[f"{codec}-several"] = (v2_batch(SEVERAL, codec), dict(batches=[(2, cid, len(SEVERAL))]))
        seeds[f"{codec}-transactional"] = (txn_batch(codec), dict(batches=[(2, cid, 2)], txn=True))
        first = v2_batch(SEVERAL[:2], codec, base_offset=0)
        second = v2_batch(SEVERAL[2:], codec, base_offset=2)
        seeds[f"{codec}-two-batches"] = (first + second, dict(batches=[(2, cid, 2), (2, cid, 3)]))
        # A Fetch response may end in a partial batch: the header is whole, the records are cut.
        cut = BATCH_HEADER_SIZE + (len(second) - BATCH_HEADER_SIZE) // 2
        seeds[f"{codec}-truncated"] = (first + second[:cut], dict(batches=[(2, cid, 2)], partial=cut))
    seeds["control-commit"] = (control_batch(True, 2), dict(batches=[(2, 0, 1)], control=True))
    seeds["control-abort"] = (control_batch(False, 2), dict(batches=[(2, 0, 1)], control=True))
    seeds["txn-then-commit"] = (txn_batch("none") + control_batch(True, 2),
                                dict(batches=[(2, 0, 2), (2, 0, 1)]))
    seeds["txn-then-abort"] = (txn_batch("none") + control_batch(False, 2),
                               dict(batches=[(2, 0, 2), (2, 0, 1)]))
    for magic in (0, 1):
        for codec in ("none", "gzip"):
            seeds[f"legacy-v{magic}-{codec}"] = (
                legacy_message_set(magic, codec, LEGACY_RECORDS),
                dict(batches=[(magic, CODECS[codec], 3)] if codec != "none" else
                     [(magic, 0, 1)] * len(LEGACY_RECORDS)))
    return seeds


def walk_batches(blob: bytes) -> tuple[list[tuple[int, int]], int]:
    """([(magic, attributes)] of the whole batches/messages, bytes left over), checking each CRC."""
    found, pos = [], 0
    while len(blob) - pos >= 17:
        length = struct.unpack_from(">i", blob, pos + 8)[0]
        end = pos + 12 + length
        if end > len(blob):
            break
        magic = blob[pos + 16]
        if magic == 2:
            crc, attributes = struct.unpack_from(">Ih", blob, pos + 17)
            assert crc == calc_crc32c(blob[pos + ATTRIBUTES_AT:end]), "bad CRC-32C"
        else:
            crc = struct.unpack_from(">I", blob, pos + 12)[0]
            attributes = blob[pos + 17]
            assert crc == calc_crc32(blob[pos + 16:end]), "bad legacy CRC"
        found.append((magic, attributes))
        pos = end
    return found, len(blob) - pos


def check_records(name: str, blob: bytes, expect: dict):
    assert len(blob) < MAX_SEED_BYTES, f"{name}: {len(blob)} bytes"
    walked, left = walk_batches(blob)
    want = expect["batches"]
    assert [(m, a & 7) for m, a in walked] == [(m, c) for m, c, _ in want], f"{name}: {walked}"
    assert left == expect.get("partial", 0), f"{name}: {left} bytes left over"
    # kafka-python's reader: CRC, codec, record counts, control and transactional bits.
    records = MemoryRecords(blob)
    got = []
    while records.has_next():
        batch = records.next_batch()
        assert batch.validate_crc(), f"{name}: kafka-python rejects the CRC"
        assert batch.compression_type == want[len(got)][1], f"{name}: codec {batch.compression_type}"
        recs = list(batch)
        got.append(len(recs))
        if batch.magic == 2:
            assert batch.is_control_batch == expect.get("control", batch.is_control_batch)
            assert batch.is_transactional == expect.get("txn", batch.is_transactional)
            if batch.is_control_batch:
                assert recs[0].commit == name.endswith("commit"), name
                assert batch.producer_id == PRODUCER_ID
    assert got == [n for _, _, n in want], f"{name}: record counts {got}"


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------

def request_classes() -> dict[str, type]:
    """Every request class kafka-python defines, by API name ("Produce", ...)."""
    found = {}
    for module in ("kafka.protocol.admin", "kafka.protocol.consumer", "kafka.protocol.metadata",
                   "kafka.protocol.producer", "kafka.protocol.sasl"):
        for _, obj in inspect.getmembers(importlib.import_module(module), inspect.isclass):
            if issubclass(obj, ApiMessage) and obj is not ApiMessage and obj.is_request():
                found[obj.__name__.removesuffix("Request")] = obj
    return found


def seed_versions(cls) -> list[int]:
    """Lowest and highest versions of the schema (validVersions: kafka-python's min_version always
    reports 0, even where the schema no longer has the old versions' fields) plus one version at the
    flexible boundary: the first flexible version, or the last non-flexible one when the first
    flexible version is the highest."""
    lo, hi = cls.valid_versions
    versions = {lo, hi}
    first_flexible = next((v for v in range(lo, hi + 1) if cls.flexible_version_q(v)), None)
    if first_flexible is not None and first_flexible > lo:
        if first_flexible < hi:
            versions.add(first_flexible)
        elif first_flexible - 1 > lo:
            versions.add(first_flexible - 1)
    return sorted(versions)


SUBSCRIPTION = bytes(ConsumerProtocolSubscription(0, [TOPIC, TOPIC2], b"").encode())
ASSIGNMENT = bytes(ConsumerProtocolAssignment(
    0, [ConsumerProtocolAssignment.TopicPartition(topic=TOPIC, partitions=[0, 1])], b"").encode())
PRODUCE_BATCH = v2_batch(SINGLE)
PRODUCE_BATCH_GZIP = v2_batch(SEVERAL, "gzip")
SALTED_PASSWORD = hashlib.pbkdf2_hmac("sha256", b"alice-secret", b"salt", 4096)


def produce(R, records):
    P = R.TopicProduceData
    return R(transactional_id=None, acks=-1, timeout_ms=1000, topic_data=[P(
        name=TOPIC, topic_id=TOPIC_ID,
        partition_data=[P.PartitionProduceData(index=0, records=records)])])


def fetch(R, tagged=False):
    T = R.FetchTopic
    extra = dict(cluster_id="fuzz-cluster") if tagged else {}
    return R(replica_id=-1, max_wait_ms=100, min_bytes=1, max_bytes=1 << 20, isolation_level=0,
             session_id=0, session_epoch=-1, rack_id="", forgotten_topics_data=[], **extra, topics=[T(
                 topic=TOPIC, topic_id=TOPIC_ID, partitions=[T.FetchPartition(
                     partition=p, current_leader_epoch=-1, fetch_offset=p, last_fetched_epoch=-1,
                     log_start_offset=-1, partition_max_bytes=65536) for p in (0, 1)])])


def metadata(R, all_topics=False):
    topics = None if all_topics else [R.MetadataRequestTopic(topic_id=None, name=n) for n in (TOPIC, TOPIC2)]
    return R(topics=topics, allow_auto_topic_creation=False, include_cluster_authorized_operations=False,
             include_topic_authorized_operations=False)


def add_partitions_to_txn(R):
    topics = [R.AddPartitionsToTxnTopic(name=TOPIC, partitions=[0, 1])]
    T = R.AddPartitionsToTxnTransaction
    return R(v3_and_below_transactional_id=TXN_ID, v3_and_below_producer_id=PRODUCER_ID,
             v3_and_below_producer_epoch=PRODUCER_EPOCH, v3_and_below_topics=topics,
             transactions=[T(transactional_id=TXN_ID, producer_id=PRODUCER_ID, producer_epoch=PRODUCER_EPOCH,
                             verify_only=False,
                             topics=[T.AddPartitionsToTxnTopic(name=TOPIC, partitions=[0, 1])])])


# API name -> {variant: factory(RequestClass) -> request}. "" is the plain seed. Each request
# carries the fields of every version; encoding at a version writes the ones that version has.
APIS = {
    "Produce": {"": lambda R: produce(R, PRODUCE_BATCH), "gzip": lambda R: produce(R, PRODUCE_BATCH_GZIP)},
    "Fetch": {"": fetch},
    "ListOffsets": {"": lambda R: R(replica_id=-1, isolation_level=0, timeout_ms=1000, topics=[
        R.ListOffsetsTopic(name=TOPIC, partitions=[
            R.ListOffsetsTopic.ListOffsetsPartition(partition_index=0, current_leader_epoch=-1, timestamp=-1),
            R.ListOffsetsTopic.ListOffsetsPartition(partition_index=1, current_leader_epoch=-1, timestamp=-2)])])},
    "Metadata": {"": metadata, "all": lambda R: metadata(R, all_topics=True)},
    "OffsetCommit": {"": lambda R: R(
        group_id=GROUP, generation_id_or_member_epoch=1, member_id=MEMBER, group_instance_id=None,
        retention_time_ms=-1, topics=[R.OffsetCommitRequestTopic(name=TOPIC, topic_id=TOPIC_ID, partitions=[
            R.OffsetCommitRequestTopic.OffsetCommitRequestPartition(
                partition_index=0, committed_offset=5, committed_leader_epoch=-1, commit_timestamp=-1,
                committed_metadata="")])])},
    "OffsetFetch": {"": lambda R: R(
        group_id=GROUP, topics=[R.OffsetFetchRequestTopic(name=TOPIC, partition_indexes=[0, 1])],
        groups=[R.OffsetFetchRequestGroup(group_id=GROUP, member_id=None, member_epoch=-1, topics=[
            R.OffsetFetchRequestGroup.OffsetFetchRequestTopics(name=TOPIC, topic_id=TOPIC_ID,
                                                               partition_indexes=[0, 1])])],
        require_stable=False)},
    "FindCoordinator": {"": lambda R: R(key=GROUP, key_type=0, coordinator_keys=[GROUP])},
    "JoinGroup": {"": lambda R: R(
        group_id=GROUP, session_timeout_ms=10000, rebalance_timeout_ms=30000, member_id="",
        group_instance_id=None, protocol_type="consumer", reason=None,
        protocols=[R.JoinGroupRequestProtocol(name="range", metadata=SUBSCRIPTION)])},
    "Heartbeat": {"": lambda R: R(group_id=GROUP, generation_id=1, member_id=MEMBER, group_instance_id=None)},
    "LeaveGroup": {"": lambda R: R(group_id=GROUP, member_id=MEMBER, members=[
        R.MemberIdentity(member_id=MEMBER, group_instance_id=None, reason=None)])},
    "SyncGroup": {"": lambda R: R(
        group_id=GROUP, generation_id=1, member_id=MEMBER, group_instance_id=None, protocol_type="consumer",
        protocol_name="range", assignments=[R.SyncGroupRequestAssignment(member_id=MEMBER, assignment=ASSIGNMENT)])},
    "DescribeGroups": {"": lambda R: R(groups=[GROUP], include_authorized_operations=False)},
    "ListGroups": {"": lambda R: R(states_filter=["Stable"], types_filter=["classic"])},
    "SaslHandshake": {"": lambda R: R(mechanism="PLAIN")},
    "ApiVersions": {"": lambda R: R(client_software_name="strait-fuzz", client_software_version="1.0")},
    "CreateTopics": {"": lambda R: R(timeout_ms=1000, validate_only=False, topics=[
        R.CreatableTopic(name=TOPIC, num_partitions=2, replication_factor=1, assignments=[], configs=[
            R.CreatableTopic.CreatableTopicConfig(name="cleanup.policy", value="delete"),
            R.CreatableTopic.CreatableTopicConfig(name="retention.ms", value=None)]),
        R.CreatableTopic(name=TOPIC2, num_partitions=-1, replication_factor=-1, configs=[], assignments=[
            R.CreatableTopic.CreatableReplicaAssignment(partition_index=0, broker_ids=[1])])])},
    "DeleteTopics": {"": lambda R: R(timeout_ms=1000, topic_names=[TOPIC, TOPIC2], topics=[
        R.DeleteTopicState(name=TOPIC, topic_id=None), R.DeleteTopicState(name=None, topic_id=TOPIC2_ID)])},
    "DeleteRecords": {"": lambda R: R(timeout_ms=1000, topics=[R.DeleteRecordsTopic(name=TOPIC, partitions=[
        R.DeleteRecordsTopic.DeleteRecordsPartition(partition_index=0, offset=1)])])},
    "InitProducerId": {
        "": lambda R: R(transactional_id=TXN_ID, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1,
                        enable2_pc=False, keep_prepared_txn=False),
        "idempotent": lambda R: R(transactional_id=None, transaction_timeout_ms=60000, producer_id=-1,
                                  producer_epoch=-1, enable2_pc=False, keep_prepared_txn=False)},
    "OffsetForLeaderEpoch": {"": lambda R: R(replica_id=-1, topics=[R.OffsetForLeaderTopic(topic=TOPIC, partitions=[
        R.OffsetForLeaderTopic.OffsetForLeaderPartition(partition=0, current_leader_epoch=-1, leader_epoch=0)])])},
    "AddPartitionsToTxn": {"": add_partitions_to_txn},
    "AddOffsetsToTxn": {"": lambda R: R(transactional_id=TXN_ID, producer_id=PRODUCER_ID,
                                        producer_epoch=PRODUCER_EPOCH, group_id=GROUP)},
    "EndTxn": {"": lambda R: R(transactional_id=TXN_ID, producer_id=PRODUCER_ID, producer_epoch=PRODUCER_EPOCH,
                               committed=True)},
    "TxnOffsetCommit": {"": lambda R: R(
        transactional_id=TXN_ID, group_id=GROUP, producer_id=PRODUCER_ID, producer_epoch=PRODUCER_EPOCH,
        generation_id=1, member_id=MEMBER, group_instance_id=None, topics=[R.TxnOffsetCommitRequestTopic(
            name=TOPIC, partitions=[R.TxnOffsetCommitRequestTopic.TxnOffsetCommitRequestPartition(
                partition_index=0, committed_offset=3, committed_leader_epoch=-1, committed_metadata=None)])])},
    # ACL codes: resource 2 TOPIC, pattern 3 LITERAL, operation 1 ANY / 3 READ, permission 1 ANY / 3 ALLOW.
    "DescribeAcls": {"": lambda R: R(resource_type_filter=2, resource_name_filter=TOPIC, pattern_type_filter=3,
                                     principal_filter=None, host_filter=None, operation=1, permission_type=1)},
    "CreateAcls": {"": lambda R: R(creations=[R.AclCreation(
        resource_type=2, resource_name=TOPIC, resource_pattern_type=3, principal="User:alice", host="*",
        operation=3, permission_type=3)])},
    "DeleteAcls": {"": lambda R: R(filters=[R.DeleteAclsFilter(
        resource_type_filter=2, resource_name_filter=TOPIC, pattern_type_filter=3, principal_filter="User:alice",
        host_filter=None, operation=3, permission_type=3)])},
    # Config resource types: 2 TOPIC, 4 BROKER.
    "DescribeConfigs": {"": lambda R: R(include_synonyms=False, include_documentation=False, resources=[
        R.DescribeConfigsResource(resource_type=2, resource_name=TOPIC, configuration_keys=["retention.ms"]),
        R.DescribeConfigsResource(resource_type=4, resource_name="1", configuration_keys=None)])},
    "AlterConfigs": {"": lambda R: R(validate_only=False, resources=[R.AlterConfigsResource(
        resource_type=2, resource_name=TOPIC, configs=[
            R.AlterConfigsResource.AlterableConfig(name="retention.ms", value="60000")])])},
    "SaslAuthenticate": {"": lambda R: R(auth_bytes=b"\x00alice\x00alice-secret")},
    "CreatePartitions": {"": lambda R: R(timeout_ms=1000, validate_only=False, topics=[
        R.CreatePartitionsTopic(name=TOPIC, count=3, assignments=None),
        R.CreatePartitionsTopic(name=TOPIC2, count=2, assignments=[
            R.CreatePartitionsTopic.CreatePartitionsAssignment(broker_ids=[1])])])},
    "DeleteGroups": {"": lambda R: R(groups_names=[GROUP])},
    # Operations: 0 SET, 1 DELETE.
    "IncrementalAlterConfigs": {"": lambda R: R(validate_only=False, resources=[R.AlterConfigsResource(
        resource_type=2, resource_name=TOPIC, configs=[
            R.AlterConfigsResource.AlterableConfig(name="retention.ms", config_operation=0, value="60000"),
            R.AlterConfigsResource.AlterableConfig(name="cleanup.policy", config_operation=1, value=None)])])},
    "OffsetDelete": {"": lambda R: R(group_id=GROUP, topics=[R.OffsetDeleteRequestTopic(name=TOPIC, partitions=[
        R.OffsetDeleteRequestTopic.OffsetDeleteRequestPartition(partition_index=0)])])},
    "DescribeCluster": {"": lambda R: R(include_cluster_authorized_operations=False, endpoint_type=1,
                                        include_fenced_brokers=False)},
    "DescribeProducers": {"": lambda R: R(topics=[R.TopicRequest(name=TOPIC, partition_indexes=[0])])},
    "DescribeTransactions": {"": lambda R: R(transactional_ids=[TXN_ID])},
    "ListTransactions": {"": lambda R: R(state_filters=["Ongoing"], producer_id_filters=[PRODUCER_ID],
                                         duration_filter=-1, transactional_id_pattern=None)},
    "DescribeUserScramCredentials": {"": lambda R: R(users=[R.UserName(name="alice")]),
                                     "all": lambda R: R(users=None)},
    # Mechanisms: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
    "AlterUserScramCredentials": {"": lambda R: R(
        deletions=[R.ScramCredentialDeletion(name="bob", mechanism=2)],
        upsertions=[R.ScramCredentialUpsertion(name="alice", mechanism=1, iterations=4096, salt=b"salt",
                                               salted_password=SALTED_PASSWORD)])},
}

# Extra seeds at one version: a known tagged field (Fetch ClusterId, tag 0, at the first flexible
# version) and an unknown top-level tagged field spliced into a flexible ApiVersions request.
TAGGED_FETCH_VERSION = 12
UNKNOWN_TAG_VERSION = 3
UNKNOWN_TAG = (9, b"fz")


def uvarint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode_request(request, version: int, correlation_id: int) -> bytes:
    request.API_VERSION = version
    request.with_header(correlation_id=correlation_id, client_id=CLIENT_ID)
    return bytes(request.encode(header=True))


def check_header(frame: bytes, cls, version: int, correlation_id: int) -> int:
    """Parses the request header by hand; returns where the body starts."""
    api_key, api_version, correlation, client_len = struct.unpack_from(">hhih", frame, 0)
    assert (api_key, api_version, correlation) == (cls.API_KEY, version, correlation_id)
    pos = 10 + max(client_len, 0)
    assert frame[10:pos] == CLIENT_ID.encode()
    if cls.flexible_version_q(version):   # header v2: an empty tagged-field section
        assert frame[pos] == 0, "header v2 tagged fields not empty"
        pos += 1
    return pos


def check_request(name: str, cls, version: int, correlation_id: int, frame: bytes, unknown_tag=None):
    assert len(frame) < MAX_SEED_BYTES, f"{name}: {len(frame)} bytes"
    check_header(frame, cls, version, correlation_id)
    decoded = cls.decode(frame, version=version, header=True)
    assert decoded.header.request_api_key == cls.API_KEY
    assert decoded.header.request_api_version == version
    assert decoded.header.correlation_id == correlation_id
    assert decoded.header.client_id == CLIENT_ID
    if unknown_tag is not None:
        assert decoded.unknown_tags, f"{name}: unknown tagged field not decoded"
        return
    # Re-encoding what kafka-python decoded must give the same bytes: it read all of them, as written.
    again = encode_request(decoded, version, correlation_id)
    assert again == frame, f"{name}: round trip differs\n{frame.hex()}\n{again.hex()}"


def request_seeds(classes: dict[str, type]) -> tuple[dict[str, bytes], list[str]]:
    seeds, skipped = {}, []
    correlation_id = 0
    for api, variants in APIS.items():
        cls = classes.get(api)
        if cls is None:
            skipped.append(f"{api} (no request class)")
            continue
        for version in seed_versions(cls):
            for variant, factory in variants.items():
                correlation_id += 1
                name = f"{cls.API_KEY}-{api}-v{version}" + (f"-{variant}" if variant else "")
                frame = encode_request(factory(cls), version, correlation_id)
                check_request(name, cls, version, correlation_id, frame)
                seeds[name] = frame
    extra = []
    if "Fetch" in classes and TAGGED_FETCH_VERSION in seed_versions(classes["Fetch"]):
        extra.append(("Fetch", TAGGED_FETCH_VERSION, "tagged", lambda R: fetch(R, tagged=True), None))
    if "ApiVersions" in classes and classes["ApiVersions"].flexible_version_q(UNKNOWN_TAG_VERSION):
        extra.append(("ApiVersions", UNKNOWN_TAG_VERSION, "unknown-tag", APIS["ApiVersions"][""], UNKNOWN_TAG))
    for api, version, variant, factory, unknown_tag in extra:
        cls = classes[api]
        correlation_id += 1
        name = f"{cls.API_KEY}-{api}-v{version}-{variant}"
        frame = encode_request(factory(cls), version, correlation_id)
        if unknown_tag is not None:
            # The body ends with the top-level tagged-field count (0): one field instead.
            assert frame[-1] == 0
            tag, data = unknown_tag
            frame = frame[:-1] + uvarint(1) + uvarint(tag) + uvarint(len(data)) + data
        check_request(name, cls, version, correlation_id, frame, unknown_tag)
        seeds[name] = frame
    return seeds, skipped


# ---------------------------------------------------------------------------------------------

def write_dir(directory: Path, seeds: dict[str, bytes]):
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {f"{name}.bin" for name in seeds}
    for stale in directory.glob("*.bin"):
        if stale.name not in wanted:
            stale.unlink()
    for name, data in sorted(seeds.items()):
        (directory / f"{name}.bin").write_bytes(data)


def main() -> int:
    requests, skipped = request_seeds(request_classes())
    records = {}
    for name, (blob, expect) in records_seeds().items():
        check_records(name, blob, expect)
        records[name] = blob
    write_dir(REQUESTS_DIR, requests)
    write_dir(RECORDS_DIR, records)
    note = f"; skipped: {', '.join(skipped)}" if skipped else ""
    print(f"seeds: {len(requests)} in {REQUESTS_DIR.relative_to(ROOT.parent.parent.parent)}, "
          f"{len(records)} in {RECORDS_DIR.relative_to(ROOT.parent.parent.parent)}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
