#!/usr/bin/env python3
"""Strait's Swift client (`strait perf`) against kcat (C, librdkafka): produce and consume
throughput of the per-record APIs, one run, same broker, same settings.

One release `strait broker` runs on a free port with a temporary data directory (pinned to CPU 0
with taskset when there are 2+ CPUs; the clients then run on CPU 1). For each repeat and each
client, in alternating order:

* produce: --records records of --record-size bytes, no key, to a fresh topic of --partitions
  partitions, acks=all, linger.ms, batch.size, compression.type and idempotence as given, the
  same on both sides. kcat sends the lines of a prepared file (`kcat -P -l`: one rd_kafka_produce
  per record); `strait perf produce` calls `send` once per record with the same payload size.
* consume: both read the same topic (the one kcat produced) from the beginning until they have
  --records records: `kcat -C -o beginning -c N -e` (output to /dev/null) and
  `strait perf consume --records N` (records decoded one by one by `poll`).

Each figure is records / wall time of the whole client process (start-up, connection, metadata
and the final flush included, for both); the client's CPU time (user+sys) is reported beside it.
The table shows medians and the ratio Swift / kcat (higher is better for Swift).

    swift build -c release --product strait
    python3 Tests/Benchmarks/client_vs_kcat.py
    python3 Tests/Benchmarks/client_vs_kcat.py --records 5000000 --batch-size 16384 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench_host import free_port

REPO = Path(__file__).resolve().parents[2]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"broker did not listen on {port}")


def timed(cmd: list[str], stdout=subprocess.DEVNULL) -> tuple[float, float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])}... failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return wall, cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strait-bin", default=str(REPO / ".build" / "release" / "strait"))
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--record-size", type=int, default=100)
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--linger-ms", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1_000_000)
    parser.add_argument("--compression", default="none")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    strait = Path(args.strait_bin)
    if not strait.exists():
        raise SystemExit(f"{strait} not found: swift build -c release --product strait")
    kcat = shutil.which("kcat")
    if not kcat:
        raise SystemExit("kcat not found: apt-get install kcat")
    pin = not args.no_pin and shutil.which("taskset") and os.cpu_count() and os.cpu_count() >= 2
    broker_pin = ["taskset", "-c", "0"] if pin else []
    client_pin = ["taskset", "-c", "1"] if pin else []

    work = Path(tempfile.mkdtemp(prefix="strait-client-bench-"))
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    broker = subprocess.Popen([*broker_pin, str(strait), "broker", "--listen", bootstrap, "--data-dir", str(work / "data"),
                               "--set", "num.partitions=" + str(args.partitions)],
                              stdout=subprocess.DEVNULL, stderr=open(work / "broker.log", "w"))
    try:
        wait_port(port)
        lines = work / "records.txt"
        line = ("x" * args.record_size + "\n").encode()
        with open(lines, "wb") as f:
            chunk = line * 10000
            for _ in range(args.records // 10000):
                f.write(chunk)
            f.write(line * (args.records % 10000))

        producer_settings = {"acks": "all", "linger.ms": str(args.linger_ms), "batch.size": str(args.batch_size),
                             "compression.type": args.compression, "enable.idempotence": "true"}
        results: dict[str, list[dict]] = {"swift produce": [], "kcat produce": [], "swift consume": [], "kcat consume": []}
        for repeat in range(args.repeat):
            kcat_topic = f"bench-kcat-{uuid.uuid4().hex[:8]}"
            swift_topic = f"bench-swift-{uuid.uuid4().hex[:8]}"
            order = ["swift", "kcat"] if repeat % 2 == 0 else ["kcat", "swift"]
            for client in order:
                if client == "swift":
                    cmd = [*client_pin, str(strait), "perf", "produce", "--bootstrap", bootstrap, "--topic", swift_topic,
                           "--records", str(args.records), "--record-size", str(args.record_size), "--partitions", str(args.partitions),
                           "--json"] + [x for k, v in producer_settings.items() for x in ("--producer-property", f"{k}={v}")]
                    wall, cpu, done = timed(cmd, stdout=subprocess.PIPE)
                    report = json.loads(done.stdout)
                    assert report["records"] == args.records and report["failed"] == 0, report
                else:
                    cmd = [*client_pin, kcat, "-P", "-b", bootstrap, "-t", kcat_topic, "-l", str(lines)] + \
                          [x for k, v in producer_settings.items() for x in ("-X", f"{k}={v}")]
                    wall, cpu, _ = timed(cmd)
                results[f"{client} produce"].append({"seconds": wall, "cpu": cpu, "records_per_sec": args.records / wall})
            for client in order:
                if client == "swift":
                    cmd = [*client_pin, str(strait), "perf", "consume", "--bootstrap", bootstrap, "--topic", kcat_topic,
                           "--records", str(args.records), "--json"]
                    wall, cpu, done = timed(cmd, stdout=subprocess.PIPE)
                    assert json.loads(done.stdout)["records"] == args.records
                else:
                    cmd = [*client_pin, kcat, "-C", "-b", bootstrap, "-t", kcat_topic, "-o", "beginning", "-c", str(args.records), "-e", "-q"]
                    wall, cpu, _ = timed(cmd)
                results[f"{client} consume"].append({"seconds": wall, "cpu": cpu, "records_per_sec": args.records / wall})
            print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]['records_per_sec']:,.0f}/s" for k, v in results.items()), flush=True)
    finally:
        broker.terminate()
        broker.wait(30)
        shutil.rmtree(work, ignore_errors=True)

    kcat_version = subprocess.run([kcat, "-V"], capture_output=True, text=True).stdout.splitlines()
    print(f"\n{args.records:,} records of {args.record_size} B, {args.partitions} partition(s), acks=all, linger.ms={args.linger_ms}, "
          f"batch.size={args.batch_size}, compression={args.compression}, idempotence on; medians of {args.repeat}; "
          f"{kcat_version[0] if kcat_version else 'kcat'}; pinned={bool(pin)}")
    print(f"{'':16}{'records/s':>14}{'client CPU s':>14}{'ratio':>8}")
    summary = {}
    for phase in ("produce", "consume"):
        swift = statistics.median(r["records_per_sec"] for r in results[f"swift {phase}"])
        ours_cpu = statistics.median(r["cpu"] for r in results[f"swift {phase}"])
        theirs = statistics.median(r["records_per_sec"] for r in results[f"kcat {phase}"])
        their_cpu = statistics.median(r["cpu"] for r in results[f"kcat {phase}"])
        print(f"{'swift ' + phase:16}{swift:>14,.0f}{ours_cpu:>14.2f}{swift / theirs:>8.2f}")
        print(f"{'kcat ' + phase:16}{theirs:>14,.0f}{their_cpu:>14.2f}")
        summary[phase] = {"swift_records_per_sec": swift, "kcat_records_per_sec": theirs, "ratio": swift / theirs,
                          "swift_cpu_s": ours_cpu, "kcat_cpu_s": their_cpu}
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "runs": results, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
