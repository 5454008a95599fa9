"""MirrorMaker 2's internal records and Strait's offset map, decoded in Python from their byte
layouts alone (big-endian; STRING = INT16 length + UTF-8), independently of the Swift code, plus
the offset map's run rules and the translation they give. Kept apart from the tests so a
failing assertion never hides a decoding mistake in the same function."""

from __future__ import annotations

import struct
from dataclasses import dataclass


class Reader:
    """Reads big-endian Kafka primitives from `data` and insists every byte is used."""

    def __init__(self, data: bytes, what: str):
        if data is None:
            raise ValueError(f"{what}: no bytes (null)")
        self.data, self.at, self.what = bytes(data), 0, what

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise ValueError(f"{self.what}: wants {size} bytes at {self.at}, has {len(self.data)}: {self.data.hex()}")
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk

    def int16(self) -> int:
        return struct.unpack(">h", self.take(2))[0]

    def int32(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def int64(self) -> int:
        return struct.unpack(">q", self.take(8))[0]

    def string(self) -> str:
        size = self.int16()
        if size < 0:
            raise ValueError(f"{self.what}: negative string length {size}")
        return self.take(size).decode("utf-8")

    def done(self):
        if self.at != len(self.data):
            raise ValueError(f"{self.what}: {len(self.data) - self.at} bytes left over: {self.data.hex()}")


def string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">h", len(raw)) + raw


@dataclass(frozen=True)
class Heartbeat:
    source: str
    target: str
    version: int
    timestamp: int


def heartbeat(key: bytes, value: bytes) -> Heartbeat:
    k = Reader(key, "heartbeat key")
    source, target = k.string(), k.string()
    k.done()
    v = Reader(value, "heartbeat value")
    version, timestamp = v.int16(), v.int64()
    v.done()
    return Heartbeat(source, target, version, timestamp)


@dataclass(frozen=True)
class Checkpoint:
    group: str
    topic: str          # the target topic, A.t
    partition: int
    version: int
    upstream_offset: int
    offset: int
    metadata: str


def checkpoint(key: bytes, value: bytes) -> Checkpoint:
    k = Reader(key, "checkpoint key")
    group, topic, partition = k.string(), k.string(), k.int32()
    k.done()
    v = Reader(value, "checkpoint value")
    version, upstream, offset, metadata = v.int16(), v.int64(), v.int64(), v.string()
    v.done()
    return Checkpoint(group, topic, partition, version, upstream, offset, metadata)


@dataclass(frozen=True)
class OffsetSync:
    topic: str          # the source topic, t
    partition: int
    upstream_offset: int
    offset: int


def offset_sync(key: bytes, value: bytes) -> OffsetSync:
    k = Reader(key, "offset-sync key")
    topic, partition = k.string(), k.int32()
    k.done()
    v = Reader(value, "offset-sync value")
    upstream, offset = v.int64(), v.int64()
    v.done()
    return OffsetSync(topic, partition, upstream, offset)


@dataclass(frozen=True)
class Run:
    """Source offsets [source, source + span) copied to target offsets [target, target + span)."""
    source: int
    target: int
    span: int


@dataclass(frozen=True)
class SourceEnd:
    end: int
    timestamp: int


@dataclass(frozen=True)
class MappedFrom:
    """Key offset -2: the runs are complete from this source offset on."""
    offset: int
    timestamp: int


def map_entry(key: bytes, value: bytes | None) -> tuple[str, int, int, Run | SourceEnd | MappedFrom | None]:
    """(source topic, partition, source offset, Run | SourceEnd | MappedFrom | None for a tombstone)."""
    k = Reader(key, "offset-map key")
    topic, partition, source = k.string(), k.int32(), k.int64()
    k.done()
    if value is None:
        return topic, partition, source, None
    v = Reader(value, "offset-map value")
    version, first, second = v.int16(), v.int64(), v.int64()
    v.done()
    if version != 0:
        raise ValueError(f"offset-map value version {version}")
    if source == -1:
        return topic, partition, source, SourceEnd(first, second)
    if source == -2:
        return topic, partition, source, MappedFrom(first, second)
    if source < 0 or first < 0 or second <= 0:
        raise ValueError(f"offset-map run {topic}-{partition}: source {source}, target {first}, span {second}")
    return topic, partition, source, Run(source, first, second)


class OffsetMap:
    """Where each copied source offset's last copy is, from the map's records in any order: a run
    says source offsets source..source+span-1 are at target..target+span-1, and of two copies
    of one source offset the one at the higher target offset is the later (a log only grows).
    Kept per offset, not per run, so it shares nothing with Strait's run arithmetic. Tombstones
    (runs below the source's log start) are ignored, as Strait ignores them."""

    def __init__(self):
        self.last_copy: dict[tuple[str, int], dict[int, int]] = {}
        self.ends: dict[tuple[str, int], SourceEnd] = {}
        self.mapped_from: dict[tuple[str, int], int] = {}

    def apply(self, key: bytes, value: bytes | None):
        topic, partition, source, entry = map_entry(key, value)
        if entry is None:
            return
        if isinstance(entry, MappedFrom):
            self.mapped_from[(topic, partition)] = max(self.mapped_from.get((topic, partition), entry.offset), entry.offset)
            return
        if isinstance(entry, SourceEnd):
            self.ends[(topic, partition)] = entry
            return
        copies = self.last_copy.setdefault((topic, partition), {})
        for i in range(entry.span):
            copies[entry.source + i] = max(copies.get(entry.source + i, -1), entry.target + i)

    def runs(self, topic: str, partition: int) -> list[Run]:
        """The copies as maximal runs, for messages and checks."""
        result: list[Run] = []
        for source, target in sorted((self.last_copy.get((topic, partition)) or {}).items()):
            last = result[-1] if result else None
            if last and last.source + last.span == source and last.target + last.span == target:
                result[-1] = Run(last.source, last.target, last.span + 1)
            else:
                result.append(Run(source, target, 1))
        return result

    def translate(self, topic: str, partition: int, offset: int) -> int | None:
        """The lowest target offset holding the last copy of a source offset >= `offset`; past
        every copy, one after the highest; None without copies."""
        copies = self.last_copy.get((topic, partition)) or {}
        if not copies or offset < self.mapped_from.get((topic, partition), 0):
            return None
        at_or_above = [target for source, target in copies.items() if source >= offset]
        return min(at_or_above) if at_or_above else max(copies.values()) + 1
