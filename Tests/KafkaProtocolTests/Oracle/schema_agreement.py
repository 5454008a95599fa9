"""Compares Strait's message schemas with kafka-python's, version by version.

kafka-python 3.x builds its messages from Kafka's published schemas, so it is an independent
oracle for the facts our schema files state: which fields exist in which version, their types,
nullability, tags and defaults. Usage: python3 schema_agreement.py [MessageName ...]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Sources", "KafkaProtocol", "Schema"))

import schema  # noqa: E402
from kafka.protocol.schemas.load_json import load_json  # noqa: E402
from kafka.protocol.schemas.fields.base import BaseField  # noqa: E402

PV = BaseField.parse_versions


def rng_has(r, v):
    return r is not None and r[0] <= v <= r[1]


def norm_default(type_, value):
    """Normalises a default to a comparable Python value."""
    if value is not None and not isinstance(value, str):
        value = str(value).lower()
    if value is None or value == "":
        if type_ in ("int8", "int16", "int32", "int64", "uint16", "float64"):
            return 0
        if type_ == "bool":
            return False
        if type_ == "string":
            return ""
        return None
    if value == "null":
        return "null"
    if type_ in ("int8", "int16", "int32", "int64", "uint16"):
        return int(value, 0)
    if type_ == "float64":
        return float(value)
    if type_ == "bool":
        return value == "true"
    return value


def compare_fields(ours, theirs, v, path, errors):
    ours_v = [f for f in ours if f.present(v)]
    theirs_v = [f for f in theirs if rng_has(PV(f["versions"]), v)]
    # Kafka spells a few fields in lowerCamelCase (CreateTopicsRequest.timeoutMs); our schema
    # format always uses UpperCamelCase, and both map to the same Swift property.
    on = [f.name for f in ours_v]
    tn = [f["name"][:1].upper() + f["name"][1:] for f in theirs_v]
    if on != tn:
        errors.append(f"{path} v{v}: fields {on} != kafka {tn}")
        return
    for o, t in zip(ours_v, theirs_v):
        p = f"{path}.{o.name}"
        if o.type != t["type"]:
            errors.append(f"{p} v{v}: type {o.type} != kafka {t['type']}")
            continue
        if o.nullable_in(v) != rng_has(PV(t.get("nullableVersions")), v):
            errors.append(f"{p} v{v}: nullable {o.nullable_in(v)} differs from kafka")
        t_tag = t.get("tag") if rng_has(PV(t.get("taggedVersions")), v) else None
        o_tag = o.tag
        if (o_tag if t_tag is not None or o_tag is not None else None) != t_tag:
            errors.append(f"{p} v{v}: tag {o_tag} != kafka {t_tag}")
        if not o.is_struct:
            if norm_default(o.type, o.default) != norm_default(t["type"], t.get("default")):
                errors.append(f"{p}: default {o.default!r} != kafka {t.get('default')!r}")
        else:
            if o.default is not None and norm_default("x", o.default) != norm_default("x", t.get("default")):
                errors.append(f"{p}: default {o.default!r} != kafka {t.get('default')!r}")
            compare_fields(o.struct.fields, t.get("fields", []), v, p, errors)


def compare_message(msg):
    errors = []
    try:
        j = load_json(msg.name)
    except FileNotFoundError:
        return None
    if msg.key is not None and j.get("apiKey") != msg.key:
        errors.append(f"{msg.name}: key {msg.key} != kafka {j.get('apiKey')}")
    # Like kafka-python itself, treat versions below Kafka's current minimum (KIP-896 removed
    # some) as having the oldest layout still described.
    kv = (0, PV(j["validVersions"])[1])
    kflex = PV(j.get("flexibleVersions", "none"))
    for v in msg.version_list():
        if not rng_has(kv, v):
            errors.append(f"{msg.name}: v{v} not valid in kafka ({j['validVersions']})")
            continue
        if msg.is_flexible(v) != rng_has(kflex, v):
            errors.append(f"{msg.name} v{v}: flexible {msg.is_flexible(v)} differs from kafka")
        compare_fields(msg.fields, j.get("fields", []), v, msg.name, errors)
    return errors


def main(names):
    msgs = schema.load_all()
    if names:
        msgs = [m for m in msgs if m.name in names]
    failed = 0
    checked = 0
    for m in msgs:
        errs = compare_message(m)
        if errs is None:
            print(f"{m.name}: kafka-python has no schema for it")
            failed += 1
            continue
        checked += 1
        if errs:
            failed += 1
            for e in errs[:20]:
                print("MISMATCH", e)
    print(f"{checked - failed if checked >= failed else 0} agree, {failed} disagree, of {len(msgs)} messages")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
