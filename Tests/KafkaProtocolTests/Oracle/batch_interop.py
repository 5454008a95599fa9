#!/usr/bin/env python3
"""Checks that real Kafka clients read record batches another encoder (Strait) produced.

Usage:
    python3 batch_interop.py check IN.json [--timeout S] [-v]

IN.json is a JSON list of entries, one record batch each:
    {"codec": "none|gzip|snappy|lz4|zstd",
     "hex": "<one RecordBatch v2 (magic 2) whose base offset is B>",
     "base_offset": B,
     "records": [{"offset": o, "timestamp": t, "key": str|null, "value": str|null,
                  "headers": [[key, value|null], ...]}, ...]}
Keys, values and header values are UTF-8 text; null means a null key/value/header value.

Every entry gets three independent checks:
  kafka-python     kafka.record.MemoryRecords parses the bytes as exactly one v2 batch, its CRC-32C
                   validates (DefaultRecordBatch.validate_crc), its base offset is B, its
                   compression type is `codec`, and its records (offset, timestamp, key, value,
                   headers) equal the expected list.
  confluent-kafka  librdkafka (confluent-kafka's, 2.16 here) consumes the batch from a responder
                   (record_vectors.py's fake broker) whose partition 0 of one topic per entry holds
                   exactly these bytes and serves them verbatim in Fetch responses. One Consumer
                   (check.crcs=true, auto.offset.reset=earliest) is assigned every entry's topic at
                   offset B; it must deliver the expected records (offset, timestamp, key, value,
                   headers) and no errors.
  kcat             kcat (its bundled librdkafka, 2.0.2 here) runs
                   `kcat -C -b 127.0.0.1:PORT -t TOPIC -p 0 -o B -c N+1 -e -J -X check.crcs=true`
                   per entry (all entries in parallel, one responder; -e stops it at the end of the
                   partition, N+1 lets a surplus record show); it must exit 0 and its JSON lines
                   must give the expected records (offset, ts, key, payload, headers).

Only kafka-python sees the batch's attributes, so only it checks `codec`; the consumers check
what they deliver.

Output: one line per failed check, `FAIL <client> <codec>: <what>` (what names the entry index and
base offset), then exactly one final line `N passed, M failed` counting checks (entries x 3).
Exit status 0 only if M == 0 and N > 0. A missing client (kafka-python, confluent-kafka, kcat)
fails its checks. Every client run is bounded by --timeout (default 20 s); the responders and any
kcat processes are stopped before exit. -v prints timings and the API versions each client used
(to stderr, before the final line).

The responder advertises Strait's API version ranges (record_vectors.ADVERTISED: Produce 3-9,
Fetch 4-12). Consuming is not affected by the librdkafka 2.0.2 produce-side quirk noted in
record_vectors.py (it only compresses gzip/snappy/lz4 when the Produce range includes v0): kcat
consumes every codec against Strait's ranges (Fetch v11).
"""

import argparse
import collections
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
CLIENTS = ["kafka-python", "confluent-kafka", "kcat"]
GROUP = "strait-batch-interop"
MAX_DETAILS = 4          # mismatches listed per failed check


class Entry:
    def __init__(self, index, raw):
        self.index = index
        self.codec = "?"
        self.problem = None      # a malformed entry fails all three checks with this
        self.data = b""
        self.base_offset = 0
        self.records = []
        try:
            self.codec = str(raw.get("codec"))
            self.data = bytes.fromhex(raw["hex"])
            self.base_offset = int(raw["base_offset"])
            self.records = [normalize_expected(r) for r in raw["records"]]
        except Exception as e:  # noqa: BLE001
            self.problem = "malformed entry: %r" % (e,)
        self.topic = "strait-interop-%d-%s" % (index, "".join(ch for ch in self.codec if ch.isalnum()))

    @property
    def label(self):
        return "entry %d (base offset %d)" % (self.index, self.base_offset)


def normalize_expected(r):
    return {"offset": int(r["offset"]), "timestamp": int(r["timestamp"]),
            "key": r["key"], "value": r["value"],
            "headers": [[h[0], h[1]] for h in (r.get("headers") or [])]}


def text(b):
    """Bytes (or str/None) as text; invalid UTF-8 shows as backslash escapes (and so mismatches)."""
    if b is None or isinstance(b, str):
        return b
    return bytes(b).decode("utf-8", "backslashreplace")


def short(v, n=60):
    s = repr(v)
    return s if len(s) <= n else s[:n - 3] + "..."


def compare(expected, got):
    """Problems (strings) between two lists of normalized records."""
    problems = []
    if len(got) != len(expected):
        problems.append("got %d records, expected %d" % (len(got), len(expected)))
    for i, (e, g) in enumerate(zip(expected, got)):
        for field in ("offset", "timestamp", "key", "value", "headers"):
            if field in g and g[field] != e[field]:
                problems.append("record %d (offset %d): %s %s != expected %s" % (
                    i, e["offset"], field, short(g[field]), short(e[field])))
    return problems


def summarize(problems):
    if len(problems) <= MAX_DETAILS:
        return "; ".join(problems)
    return "; ".join(problems[:MAX_DETAILS]) + "; (+%d more)" % (len(problems) - MAX_DETAILS)


# --------------------------------------------------------------------------------------------
# Check 1: kafka-python parses the batch
# --------------------------------------------------------------------------------------------

def check_kafka_python(entries):
    out = {}
    try:
        from kafka.record import MemoryRecords
        from kafka.record.default_records import DefaultRecordBatch
    except Exception as e:  # noqa: BLE001
        return {en.index: ["kafka-python not importable: %r" % (e,)] for en in entries}
    for en in entries:
        if en.problem:
            out[en.index] = [en.problem]
            continue
        problems = []
        try:
            mr = MemoryRecords(en.data)
            batch = mr.next_batch()
            if batch is None:
                problems.append("no complete batch in %d bytes" % len(en.data))
            elif not isinstance(batch, DefaultRecordBatch):
                problems.append("not a v2 batch (magic %s)" % batch.magic)
            else:
                if mr.has_next():
                    problems.append("more than one batch in the bytes")
                elif mr.valid_bytes() != len(en.data):
                    problems.append("%d trailing bytes after the batch" % (len(en.data) - mr.valid_bytes()))
                if not batch.validate_crc():
                    problems.append("CRC-32C does not validate (stored 0x%08x)" % (batch.crc & 0xFFFFFFFF))
                if batch.base_offset != en.base_offset:
                    problems.append("base offset %d != expected %d" % (batch.base_offset, en.base_offset))
                if CODEC_IDS.get(en.codec) is None:
                    problems.append("unknown codec %r in IN.json" % en.codec)
                elif batch.compression_type != CODEC_IDS[en.codec]:
                    problems.append("compression type %d != expected %d (%s)" % (
                        batch.compression_type, CODEC_IDS[en.codec], en.codec))
                got = [{"offset": r.offset, "timestamp": r.timestamp, "key": text(r.key),
                        "value": text(r.value), "headers": [[k, text(v)] for k, v in r.headers]}
                       for r in batch]
                if batch.records_count != len(got):
                    problems.append("batch header says %d records, %d decoded" % (batch.records_count, len(got)))
                problems += compare(en.records, got)
        except Exception as e:  # noqa: BLE001
            problems.append("parse failed: %r" % (e,))
        out[en.index] = problems
    return out


# --------------------------------------------------------------------------------------------
# Responder
# --------------------------------------------------------------------------------------------

def start_responder(entries, name):
    import record_vectors
    return record_vectors.start_responder({en.topic: en.data for en in entries}, name=name)


def versions_used(broker):
    import record_vectors
    c = collections.Counter("%s v%d" % (record_vectors.API_NAMES.get(f["api_key"], f["api_key"]),
                                        f["api_version"]) for f in broker.frames)
    return ", ".join("%s x%d" % kv for kv in sorted(c.items()))


# --------------------------------------------------------------------------------------------
# Check 2: librdkafka via confluent-kafka
# --------------------------------------------------------------------------------------------

class _LogCollector(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def check_confluent(entries, timeout, info):
    live = [en for en in entries if not en.problem]
    out = {en.index: [en.problem] for en in entries if en.problem}
    try:
        import confluent_kafka
        from confluent_kafka import Consumer, KafkaError, TopicPartition
    except Exception as e:  # noqa: BLE001
        out.update({en.index: ["confluent-kafka not importable: %r" % (e,)] for en in live})
        return out
    if not live:
        return out
    version = confluent_kafka.version()
    info.append("confluent-kafka %s, librdkafka %s" % (version[0] if isinstance(version, tuple) else version,
                                                       confluent_kafka.libversion()[0]))
    broker = start_responder(live, "confluent-kafka")
    logger = logging.getLogger("batch_interop.librdkafka")   # librdkafka's log, kept off stdout/stderr
    logger.propagate = False
    collector = _LogCollector()
    logger.addHandler(collector)
    by_topic = {en.topic: en for en in live}
    got = {en.topic: [] for en in live}
    errors = collections.defaultdict(list)
    eof = set()
    general = []
    consumer = None
    try:
        consumer = Consumer({
            "bootstrap.servers": broker.bootstrap, "group.id": GROUP, "client.id": "strait-batch-interop",
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest", "check.crcs": True, "enable.partition.eof": True,
            "fetch.wait.max.ms": 100, "socket.timeout.ms": 10000, "session.timeout.ms": 10000,
            "topic.metadata.refresh.interval.ms": 60000, "logger": logger})
        consumer.assign([TopicPartition(en.topic, 0, en.base_offset) for en in live])
        deadline = time.time() + timeout

        def done(topic):
            en = by_topic[topic]
            # Partition EOF (the high watermark, just past the batch) ends a partition, so a
            # surplus record would still show; repeated errors end it too.
            return topic in eof or len(errors[topic]) >= 3

        while time.time() < deadline and not all(done(t) for t in by_topic):
            for m in consumer.consume(num_messages=1000, timeout=min(0.5, max(0.05, deadline - time.time()))):
                err = m.error()
                topic = m.topic()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF and topic in by_topic:
                        eof.add(topic)
                    elif topic in by_topic:
                        errors[topic].append(str(err))
                    else:
                        general.append(str(err))
                    continue
                if topic not in by_topic:
                    general.append("message for unexpected topic %r" % topic)
                    continue
                eof.discard(topic)
                headers = m.headers() or []
                got[topic].append({"offset": m.offset(), "timestamp": m.timestamp()[1],
                                   "key": text(m.key()), "value": text(m.value()),
                                   "headers": [[k, text(v)] for k, v in headers]})
        timed_out = not all(done(t) for t in by_topic)
    except Exception as e:  # noqa: BLE001
        general.append("consumer failed: %r" % (e,))
        timed_out = False
    finally:
        if consumer is not None:
            try:
                consumer.close()
            except Exception:  # noqa: BLE001
                pass
        broker.stop()
    info.append("confluent-kafka used: %s" % versions_used(broker))
    for p in broker.problems:
        general.append("responder: %s" % p.strip().splitlines()[0])
    for topic, en in by_topic.items():
        problems = ["error: %s" % e for e in list(collections.OrderedDict.fromkeys(errors[topic]))[:2]]
        problems += compare(en.records, got[topic])
        if problems and timed_out and not done(topic):
            problems.insert(0, "timed out after %.0fs" % timeout)
        if problems and general:
            problems.append("client errors: %s" % "; ".join(general[:2]))
        logs = [line for line in collector.lines if topic in line]
        if problems and logs:
            problems.append("last log: %s" % logs[-1])
        out[en.index] = problems
    return out


# --------------------------------------------------------------------------------------------
# Check 3: kcat (its own librdkafka)
# --------------------------------------------------------------------------------------------

def kcat_records(stdout):
    recs, junk = [], []
    for line in stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            j = json.loads(line)
        except ValueError:
            junk.append(line)
            continue
        hs = j.get("headers") or []
        recs.append({"offset": j.get("offset"), "timestamp": j.get("ts"), "key": j.get("key"),
                     "value": j.get("payload"),
                     "headers": [[hs[i], hs[i + 1] if i + 1 < len(hs) else "<missing>"]
                                 for i in range(0, len(hs), 2)]})
    return recs, junk


def check_kcat(entries, timeout, info):
    live = [en for en in entries if not en.problem]
    out = {en.index: [en.problem] for en in entries if en.problem}
    kcat = shutil.which("kcat")
    if kcat is None:
        out.update({en.index: ["kcat not found on PATH"] for en in live})
        return out
    if not live:
        return out
    broker = start_responder(live, "kcat")
    procs = {}
    try:
        for en in live:
            cmd = [kcat, "-C", "-b", broker.bootstrap, "-t", en.topic, "-p", "0", "-o", str(en.base_offset),
                   "-e", "-J", "-X", "check.crcs=true", "-X", "client.id=strait-batch-interop-kcat"]
            # -e exits at the end of the partition; -c N+1 bounds the run yet still shows a record
            # too many.
            cmd[-4:-4] = ["-c", str(len(en.records) + 1)]
            procs[en.index] = (en, subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                    stderr=subprocess.PIPE, start_new_session=True))
        deadline = time.time() + timeout
        for idx, (en, p) in procs.items():
            problems = []
            try:
                so, se = p.communicate(timeout=max(0.1, deadline - time.time()))
                status = p.returncode
            except subprocess.TimeoutExpired:
                _kill(p)
                so, se = p.communicate()
                status = "timeout"
            so = so.decode("utf-8", "backslashreplace")
            se = se.decode("utf-8", "backslashreplace")
            recs, junk = kcat_records(so)
            if status == "timeout":
                problems.append("timed out after %.0fs" % timeout)
            elif status != 0:
                problems.append("exit status %d" % status)
            if junk:
                problems.append("unparseable output: %s" % short(junk[0], 100))
            problems += compare(en.records, recs)
            se = [line for line in se.splitlines() if "Reached end of topic" not in line]
            if problems and se:
                problems.append("stderr: %s" % short(se[-1], 200))
            out[idx] = problems
    finally:
        for _en, p in procs.values():
            if p.poll() is None:
                _kill(p)
                p.wait()
        broker.stop()
    info.append("kcat used: %s" % versions_used(broker))
    return out


def _kill(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------------------------

def run_check(path, timeout, verbose):
    t0 = time.time()
    try:
        with open(path) as fh:
            raw = json.load(fh)
        if not isinstance(raw, list):
            raise ValueError("IN.json must hold a JSON list")
    except (OSError, ValueError) as e:
        print("FAIL input -: cannot read %s: %s" % (path, e))
        print("0 passed, 0 failed", flush=True)
        return 1
    entries = [Entry(i, r if isinstance(r, dict) else {}) for i, r in enumerate(raw)]
    info = []
    results = {}
    timings = {}

    def timed(client, fn, *args):
        start = time.time()
        try:
            results[client] = fn(*args)
        except Exception as e:  # noqa: BLE001
            results[client] = {en.index: ["check crashed: %r" % (e,)] for en in entries}
        timings[client] = time.time() - start

    # Imports happen here, before any thread starts (concurrent first imports of kafka-python's
    # protocol modules deadlock); a failure surfaces in the checks that need the module.
    for module in ("record_vectors", "kafka.record", "confluent_kafka"):
        try:
            __import__(module)
        except Exception:  # noqa: BLE001
            pass

    # kcat runs in a background thread (it only waits on its subprocesses) while the
    # confluent-kafka consumer runs in this one; each against its own responder.
    kcat_thread = threading.Thread(target=timed, args=("kcat", check_kcat, entries, timeout, info), daemon=True)
    kcat_thread.start()
    timed("kafka-python", check_kafka_python, entries)
    timed("confluent-kafka", check_confluent, entries, timeout, info)
    kcat_thread.join(timeout + 10)
    if kcat_thread.is_alive():
        results["kcat"] = {en.index: ["kcat check did not finish"] for en in entries}

    passed = failed = 0
    for client in CLIENTS:
        res = results.get(client, {})
        for en in entries:
            problems = res.get(en.index, ["no result"])
            if problems:
                failed += 1
                print("FAIL %s %s: %s: %s" % (client, en.codec, en.label, summarize(problems)), flush=True)
            else:
                passed += 1
    if verbose:
        for line in info:
            print("  " + line, file=sys.stderr)
        print("  timings: %s; total %.2fs" % (", ".join("%s %.2fs" % (c, timings.get(c, 0)) for c in CLIENTS),
                                              time.time() - t0), file=sys.stderr, flush=True)
    sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 and passed > 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="check every batch of IN.json with the three clients")
    c.add_argument("input", metavar="IN.json")
    c.add_argument("--timeout", type=float, default=20.0, help="per-client bound, seconds (default 20)")
    c.add_argument("-v", "--verbose", action="store_true", help="timings and API versions used, on stderr")
    args = ap.parse_args()

    def on_term(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    return run_check(args.input, args.timeout, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
