"""kafka-python as an independent oracle for Strait's Swift message codec.

kafka-python 3.x builds every Kafka message class from Kafka's published JSON schemas; this
script uses those classes to produce encoded samples and to check what Swift made of them.

Usage:
    python3 oracle.py generate OUT.json [--samples N] [--seed S]   (N defaults to 4, S to 1)
    python3 oracle.py verify IN.json

generate: for every message in Sources/KafkaProtocol/Schema/*.schema and every version in its
range, builds N random instances with kafka-python's class of the same name, encodes each
(body only: no header, no size prefix, no int16 version prefix for the consumer-protocol
"data" messages) and writes a JSON list of {"name", "version", "hex", "fields"}, where "fields"
is the canonical form (below) of kafka-python's decode of "hex". For each flexible version it
adds two samples whose top-level tagged-field section carries unknown tags (kafka-python cannot
encode those, so the oracle splices them in and checks kafka-python decodes them). Prints a
count per message to stderr; exits 1 if any message/version could not be generated.

verify: reads a JSON list of {"name", "version", "source_hex", "swift_hex", "swift_fields"}.
For each entry, kafka-python must decode swift_hex completely, to the same values (unknown
tagged fields included) as source_hex; and swift_fields must equal the canonical form of
kafka-python's decode of source_hex. Prints one line per failed check, then "N passed, M
failed"; exits 0 only if M == 0 and N > 0.

Canonical form (what swift_fields must contain):
  - A struct (the message itself or a nested struct) is a JSON object. Its keys are Kafka's
    field names with the first letter lowercased ("ThrottleTimeMs" -> "throttleTimeMs",
    "timeoutMs" stays), one per field present in that version, tagged fields included.
  - int8/int16/uint16/int32/int64: JSON integer. bool: true/false. float64: JSON number.
  - string: JSON string. bytes and records: lowercase hex string ("" when empty).
  - uuid: 32 lowercase hex digits, most significant byte first (zero uuid = 32 zeros).
  - null (nullable strings, bytes, records, arrays, structs): JSON null.
  - arrays: JSON arrays of the elements' canonical forms.
  - A tagged struct field that is absent on the wire is its default: the struct with every
    field at its default value (Kafka omits a tagged struct equal to its default).
  In swift_fields, keys for fields absent from the version are ignored, as is any key named
  "unknownTaggedFields", at every nesting level. Numbers compare by value (1 == 1.0), but a
  bool never equals a number.
"""
import argparse
import importlib
import json
import os
import pkgutil
import random
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Sources", "KafkaProtocol", "Schema"))

import schema  # noqa: E402
import kafka.protocol  # noqa: E402
from kafka.protocol.api_data import ApiData  # noqa: E402
from kafka.protocol.api_message import ApiMessage  # noqa: E402
from kafka.protocol.schemas.load_json import load_json  # noqa: E402
from kafka.protocol.schemas.fields.codecs import BitField  # noqa: E402

INT_RANGES = {"int8": (-2**7, 2**7 - 1), "int16": (-2**15, 2**15 - 1), "uint16": (0, 2**16 - 1),
              "int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}
NON_ASCII = "éüßñøΩжλ中文字日本😀🚀"
ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/ "


class OracleError(Exception):
    pass


# ---------------------------------------------------------------- kafka-python classes

_CLASSES = None
_NAMES = {}  # id(kafka-python field) -> Kafka's field name, from the unpatched JSON schema


def kp_class(name):
    """kafka-python's message class called `name` (ApiMessage or ApiData), or None."""
    global _CLASSES
    if _CLASSES is None:
        _CLASSES = {}
        for info in pkgutil.walk_packages(kafka.protocol.__path__, "kafka.protocol."):
            if ".old" in info.name:  # the pre-3.0 hand-written protocol classes
                continue
            mod = importlib.import_module(info.name)
            for obj in vars(mod).values():
                if (isinstance(obj, type) and issubclass(obj, (ApiMessage, ApiData))
                        and getattr(obj, "_json", None) is not None
                        and getattr(obj, "_class_version", None) is None):
                    _CLASSES.setdefault(obj.__name__, obj)
    cls = _CLASSES.get(name)
    if cls is not None and id(cls._struct) not in _NAMES:
        # Some classes patch their schema (e.g. MetadataResponse renames and retypes
        # ClusterAuthorizedOperations); take names from the unpatched schema, field by field.
        def walk(kp_fields, raw_fields):
            assert len(kp_fields) == len(raw_fields)
            for f, raw in zip(kp_fields, raw_fields):
                _NAMES[id(f)] = raw["name"]
                if f.is_struct() or f.is_struct_array():
                    walk(struct_of(f)._fields, raw["fields"])
        walk(cls._struct._fields, load_json(name)["fields"])
        _NAMES[id(cls._struct)] = name
    return cls


def struct_of(f):
    return f.array_of if f.is_struct_array() else f


def key_of(f):
    name = _NAMES[id(f)]
    return name[:1].lower() + name[1:]


def present(struct, v):
    return [f for f in struct._fields if f.for_version_q(v)]


def is_flexible(cls, v):
    return cls.flexible_version_q(v)


def kp_encode(cls, obj, v):
    if issubclass(cls, ApiData):
        return obj.encode(version=v, header=False)
    return obj.encode(version=v)


def kp_decode(cls, v, data):
    """Decodes a body with kafka-python's generic struct decoder; it must use every byte.
    (Bypasses class overrides such as ApiVersionsResponse.decode, which switches to v0 on error.)"""
    if not 0 <= v <= cls.max_version:
        raise OracleError(f"kafka-python supports {cls.__name__} up to v{cls.max_version} only")
    flex = is_flexible(cls, v)
    decoder = cls._struct.compiled_decode_from(v, compact=flex, tagged=flex, data_class=cls)
    try:
        obj, pos = decoder(memoryview(data), 0)
    except Exception as e:  # struct.error, IndexError, UnicodeDecodeError, ...
        raise OracleError(f"decode error: {type(e).__name__}: {e}") from None
    if pos > len(data):
        raise OracleError(f"decode ran {pos - len(data)} bytes past the end of {len(data)}")
    if pos < len(data):
        raise OracleError(f"decode used {pos} of {len(data)} bytes")
    return obj


# ---------------------------------------------------------------- canonical form

def canonical(obj, struct, v, unknown=False):
    """Canonical form of a decoded struct; unknown=True adds "unknownTaggedFields" (a sorted
    list of [tag, hex]) wherever kafka-python kept unknown tags, for kafka-vs-kafka checks."""
    out = {}
    for f in present(struct, v):
        out[key_of(f)] = canonical_value(f, getattr(obj, f.name), v, unknown)
    tags = getattr(obj, "unknown_tags", None)
    if unknown and tags:
        out["unknownTaggedFields"] = sorted([int(k[1:]), bytes(val).hex()] for k, val in tags.items())
    return out


def canonical_value(f, val, v, unknown):
    if f.is_struct_array():
        return None if val is None else [canonical(x, f.array_of, v, unknown) for x in val]
    if f.is_struct():
        if val is None and f.tagged_field_q(v) and not f.nullable_for_version_q(v):
            val = f.data_class(version=v)  # absent tagged struct = its default value
        return None if val is None else canonical(val, f, v, unknown)
    if f.is_array():
        return None if val is None else [scalar(f.array_of._type_str, x) for x in val]
    return scalar(f._type_str, val)


def scalar(t, val):
    if t == "uuid":
        return "0" * 32 if val is None else (val if isinstance(val, uuid.UUID) else uuid.UUID(val)).hex
    if t == "bitfield":  # kafka-python's set-of-bits view of an int32 (AuthorizedOperations)
        raw = BitField.to_32_bit_field({31} if val is None else val)
        return raw - 2**32 if raw >= 2**31 else raw
    if val is None:
        return None
    if t in INT_RANGES:
        return int(val)
    if t == "bool":
        return bool(val)
    if t == "float64":
        return float(val)
    if t in ("bytes", "records"):
        return bytes(val).hex()
    return str(val)


def first_diff(want, got, path="$", ignore_extra=False):
    """None if equal, else (path, description) of the first difference."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return path, f"expected an object, got {short(got)}"
        for k in want:
            if k not in got:
                return f"{path}.{k}", "missing"
            d = first_diff(want[k], got[k], f"{path}.{k}", ignore_extra)
            if d:
                return d
        if not ignore_extra:
            for k in got:
                if k not in want:
                    return f"{path}.{k}", f"unexpected key (value {short(got[k])})"
        return None
    if isinstance(want, list):
        if not isinstance(got, list):
            return path, f"expected an array, got {short(got)}"
        if len(want) != len(got):
            return path, f"expected {len(want)} elements, got {len(got)}"
        for i, (w, g) in enumerate(zip(want, got)):
            d = first_diff(w, g, f"{path}[{i}]", ignore_extra)
            if d:
                return d
        return None
    if isinstance(want, bool) or isinstance(got, bool):
        same = type(want) is type(got) and want == got
    elif isinstance(want, (int, float)):
        same = isinstance(got, (int, float)) and want == got
    else:
        same = type(want) is type(got) and want == got
    return None if same else (path, f"expected {short(want)}, got {short(got)}")


def short(x, limit=80):
    s = json.dumps(x, ensure_ascii=False)
    return s if len(s) <= limit else s[:limit] + "..."


# ---------------------------------------------------------------- random instances

class Builder:
    def __init__(self, rng):
        self.rng = rng
        self.notes = set()  # coverage limitations met while building

    def chance(self, p):
        return self.rng.random() < p

    def struct(self, struct, v, cls=None, in_tagged=False, drop_tags=False, path=""):
        vals = {}
        for f in present(struct, v):
            if f.tagged_field_q(v):
                if in_tagged or drop_tags:
                    if in_tagged:
                        self.notes.add(f"{path}{key_of(f)}: tagged field inside a tagged struct "
                                       "(kafka-python writes nested tag sections empty); left at default")
                    continue
                if self.chance(0.5):
                    continue  # leave at default: not written
            vals[f.name] = self.value(f, v, in_tagged or f.tagged_field_q(v), f"{path}{key_of(f)}.")
        return (cls or struct.data_class)(version=v, **vals)

    def value(self, f, v, in_tagged, path):
        nullable = f.nullable_for_version_q(v)
        if (f.is_struct_array() or f.is_struct() or f.is_array()) and nullable and self.chance(0.15):
            return None
        if f.is_struct_array():
            elem = f.array_of
            # kafka-python's compiled encoder unwraps structs with one untagged field to that
            # field's value and then finds no tagged fields on it: their tags would be dropped.
            drop = len(elem.untagged_fields(v)) == 1 and bool(elem.tagged_fields(v)._fields)
            if drop:
                self.notes.add(f"{path[:-1]}: single-untagged-field struct; its tagged fields left "
                               "at default (kafka-python's encoder drops them)")
            return [self.struct(elem, v, in_tagged=in_tagged, drop_tags=drop, path=path)
                    for _ in range(self.rng.randint(0, 3))]
        if f.is_struct():
            return self.struct(f, v, in_tagged=in_tagged, path=path)
        if f.is_array():
            return [self.scalar(f.array_of._type_str, False) for _ in range(self.rng.randint(0, 3))]
        return self.scalar(f._type_str, nullable)

    def scalar(self, t, nullable):
        r = self.rng
        if t in INT_RANGES or t == "bitfield":
            lo, hi = INT_RANGES.get(t, INT_RANGES["int32"])
            if self.chance(0.35):
                n = r.choice([x for x in (lo, -1, 0, 1, hi) if lo <= x <= hi])
            else:
                n = r.randint(lo, hi)
            if t == "bitfield":
                return {i for i in range(32) if (n & 0xFFFFFFFF) >> i & 1}
            return n
        if t == "bool":
            return self.chance(0.5)
        if t == "float64":
            return r.choice([0.0, -1.5, 1e300, r.uniform(-1e9, 1e9)])
        if t == "uuid":
            return uuid.UUID(int=0) if self.chance(0.1) else uuid.UUID(bytes=r.randbytes(16))
        if nullable and self.chance(0.2):
            return None
        if t == "string":
            chars = ASCII + (NON_ASCII if self.chance(0.3) else "")
            return "".join(r.choice(chars) for _ in range(r.randint(0, 20)))
        if t == "bytes":
            return r.randbytes(r.randint(0, 40))
        if t == "records":
            return r.randbytes(r.randint(0, 60))
        raise OracleError(f"unsupported type {t}")


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def with_unknown_tags(cls, body, v, rng):
    """Replaces the empty top-level tag section (the body's last byte) with unknown tags."""
    if body[-1:] != b"\x00":
        raise OracleError("top-level tagged-field section is not empty")
    known = [f.tag for f in cls._struct.tagged_fields(v)._fields]
    first = max(known, default=-1) + 1
    tags = sorted(rng.sample(range(first, first + 30), rng.randint(1, 3)))
    if rng.random() < 0.5:
        tags.append(rng.choice([200, 10000, 2**21]))  # multi-byte varint tags
    unknown = {t: rng.randbytes(rng.randint(0, 12)) for t in tags}
    section = uvarint(len(tags)) + b"".join(uvarint(t) + uvarint(len(d)) + d for t, d in unknown.items())
    return body[:-1] + section, unknown


# ---------------------------------------------------------------- subcommands

def generate(out_path, samples, seed):
    rng = random.Random(seed)
    builder = Builder(rng)
    entries, counts, gaps = [], {}, []
    for msg in schema.load_all():
        counts[msg.name] = 0
        cls = kp_class(msg.name)
        if cls is None:
            gaps.append(f"{msg.name}: no kafka-python class of that name")
            continue
        for v in msg.version_list():
            if v > cls.max_version:
                gaps.append(f"{msg.name} v{v}: kafka-python supports up to v{cls.max_version}")
                continue
            flex = is_flexible(cls, v)
            n_unknown = 2 if flex else 0
            for i in range(samples + n_unknown):
                tagged_body = i >= samples
                try:
                    obj = builder.struct(cls._struct, v, cls=cls, path=msg.name + ".")
                    if tagged_body:  # top-level tags left at default so their section is empty
                        for f in cls._struct.tagged_fields(v)._fields:
                            setattr(obj, f.name, f.default)
                    body = kp_encode(cls, obj, v)
                    unknown = None
                    if tagged_body:
                        body, unknown = with_unknown_tags(cls, body, v, rng)
                    decoded = kp_decode(cls, v, body)
                    fields = canonical(decoded, cls._struct, v)
                    d = first_diff(canonical(obj, cls._struct, v), fields)
                    if d:
                        raise OracleError(f"kafka-python round trip changed {d[0]}: {d[1]}")
                    if unknown is not None:
                        got = {int(k[1:]): bytes(x) for k, x in (decoded.unknown_tags or {}).items()}
                        if got != unknown:
                            raise OracleError(f"unknown tags {unknown} decoded as {got}")
                except Exception as e:
                    gaps.append(f"{msg.name} v{v}: {type(e).__name__}: {e}")
                    break
                entries.append({"name": msg.name, "version": v, "hex": body.hex(), "fields": fields})
                counts[msg.name] += 1
    with open(out_path, "w") as fh:
        json.dump(entries, fh, ensure_ascii=False, indent=0)
    for name, n in counts.items():
        print(f"{name}: {n}", file=sys.stderr)
    print(f"{len(entries)} samples for {sum(1 for n in counts.values() if n)} of {len(counts)} "
          f"messages written to {out_path}", file=sys.stderr)
    for note in sorted(builder.notes):
        print(f"note: {note}", file=sys.stderr)
    for gap in gaps:
        print(f"CANNOT GENERATE {gap}", file=sys.stderr)
    return 1 if gaps else 0


def verify(in_path):
    with open(in_path) as fh:
        entries = json.load(fh)
    passed = failed = 0
    for i, e in enumerate(entries):
        name, v = e.get("name"), e.get("version")
        problems = []
        cls = kp_class(name) if isinstance(name, str) else None
        if cls is None:
            problems.append("message unknown to kafka-python")
        else:
            try:
                source = kp_decode(cls, v, bytes.fromhex(e["source_hex"]))
            except Exception as err:
                source = None
                problems.append(f"source_hex does not decode: {err}")
            try:
                swift = kp_decode(cls, v, bytes.fromhex(e["swift_hex"]))
            except Exception as err:
                swift = None
                problems.append(f"swift_hex does not decode: {err}")
            if source is not None and swift is not None:
                d = first_diff(canonical(source, cls._struct, v, unknown=True),
                               canonical(swift, cls._struct, v, unknown=True))
                if d:
                    problems.append(f"swift_hex decodes to different values: at {d[0]}: {d[1]}")
            if source is not None:
                d = first_diff(canonical(source, cls._struct, v), e.get("swift_fields"),
                               ignore_extra=True)
                if d:
                    problems.append(f"swift_fields differ: at {d[0]}: {d[1]}")
        for p in problems:
            print(f"FAIL {name} v{v} (entry {i}): {p}")
        if problems:
            failed += 1
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write random kafka-python-encoded samples")
    g.add_argument("out")
    g.add_argument("--samples", type=int, default=4)
    g.add_argument("--seed", type=int, default=1)
    vp = sub.add_parser("verify", help="check Swift's decodes and re-encodes")
    vp.add_argument("input")
    args = ap.parse_args()
    if args.cmd == "generate":
        return generate(args.out, args.samples, args.seed)
    return verify(args.input)


if __name__ == "__main__":
    sys.exit(main())
