"""What the mirror benchmarks (mirror_vs_bridge.py, checkpoint_latency.py) share about the
cluster they build: child processes with their logs, `strait broker` processes with this script's
clients of them, a `strait run --mm2` agent for one flow, filling a source topic, and the options
and CPU pinning of such a run.

Every child is started in its own session and registered here; stop_all() stops what is still
running (only those, by pid), from a script's `finally` (bench_host.exit_on_signals leads SIGTERM
and SIGHUP there too)."""

from __future__ import annotations

import gc
import shlex
import subprocess
import time
import uuid
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from bench_host import (BenchError, free_port, log_tail, pin_apart, proc_cpu_seconds, terminate,
                        wait_listening, wait_topic_ready)

STOP_WAIT_S = 15.0


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------

class Process:
    """A child process with its output in a log file, in its own session; stopped with SIGTERM,
    then SIGKILL (only this process, by its pid). With `stdout_pipe` its stdout is kept apart
    (a worker's JSON report, in `stdout` once stopped) and only stderr goes to the log."""

    def __init__(self, name: str, cmd: list[str], log_path: Path, cwd: Path, stdout_pipe: bool = False):
        self.name = name
        self.cmd = cmd
        self.log_path = log_path
        with open(log_path, "ab") as log:
            log.write(f"===== {' '.join(shlex.quote(c) for c in cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE if stdout_pipe else log,
                                         stderr=log if stdout_pipe else subprocess.STDOUT,
                                         start_new_session=True, cwd=cwd)
        self.started = time.monotonic()
        self.stdout = ""
        _LIVE.append(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check_alive(self, during: str):
        if not self.alive():
            raise BenchError(f"{self.name} exited with {self.proc.returncode} during {during}; "
                             f"log tail:\n{self.log_tail()}")

    def cpu(self) -> float:
        return proc_cpu_seconds(self.pid) or 0.0

    def stop(self, timeout: float = STOP_WAIT_S) -> str:
        """Stops it (if it still runs) and says how it ended; a piped stdout is read on the way."""
        if self.proc.poll() is not None:
            outcome = f"already exited (exit {self.proc.returncode})"
            if self.proc.stdout is not None and not self.proc.stdout.closed:
                self.stdout = self.proc.stdout.read().decode(errors="replace")
        elif terminate(self.proc, timeout, self._communicate if self.proc.stdout is not None else None):
            outcome = f"stopped by SIGTERM (exit {self.proc.returncode})"
        else:
            outcome = f"did not exit within {timeout:.0f} s of SIGTERM; killed"
        if self in _LIVE:
            _LIVE.remove(self)
        return outcome

    def _communicate(self, timeout: float):
        out, _ = self.proc.communicate(timeout=timeout)
        self.stdout = out.decode(errors="replace") if out else ""

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    def log_count(self, needle: str) -> int:
        try:
            return self.log_path.read_text(errors="replace").count(needle)
        except OSError:
            return 0


_LIVE: list[Process] = []


def stop_all():
    for p in reversed(list(_LIVE)):
        try:
            p.stop()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass


def note_unclean_stop(how: str, what: str, proc: Process, notes: list[str]):
    """A stop that did not end in exit 0 goes to `notes` and is printed: `WHAT HOW; log tail...`."""
    if "exit 0" not in how:
        notes.append(f"{what} {how}; log tail:\n{proc.log_tail()}")
        print(f"note: {notes[-1]}", flush=True)


# --------------------------------------------------------------------------------------------
# Brokers
# --------------------------------------------------------------------------------------------

class Broker:
    """A `strait broker` on 127.0.0.1:<free port> with its data in `workdir/name` (no topic is
    created by accident, no group waits out the first-join delay), pinned with taskset to
    --broker-cpus when set; with an AdminClient and a watermark consumer of this script.
    `label` is what messages call it ("broker A", "source broker")."""

    def __init__(self, name: str, label: str, binary: str, args, workdir: Path):
        self.name = name
        self.label = label
        self.port = free_port()
        self.dir = workdir / name
        self.dir.mkdir(parents=True)
        cmd = [binary, "broker", "--listen", self.bootstrap, "--data-dir", str(self.dir / "data")]
        for kv in ["auto.create.topics.enable=false", "group.initial.rebalance.delay.ms=0", *args.broker_set]:
            cmd += ["--set", kv]
        if args.broker_cpus:
            cmd = ["taskset", "-c", args.broker_cpus] + cmd
        self.process = Process(label, cmd, self.dir / "broker.log", self.dir)
        if not wait_listening(self.port, args.ready_timeout, lambda: self.process.check_alive("start-up")):
            raise BenchError(f"{label} did not listen on {self.bootstrap} within "
                             f"{args.ready_timeout:.0f} s; log tail:\n{self.process.log_tail()}")
        self.admin = AdminClient({"bootstrap.servers": self.bootstrap, "log.connection.close": False})
        self.offsets = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"watermarks-{uuid.uuid4().hex[:8]}",
                                 "log.connection.close": False, "enable.auto.commit": False})

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cpu(self) -> float:
        self.process.check_alive("a CPU reading")
        return proc_cpu_seconds(self.process.pid) or 0.0

    def topic_partitions(self, topic: str) -> int:
        """Partitions of an existing topic, 0 when it does not exist (all topics listed: a named
        lookup could create it)."""
        t = self.admin.list_topics(timeout=10).topics.get(topic)
        return len(t.partitions) if t is not None and t.error is None else 0

    def create_topic(self, topic: str, partitions: int, timeout: float):
        futures = self.admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=timeout,
                                           request_timeout=timeout)
        try:
            futures[topic].result(timeout)
        except KafkaException as exc:
            raise BenchError(f"{self.label}: CreateTopics({topic}, {partitions}) failed: {exc}") from exc
        ready, t = wait_topic_ready(lambda: self.admin.list_topics(timeout=timeout).topics.get(topic), partitions,
                                    timeout)
        if not ready:
            raise BenchError(f"{self.label}: topic {topic} not ready with {partitions} partitions "
                             f"after {timeout:.0f} s (metadata: {t!r})")

    def delete_topics(self, topics: list[str]):
        """Best effort (keeps the disk bounded across runs); never raises."""
        try:
            if not self.process.alive():
                return
            present = [t for t in topics if t in self.admin.list_topics(timeout=10).topics]
            if not present:
                return
            for topic, future in self.admin.delete_topics(present, operation_timeout=30).items():
                try:
                    future.result(30)
                except Exception as exc:  # noqa: BLE001
                    print(f"note: deleting {topic} on {self.name}: {exc}", flush=True)
        except Exception as exc:  # noqa: BLE001
            print(f"note: deleting {topics} on {self.name}: {exc}", flush=True)

    def end_offsets(self, topic: str, partitions: int) -> list[int]:
        ends = []
        for p in range(partitions):
            _, high = self.offsets.get_watermark_offsets(TopicPartition(topic, p), timeout=5, cached=False)
            ends.append(max(0, high))
        return ends

    def read_all(self, topic: str, timeout: float) -> list[tuple[int, int, bytes | None, bytes | None]]:
        """Every record of every partition up to the current end: (partition, offset, key, value).
        A topic that does not exist reads as empty."""
        partitions = self.topic_partitions(topic)
        if partitions == 0:
            return []
        ends = self.end_offsets(topic, partitions)
        wanted = {p: end for p, end in enumerate(ends) if end > 0}
        if not wanted:
            return []
        reader = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"reader-{uuid.uuid4().hex[:8]}",
                           "enable.auto.commit": False, "enable.partition.eof": False,
                           "log.connection.close": False, "fetch.wait.max.ms": 50})
        records = []
        try:
            reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in wanted])
            last = {p: -1 for p in wanted}
            deadline = time.monotonic() + timeout
            while any(last[p] + 1 < end for p, end in wanted.items()):
                if time.monotonic() > deadline:
                    reached = {p: last[p] + 1 for p in wanted}
                    raise BenchError(f"reading {topic} on {self.label}: reached {reached} of ends {wanted} "
                                     f"after {timeout:.0f} s")
                for m in reader.consume(10000, 0.2):
                    if m.error():
                        raise BenchError(f"reading {topic} on {self.label}: {m.error()}")
                    if m.offset() < wanted[m.partition()]:
                        records.append((m.partition(), m.offset(), m.key(), m.value()))
                    last[m.partition()] = max(last[m.partition()], m.offset())
                # Compaction or transaction markers can leave the last offsets without a record.
                for p in wanted:
                    position = reader.position([TopicPartition(topic, p)])[0].offset
                    if position >= wanted[p]:
                        last[p] = max(last[p], wanted[p] - 1)
        finally:
            reader.close()
        return records

    def close_clients(self):
        """Drops this script's clients of the broker (else they log reconnect failures once it
        stops)."""
        if self.admin is None:
            return
        try:
            self.offsets.close()
        except Exception:  # noqa: BLE001
            pass
        self.admin = None
        gc.collect()

    def close(self) -> str:
        self.close_clients()
        return self.process.stop(30)


# --------------------------------------------------------------------------------------------
# The agent and the source topics
# --------------------------------------------------------------------------------------------

def start_mm2_agent(name: str, binary: str, aliases: tuple[str, str], source: Broker, target: Broker, topic: str,
                    settings: list[str], rundir: Path) -> Process:
    """`strait run --mm2` in `rundir` on an mm2.properties of one flow, aliases[0] (`source`) ->
    aliases[1] (`target`), of `topic`, followed by `settings` (KEY=VALUE, as --mm2-set takes them)."""
    src, dst = aliases
    rundir.mkdir(parents=True, exist_ok=True)
    props = rundir / "mm2.properties"
    lines = [f"clusters = {src}, {dst}",
             f"{src}.bootstrap.servers = {source.bootstrap}",
             f"{dst}.bootstrap.servers = {target.bootstrap}",
             f"{src}->{dst}.enabled = true",
             f"{src}->{dst}.topics = {topic}"]
    lines += [f"{k.strip()} = {v.strip()}" for k, v in (kv.split("=", 1) for kv in settings)]
    props.write_text("\n".join(lines) + "\n")
    return Process(name, [binary, "run", "--mm2", str(props)], rundir / "agent.log", rundir)


def fill_plain(binary: str, bootstrap: str, topic: str, records: int, size: int, partitions: int,
               fill_with: str, timeout: float, round_robin: bool) -> float:
    """Fills `topic` with `records` keyless values of `size` B in plain batches (acks=1,
    linger.ms=50, batch.size 1000000, no compression): `strait perf produce`, which spreads
    batches over partitions as it likes, or confluent-kafka, record i to partition
    i % partitions with `round_robin`, else where librdkafka's partitioner puts it. Returns the
    seconds it took."""
    start = time.monotonic()
    if fill_with == "strait":
        cmd = [binary, "perf", "produce", "--bootstrap", bootstrap, "--topic", topic,
               "--records", str(records), "--record-size", str(size), "--partitions", str(partitions),
               "--acks", "1", "--compression", "none", "--linger-ms", "50", "--batch-size", "1000000", "--json"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"filling {topic}: `strait perf produce` did not finish within "
                             f"{timeout:.0f} s") from exc
        if done.returncode != 0:
            raise BenchError(f"filling {topic}: strait perf produce exited with {done.returncode}: "
                             f"{(done.stderr or done.stdout).strip()[-800:]}")
    else:
        failures = 0

        def on_delivery(err, _msg):
            nonlocal failures
            if err is not None:
                failures += 1

        producer = Producer({"bootstrap.servers": bootstrap, "acks": "1", "linger.ms": 50,
                             "batch.size": 1_000_000, "compression.type": "none", "enable.idempotence": False,
                             "queue.buffering.max.messages": 1_000_000, "queue.buffering.max.kbytes": 1_048_576,
                             "delivery.report.only.error": True, "on_delivery": on_delivery})
        value = b"x" * size
        deadline = start + timeout
        for i in range(records):
            while True:
                try:
                    if round_robin:
                        producer.produce(topic, value, partition=i % partitions)
                    else:
                        producer.produce(topic, value)
                    break
                except BufferError:
                    producer.poll(0.01)
                    if time.monotonic() > deadline:
                        raise BenchError(f"filling {topic}: {i:,} of {records:,} queued after {timeout:.0f} s")
            if i % 10000 == 0:
                producer.poll(0)
        left = producer.flush(max(1.0, deadline - time.monotonic()))
        if left or failures:
            raise BenchError(f"filling {topic}: {left} records undelivered, {failures} failed")
    return time.monotonic() - start


def help_mentions(binary: str, command: list[str], options: tuple[str, ...]) -> bool:
    """Whether `binary COMMAND --help` succeeds and names every one of `options` (a binary built
    before them lacks them)."""
    try:
        out = subprocess.run([binary, *command, "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    text = out.stdout + out.stderr
    return out.returncode == 0 and all(o in text for o in options)


def perf_produce_available(binary: str) -> bool:
    return help_mentions(binary, ["perf", "produce"],
                         ("--record-size", "--acks", "--partitions", "--linger-ms", "--batch-size"))


# --------------------------------------------------------------------------------------------
# Options and pinning
# --------------------------------------------------------------------------------------------

def add_cluster_args(p):
    """The options every mirror benchmark takes for its agent and brokers."""
    p.add_argument("--mm2-set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra mm2.properties line (repeatable)")
    p.add_argument("--broker-set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra --set for both brokers (repeatable)")
    p.add_argument("--no-pin", action="store_true")
    p.add_argument("--broker-cpus", default=None, help="taskset CPU list of the brokers (default: the last CPU)")


def setup_pinning(args, others: str) -> str:
    """Both brokers on --broker-cpus, this process and `others` (what it starts: "the agent") on
    the other CPUs (pin_apart); says which, or why not."""
    refused, mine = pin_apart(args)
    if refused:
        return refused
    return (f"yes: both brokers on CPU {args.broker_cpus} (taskset -c); this process, {others} and the "
            f"producers on CPU {','.join(map(str, sorted(mine)))}")
