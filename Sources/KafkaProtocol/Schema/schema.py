"""Parser for Strait's message schema files (format described in README.md beside this file)."""
import os
import re

PRIMITIVES = {"bool", "int8", "int16", "int32", "int64", "uint16", "float64",
              "string", "bytes", "records", "uuid"}
NO_MAX = 32767


class SchemaError(Exception):
    pass


def parse_versions(text, where):
    m = re.fullmatch(r"(\d+)\+", text)
    if m:
        return (int(m.group(1)), NO_MAX)
    m = re.fullmatch(r"(\d+)-(\d+)", text)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo > hi:
            raise SchemaError(f"{where}: empty version range {text}")
        return (lo, hi)
    m = re.fullmatch(r"(\d+)", text)
    if m:
        return (int(m.group(1)), int(m.group(1)))
    raise SchemaError(f"{where}: bad version range {text!r}")


def in_range(rng, v):
    return rng is not None and rng[0] <= v <= rng[1]


class Field:
    def __init__(self, name, type_, versions, nullable, tag, default, where):
        self.name = name
        self.type = type_
        self.versions = versions
        self.nullable = nullable
        self.tag = tag
        self.default = default
        self.where = where
        self.fields = []          # children, for struct types
        self.struct = None        # the Struct this field's type refers to

    @property
    def is_array(self):
        return self.type.startswith("[]")

    @property
    def element(self):
        return self.type[2:] if self.is_array else self.type

    @property
    def is_struct(self):
        return self.element not in PRIMITIVES

    def present(self, v):
        return in_range(self.versions, v)

    def nullable_in(self, v):
        return in_range(self.nullable, v)


class Struct:
    def __init__(self, name, fields):
        self.name = name
        self.fields = fields

    def versions_used(self, lo, hi):
        return any(f.versions[0] <= hi and f.versions[1] >= lo for f in self.fields)


class Message:
    def __init__(self, kind, name, key, versions, flexible, where):
        self.kind = kind
        self.name = name
        self.key = key
        self.versions = versions
        self.flexible = flexible
        self.where = where
        self.fields = []
        self.structs = {}         # name -> Struct, flattened

    def is_flexible(self, v):
        return in_range(self.flexible, v)

    def version_list(self):
        return list(range(self.versions[0], self.versions[1] + 1))


HEADER = re.compile(r"(request|response|data)\s+(\w+)((?:\s+\w+=\S+)*)\s*$")


def parse_file(path):
    messages = []
    current = None
    stack = []  # (indent, field)
    with open(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            where = f"{os.path.basename(path)}:{lineno}"
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "\t" in line:
                raise SchemaError(f"{where}: tabs are not allowed")
            indent = len(line) - len(line.lstrip(" "))
            if indent == 0:
                m = HEADER.fullmatch(line.strip())
                if not m:
                    raise SchemaError(f"{where}: bad message header")
                attrs = dict(a.split("=", 1) for a in m.group(3).split())
                unknown = set(attrs) - {"key", "versions", "flexible"}
                if unknown:
                    raise SchemaError(f"{where}: unknown attributes {sorted(unknown)}")
                key = int(attrs["key"]) if "key" in attrs else None
                if m.group(1) != "data" and key is None:
                    raise SchemaError(f"{where}: {m.group(1)} needs key=")
                current = Message(m.group(1), m.group(2), key,
                                  parse_versions(attrs["versions"], where),
                                  parse_versions(attrs["flexible"], where) if "flexible" in attrs else None,
                                  where)
                messages.append(current)
                stack = []
                continue
            if current is None:
                raise SchemaError(f"{where}: field before any message header")
            if indent % 2:
                raise SchemaError(f"{where}: indentation must be a multiple of two spaces")
            level = indent // 2
            parts = line.split()
            if len(parts) < 3:
                raise SchemaError(f"{where}: a field needs a name, a type and versions")
            name, type_, vers = parts[0], parts[1], parts[2]
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
                raise SchemaError(f"{where}: field name {name!r} must be UpperCamelCase")
            nullable = tag = None
            default = None
            for opt in parts[3:]:
                if "=" not in opt:
                    raise SchemaError(f"{where}: bad option {opt!r}")
                k, v = opt.split("=", 1)
                if k == "nullable":
                    nullable = parse_versions(v, where)
                elif k == "tag":
                    tag = int(v)
                elif k == "default":
                    default = v
                else:
                    raise SchemaError(f"{where}: unknown option {k!r}")
            field = Field(name, type_, parse_versions(vers, where), nullable, tag, default, where)
            while stack and stack[-1][0] >= level:
                stack.pop()
            if level == 1:
                if stack:
                    raise SchemaError(f"{where}: internal indentation error")
                current.fields.append(field)
            else:
                if not stack or stack[-1][0] != level - 1:
                    raise SchemaError(f"{where}: indented too far")
                parent = stack[-1][1]
                if not parent.is_struct:
                    raise SchemaError(f"{where}: {parent.name} has type {parent.type} and cannot hold fields")
                parent.fields.append(field)
            if field.is_struct:
                stack.append((level, field))
    for msg in messages:
        resolve(msg)
    return messages


def resolve(msg):
    def walk(fields, seen):
        names = set()
        for f in fields:
            if f.name in names:
                raise SchemaError(f"{f.where}: duplicate field {f.name}")
            names.add(f.name)
            if f.tag is not None and msg.flexible is None:
                raise SchemaError(f"{f.where}: tagged field in a message with no flexible versions")
            if f.is_array and f.element.startswith("[]"):
                raise SchemaError(f"{f.where}: nested arrays are not used by Kafka")
            if not f.is_struct:
                if f.fields:
                    raise SchemaError(f"{f.where}: primitive field with children")
                continue
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", f.element):
                raise SchemaError(f"{f.where}: unknown type {f.element!r}")
            if f.fields:
                if f.element in msg.structs:
                    raise SchemaError(f"{f.where}: struct {f.element} declared twice in {msg.name}")
                st = Struct(f.element, f.fields)
                msg.structs[f.element] = st
                walk(f.fields, seen)
                f.struct = st
            else:
                if f.element not in msg.structs:
                    raise SchemaError(f"{f.where}: struct {f.element} is used before it is declared")
                f.struct = msg.structs[f.element]
        tags = [f.tag for f in fields if f.tag is not None]
        if len(tags) != len(set(tags)):
            raise SchemaError(f"{msg.where}: duplicate tags in {msg.name}")
    walk(msg.fields, set())


def schema_dir():
    return os.path.dirname(os.path.abspath(__file__))


def load_all(directory=None):
    directory = directory or schema_dir()
    out = []
    for fn in sorted(os.listdir(directory)):
        if fn.endswith(".schema"):
            out.extend(parse_file(os.path.join(directory, fn)))
    names = [m.name for m in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SchemaError(f"messages declared twice: {sorted(dup)}")
    return out
