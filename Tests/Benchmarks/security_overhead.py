#!/usr/bin/env python3
"""What TLS and SASL cost Strait: produce, consume and mirror throughput and the broker's CPU per
record over the SSL and SASL_SSL listeners, each against PLAINTEXT measured in the same run.

The bar (the issue's): TLS at least --bar (0.6) x plaintext throughput. Every ratio below is
secured / PLAINTEXT from medians of the same run; PASS/FAIL is printed against the bar for SSL and
SASL_SSL. The bar does not change the exit code (1 only when a run failed).

Brokers are `strait broker --config server.properties` processes set up by
Tests/Interop/security_setup.py (SecureBroker): a test CA, a server certificate for 127.0.0.1 and
a client certificate written with openssl, and four listeners on free ports of 127.0.0.1:
PLAINTEXT, SSL (client certificates required), SASL_SSL (SCRAM-SHA-512/256) and SASL_PLAINTEXT
(PLAIN, user carol). SCRAM users are added with `strait user add` before a broker starts. Every
broker also gets `group.initial.rebalance.delay.ms=0` (the mirror's work group would otherwise
wait out the 3 s first-join delay) and the --broker-set lines. When there are 2+ CPUs (and not
--no-pin) the brokers run on --broker-cpus (default: the last CPU) and this script, `strait perf`
and the mirror agent on the others (the CPU affinity is inherited at start; no taskset).

1. Produce and consume (--records, default 200,000, of --record-size, default 1024 B). One
   SecureBroker with SCRAM user alice. Per repeat (--repeats, default 3), for each listener of
   --listeners (default PLAINTEXT, SSL, SASL_SSL) in forward order on odd repeats and reverse
   order on even ones, on a fresh topic of that listener:

       strait perf produce --bootstrap LISTENER --topic T --records N --record-size 1024
                           --partitions 1 --acks all --json --command-config CLIENT.properties
       strait perf consume --bootstrap LISTENER --topic T --records N --json
                           --command-config CLIENT.properties

   CLIENT.properties holds security.protocol and, for TLS, ssl.truststore.type=PEM and
   ssl.truststore.location=<the CA>; SSL adds ssl.keystore.type=PEM and ssl.keystore.location=
   <client.key + client.crt in one PEM file, key first>; SASL_SSL adds sasl.mechanism=SCRAM-SHA-512
   and sasl.jaas.config=...ScramLoginModule required username="alice" password="...";
   (SASL_PLAINTEXT, when listed: PLAIN as carol). PLAINTEXT gets a file with
   security.protocol=PLAINTEXT alone, so that every run reads one.
   records/s and MB/s are `strait perf`'s own figures (produce: from the first send to the end of
   the final flush, after the connection and the topic creation; consume: from the first record
   to the last); the wall time of the whole process is recorded beside them (--json). The topic's
   high watermark is checked to be N after the produce.
   Broker CPU: utime+stime of the broker process (all threads) from /proc/PID/stat, in clock
   ticks (os.sysconf('SC_CLK_TCK'), usually 100/s: 10 ms resolution), read before and after each
   produce and each consume process; reported as CPU microseconds per record. This includes the
   connection's TLS handshake and SASL exchange, negligible at the default counts.
   Reported: medians per listener and phase, and the ratios to PLAINTEXT (throughput: higher is
   better; CPU: lower is better).

2. Mirror (--mirror-records, default 100,000, 1 KB; 0 skips it). Two SecureBrokers A and B, SCRAM
   users alice and "mirror" on both. Per repeat, for each mode (PLAINTEXT, SASL_SSL; alternating
   which goes first): a fresh source topic of --mirror-partitions (1) partitions on A filled
   through A's PLAINTEXT listener (`strait perf produce --acks 1 --linger-ms 50 --batch-size
   1000000`), then `strait run --mm2 mm2.properties --http 127.0.0.1:PORT` with

       clusters = A, B
       A.bootstrap.servers = <A's PLAINTEXT or SASL_SSL listener>
       B.bootstrap.servers = <B's PLAINTEXT or SASL_SSL listener>
       A->B.enabled = true
       A->B.topics = <topic>
     and for SASL_SSL, for A and for B (each broker has its own CA):
       X.security.protocol = SASL_SSL
       X.sasl.mechanism = SCRAM-SHA-512
       X.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required
                            username="mirror" password="...";
       X.ssl.truststore.type = PEM
       X.ssl.truststore.location = <X's ca.pem>
     plus the --mm2-set lines. The agent is timed from its start until the sum of the high
   watermarks of `A.<topic>` on B reaches the source's record count (polled every 100 ms with
   confluent-kafka Consumer.get_watermark_offsets over B's PLAINTEXT listener; the topic's
   existence is read from the full topic list, which cannot auto-create it). Then it gets SIGTERM
   (SIGKILL after 15 s). Reported: records/s over that whole time (start-up, TLS handshakes, SASL
   logins, topic creation and group join included), the time to the first copied record, the rate
   from then on (records copied after the first poll that saw any / the time since; None when all
   arrived between two polls), the agent's CPU and both brokers' CPU per record; medians, and
   SASL_SSL / PLAINTEXT.

Every wait is bounded (--run-timeout per `strait perf` process, --copy-timeout per mirror copy,
--ready-timeout for start-ups); every process started is stopped (SIGTERM, then SIGKILL, by pid)
and the temporary directory removed (unless --keep-dir) on the way out, also on SIGTERM/SIGHUP.
A failed run is reported and the run goes on; the summary uses what completed. The Markdown
summary at the end starts with the command line, the date, the binary and `nproc`.

Examples:

    swift build -c release --product strait
    python3 Tests/Benchmarks/security_overhead.py
    STRAIT_BIN=.build/debug/strait python3 Tests/Benchmarks/security_overhead.py \\
        --records 5000 --mirror-records 5000 --repeats 1
    python3 Tests/Benchmarks/security_overhead.py --records 1000000 --mirror-records 0 --json out.json
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from bench_cluster import Process, add_cluster_args, fill_plain, help_mentions, note_unclean_stop, stop_all
from bench_host import (CLK_TCK, BenchError, announce_run, doc_parser, exit_on_signals, finish, free_port, median,
                        parse_cpu_list, pin_apart, record_failure, remove_workdir, write_json)

HERE = Path(__file__).resolve()
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "Tests" / "Interop"))
from security_setup import (PLAIN_PASSWORD, PLAIN_USER, SCRAM_PASSWORD, SCRAM_USER,  # noqa: E402
                            SecureBroker)

MIRROR_USER = "mirror"
MIRROR_PASSWORD = "mirror-Secret-6c3d9"
SECURED = ("SSL", "SASL_SSL")  # judged against the bar
KNOWN_LISTENERS = ("PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT")
MIRROR_MODES = ("PLAINTEXT", "SASL_SSL")
POLL_S = 0.1


def default_binary() -> str:
    """$STRAIT_BIN, else the release build of this checkout when it exists, else the debug one."""
    if os.environ.get("STRAIT_BIN"):
        return os.environ["STRAIT_BIN"]
    release = REPO / ".build" / "release" / "strait"
    return str(release if release.exists() else REPO / ".build" / "debug" / "strait")


def broker_cpu_s(broker: SecureBroker) -> float:
    """utime+stime (all threads) of the broker process from /proc/PID/stat, in seconds."""
    if broker.proc is None or broker.proc.poll() is not None:
        raise BenchError(f"broker {broker.root.name} is not running (exit "
                         f"{broker.proc.returncode if broker.proc else None}); log tail:\n{log_tail(broker)}")
    cpu = process_cpu_s(broker.proc.pid)
    if cpu is None:
        raise BenchError(f"broker {broker.root.name}: cannot read /proc/{broker.proc.pid}/stat")
    return cpu


def process_cpu_s(pid: int) -> float | None:
    """utime+stime of a process (all threads), in seconds; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()  # from field 3 (state) on: utime is field 14, stime 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def log_tail(broker: SecureBroker, lines: int = 30) -> str:
    return "\n".join(broker.log().splitlines()[-lines:])


def log_problems(text: str) -> list[str]:
    """Lines of a log that look like trouble (error, warning, failure, panic)."""
    words = ("error", "warn", "fail", "fatal", "panic", "exception", "refused", "denied")
    return [line for line in text.splitlines() if any(w in line.lower() for w in words)]


# --------------------------------------------------------------------------------------------
# Brokers and client settings
# --------------------------------------------------------------------------------------------

def make_broker(args, root: Path, users: list[tuple[str, str]]) -> SecureBroker:
    extra = "\n".join(["group.initial.rebalance.delay.ms=0", *(kv.strip() for kv in args.broker_set)]) + "\n"
    try:
        broker = SecureBroker(Path(args.strait), root, extra=extra)  # openssl: CA and certificates
        for user, password in users:
            broker.add_user(user, password)
    except (AssertionError, subprocess.SubprocessError) as exc:
        raise BenchError(f"setting up the broker in {root}: {exc}") from exc
    return broker


def start_broker(args, broker: SecureBroker, started: list[SecureBroker]):
    """Starts it on --broker-cpus (this process's affinity, inherited by the child, switched for the
    moment of the fork); `started` is what the caller stops in its `finally`."""
    mine = os.sched_getaffinity(0)
    if args.broker_cpus:
        os.sched_setaffinity(0, args.broker_cpus_set)
    try:
        started.append(broker)
        broker.start()
    except AssertionError as exc:
        raise BenchError(f"broker in {broker.root}: {exc}") from exc
    finally:
        os.sched_setaffinity(0, mine)


def client_properties(broker: SecureBroker, listener: str, path: Path, user: str = SCRAM_USER,
                      password: str = SCRAM_PASSWORD, prefix: str = "") -> list[str]:
    """The Kafka client settings that reach `listener` of `broker`; written to `path` (a
    --command-config file) unless it is None; `prefix` (`A.`) for mm2.properties."""
    lines = [f"security.protocol={listener}"]
    if listener in ("SSL", "SASL_SSL"):
        lines += ["ssl.truststore.type=PEM", f"ssl.truststore.location={broker.certs['ca.pem']}"]
    if listener == "SSL":
        keystore = broker.root / "certs" / "client-keystore.pem"
        if not keystore.exists():
            keystore.write_text(broker.certs["client.key"].read_text() + broker.certs["client.crt"].read_text())
        lines += ["ssl.keystore.type=PEM", f"ssl.keystore.location={keystore}"]
    if listener == "SASL_SSL":
        lines += ["sasl.mechanism=SCRAM-SHA-512",
                  "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                  f'username="{user}" password="{password}";']
    if listener == "SASL_PLAINTEXT":
        lines += ["sasl.mechanism=PLAIN",
                  "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
                  f'username="{PLAIN_USER}" password="{PLAIN_PASSWORD}";']
    lines = [prefix + line for line in lines]
    if path is not None:
        path.write_text("\n".join(lines) + "\n")
    return lines


class Watermarks:
    """This script's confluent-kafka clients of a broker's PLAINTEXT listener: the topic list (all
    topics, so that no lookup auto-creates one) and high watermarks."""

    def __init__(self, broker: SecureBroker):
        bootstrap = broker.bootstrap("PLAINTEXT")
        self.admin = AdminClient({"bootstrap.servers": bootstrap, "log.connection.close": False})
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"watermarks-{uuid.uuid4().hex[:8]}",
                                  "enable.auto.commit": False, "log.connection.close": False})

    def partitions(self, topic: str) -> int:
        t = self.admin.list_topics(timeout=10).topics.get(topic)
        return len(t.partitions) if t is not None and t.error is None else 0

    def total(self, topic: str, partitions: int) -> int:
        total = 0
        for p in range(partitions):
            _, high = self.consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5, cached=False)
            total += max(0, high)
        return total

    def close(self):
        try:
            self.consumer.close()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
        self.admin = None


# --------------------------------------------------------------------------------------------
# 1. Produce and consume per listener
# --------------------------------------------------------------------------------------------

def run_perf(args, cmd: list[str], what: str) -> tuple[dict, float]:
    """Runs one `strait perf` process (bounded by --run-timeout); its JSON report and wall time."""
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.run_timeout)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{what}: did not finish within {args.run_timeout:.0f} s") from exc
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"{what}: exit {done.returncode}: {(done.stderr + done.stdout).strip()[-1500:]}")
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise BenchError(f"{what}: no JSON report in {done.stdout.strip()[-500:]!r}") from exc
    if done.stderr.strip():
        report["stderr"] = done.stderr.strip()[-1500:]
    return report, wall


def perf_case(args, broker: SecureBroker, marks: Watermarks, listener: str, rep: int, workdir: Path,
              notes: list[str]) -> dict:
    n = args.records
    topic = f"sec_{listener.lower()}_r{rep + 1}_{uuid.uuid4().hex[:6]}"
    config = workdir / f"client-{listener}.properties"
    if not config.exists():
        client_properties(broker, listener, config)
    bootstrap = broker.bootstrap(listener)
    result = {"listener": listener, "repeat": rep + 1, "topic": topic, "records": n}

    produce = [args.strait, "perf", "produce", "--bootstrap", bootstrap, "--topic", topic, "--records", str(n),
               "--record-size", str(args.record_size), "--partitions", "1", "--acks", "all", "--json",
               "--command-config", str(config)]
    before = broker_cpu_s(broker)
    report, wall = run_perf(args, produce, f"{listener} produce repeat {rep + 1}")
    cpu = broker_cpu_s(broker) - before
    if report.get("records") != n or report.get("failed"):
        raise BenchError(f"{listener} produce repeat {rep + 1}: sent {report.get('records')} of {n}, "
                         f"{report.get('failed')} failed: {report}")
    on_topic = marks.total(topic, 1)
    if on_topic != n:
        notes.append(f"{listener} produce repeat {rep + 1}: {topic} holds {on_topic:,} records, {n:,} were sent")
        print(f"note: {notes[-1]}", flush=True)
    result["produce"] = {"records_per_s": report["records_per_sec"], "mb_per_s": report["mb_per_sec"],
                         "seconds": report["seconds"], "wall_s": wall, "wall_records_per_s": n / wall,
                         "broker_cpu_s": cpu, "broker_cpu_us_per_record": cpu / n * 1e6,
                         "latency_ms": report.get("latency_ms")}

    consume = [args.strait, "perf", "consume", "--bootstrap", bootstrap, "--topic", topic, "--records", str(n),
               "--timeout-ms", str(int(args.run_timeout * 1000)), "--json", "--command-config", str(config)]
    before = broker_cpu_s(broker)
    report, wall = run_perf(args, consume, f"{listener} consume repeat {rep + 1}")
    cpu = broker_cpu_s(broker) - before
    if report.get("records") != n:
        raise BenchError(f"{listener} consume repeat {rep + 1}: consumed {report.get('records')} of {n}: {report}")
    result["consume"] = {"records_per_s": report["records_per_sec"], "mb_per_s": report["mb_per_sec"],
                         "seconds": report["seconds"], "wall_s": wall, "wall_records_per_s": n / wall,
                         "broker_cpu_s": cpu, "broker_cpu_us_per_record": cpu / n * 1e6}
    p, c = result["produce"], result["consume"]
    print(f"  {listener:<14} produce {p['records_per_s']:>10,.0f} rec/s {p['mb_per_s']:7.1f} MB/s "
          f"broker {p['broker_cpu_us_per_record']:6.1f} µs/rec | consume {c['records_per_s']:>10,.0f} rec/s "
          f"{c['mb_per_s']:7.1f} MB/s broker {c['broker_cpu_us_per_record']:6.1f} µs/rec", flush=True)
    return result


def perf_phase(args, workdir: Path, started: list[SecureBroker], failures: list[str], notes: list[str]) -> list[dict]:
    broker = make_broker(args, workdir / "broker", [(SCRAM_USER, SCRAM_PASSWORD)])
    start_broker(args, broker, started)
    print(f"broker: {', '.join(f'{k} {broker.bootstrap(k)}' for k in broker.ports)}", flush=True)
    marks = Watermarks(broker)
    runs: list[dict] = []
    try:
        for rep in range(args.repeats):
            order = list(args.listeners) if rep % 2 == 0 else list(reversed(args.listeners))
            print(f"produce/consume, repeat {rep + 1}/{args.repeats}: {' -> '.join(order)}", flush=True)
            for listener in order:
                try:
                    runs.append(perf_case(args, broker, marks, listener, rep, workdir, notes))
                except BenchError as exc:
                    record_failure(failures, str(exc))
                    if broker.proc.poll() is not None:
                        raise BenchError(f"the broker exited with {broker.proc.returncode}; log tail:\n"
                                         f"{log_tail(broker)}") from exc
    finally:
        marks.close()
        broker.stop()
        check_broker_log(broker, "produce/consume broker", notes)
    return runs


def check_broker_log(broker: SecureBroker, label: str, notes: list[str]):
    """Notes the lines of the broker's log that mention trouble, but for two that SecureBroker
    causes: the warning that `process.roles` is ignored, and one TLS handshake cut short (its
    start() probes the SSL port with a bare TCP connection)."""
    problems = [line for line in log_problems(broker.log()) if "process.roles" not in line]
    probe = next((line for line in problems if "EOF during handshake" in line), None)
    if probe is not None:
        problems.remove(probe)
    if problems:
        shown = problems[:10] + ([f"... {len(problems) - 10} more"] if len(problems) > 10 else [])
        notes.append(f"{label} log: {len(problems)} line(s) mention an error or warning:\n" + "\n".join(shown))
        print(f"note: {notes[-1]}", flush=True)
    if broker.proc is not None and broker.proc.returncode not in (0, None):
        notes.append(f"{label} exited with {broker.proc.returncode} when stopped")
        print(f"note: {notes[-1]}", flush=True)


# --------------------------------------------------------------------------------------------
# 2. Mirror over PLAINTEXT and over SASL_SSL
# --------------------------------------------------------------------------------------------

def mm2_properties(args, a: SecureBroker, b: SecureBroker, mode: str, topic: str) -> list[str]:
    lines = ["clusters = A, B",
             f"A.bootstrap.servers = {a.bootstrap(mode)}",
             f"B.bootstrap.servers = {b.bootstrap(mode)}",
             "A->B.enabled = true",
             f"A->B.topics = {topic}"]
    if mode != "PLAINTEXT":
        for alias, broker in (("A", a), ("B", b)):
            lines += [line.replace("=", " = ", 1) for line in
                      client_properties(broker, mode, None, MIRROR_USER, MIRROR_PASSWORD, prefix=f"{alias}.")]
    lines += [f"{k.strip()} = {v.strip()}" for k, v in (kv.split("=", 1) for kv in args.mm2_set)]
    return lines


def http_status(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as response:
            return response.read().decode(errors="replace")[:2000]
    except Exception as exc:  # noqa: BLE001 - only for a message
        return f"(GET /status failed: {exc})"


def mirror_case(args, a: SecureBroker, b: SecureBroker, marks_a: Watermarks, marks_b: Watermarks, mode: str,
                rep: int, workdir: Path, notes: list[str]) -> dict:
    topic = f"mm_{mode.lower()}_r{rep + 1}_{uuid.uuid4().hex[:6]}"
    target_topic = f"A.{topic}"
    rundir = workdir / f"mirror-{topic}"
    rundir.mkdir(parents=True)
    fill_s = fill_plain(args.strait, a.bootstrap("PLAINTEXT"), topic, args.mirror_records, args.record_size,
                        args.mirror_partitions, "strait", args.run_timeout, round_robin=False)
    goal = marks_a.total(topic, args.mirror_partitions)
    if goal != args.mirror_records:
        notes.append(f"mirror {mode} repeat {rep + 1}: {topic} holds {goal:,} records, {args.mirror_records:,} were sent")
        print(f"note: {notes[-1]}", flush=True)
    print(f"  filled {topic}: {goal:,} records in {fill_s:.1f} s", flush=True)

    props = rundir / "mm2.properties"
    props.write_text("\n".join(mm2_properties(args, a, b, mode, topic)) + "\n")
    http_port = free_port()
    brokers_before = broker_cpu_s(a) + broker_cpu_s(b)
    agent = Process(f"mirror agent ({mode})", [args.strait, "run", "--mm2", str(props), "--http", f"127.0.0.1:{http_port}"],
                    rundir / "agent.log", rundir)
    try:
        deadline = agent.started + args.copy_timeout
        partitions = 0
        reached = 0
        first = None
        first_reached = 0
        agent_cpu = 0.0
        while True:
            if partitions == 0:
                partitions = marks_b.partitions(target_topic)
            if partitions:
                try:
                    reached = marks_b.total(target_topic, partitions)
                except KafkaException:
                    reached = 0
            now = time.monotonic()
            agent_cpu = process_cpu_s(agent.pid) or agent_cpu
            if reached > 0 and first is None:
                first, first_reached = now - agent.started, reached
            if reached >= goal:
                seconds = now - agent.started
                break
            if not agent.alive():
                raise BenchError(f"mirror {mode} repeat {rep + 1}: the agent exited with {agent.proc.returncode} after "
                                 f"{now - agent.started:.1f} s with {reached:,} of {goal:,} records on {target_topic}; "
                                 f"log tail:\n{agent.log_tail()}")
            if now > deadline:
                raise BenchError(f"mirror {mode} repeat {rep + 1}: {reached:,} of {goal:,} records on {target_topic} "
                                 f"after {args.copy_timeout:.0f} s (topic {'exists' if partitions else 'not created'}); "
                                 f"status: {http_status(http_port)}\nagent log tail:\n{agent.log_tail()}")
            time.sleep(POLL_S)
        brokers_cpu = broker_cpu_s(a) + broker_cpu_s(b) - brokers_before
    finally:
        how = agent.stop()
        note_unclean_stop(how, f"mirror {mode} repeat {rep + 1}: agent", agent, notes)
    problems = log_problems(agent.log_path.read_text(errors="replace") if agent.log_path.exists() else "")
    if problems:
        notes.append(f"mirror {mode} repeat {rep + 1}: agent log has {len(problems)} error/warning line(s):\n" +
                     "\n".join(problems[:8]))
        print(f"note: {notes[-1]}", flush=True)
    steady = (goal - first_reached) / (seconds - first) if first is not None and seconds > first and goal > first_reached \
        else None
    r = {"mode": mode, "repeat": rep + 1, "topic": topic, "records": goal, "partitions": partitions,
         "fill_s": fill_s, "seconds": seconds, "records_per_s": goal / seconds, "first_record_s": first,
         "steady_records_per_s": steady, "records_on_target": reached, "agent_cpu_s": agent_cpu,
         "agent_cpu_us_per_record": agent_cpu / goal * 1e6, "brokers_cpu_s": brokers_cpu,
         "brokers_cpu_us_per_record": brokers_cpu / goal * 1e6}
    print(f"  mirror {mode:<10} {r['records_per_s']:>10,.0f} rec/s  {seconds:6.2f} s (first record "
          f"{first or 0:.2f} s, then {'all in one poll' if steady is None else f'{steady:,.0f}/s'})  agent CPU {agent_cpu:.2f} s  brokers CPU "
          f"{brokers_cpu:.2f} s", flush=True)
    return r


def mirror_phase(args, workdir: Path, started: list[SecureBroker], failures: list[str], notes: list[str]) -> list[dict]:
    users = [(SCRAM_USER, SCRAM_PASSWORD), (MIRROR_USER, MIRROR_PASSWORD)]
    a = make_broker(args, workdir / "A", users)
    b = make_broker(args, workdir / "B", users)
    runs: list[dict] = []
    marks: list[Watermarks] = []
    try:
        start_broker(args, a, started)
        start_broker(args, b, started)
        print(f"broker A: PLAINTEXT {a.bootstrap('PLAINTEXT')}, SASL_SSL {a.bootstrap('SASL_SSL')}; "
              f"broker B: PLAINTEXT {b.bootstrap('PLAINTEXT')}, SASL_SSL {b.bootstrap('SASL_SSL')}", flush=True)
        marks = [Watermarks(a), Watermarks(b)]
        for rep in range(args.repeats):
            order = list(MIRROR_MODES) if rep % 2 == 0 else list(reversed(MIRROR_MODES))
            print(f"mirror A->B, repeat {rep + 1}/{args.repeats}: {' -> '.join(order)}", flush=True)
            for mode in order:
                try:
                    runs.append(mirror_case(args, a, b, marks[0], marks[1], mode, rep, workdir, notes))
                except BenchError as exc:
                    record_failure(failures, str(exc))
                    for label, broker in (("A", a), ("B", b)):
                        if broker.proc.poll() is not None:
                            raise BenchError(f"broker {label} exited with {broker.proc.returncode}; log tail:\n"
                                             f"{log_tail(broker)}") from exc
    finally:
        for m in marks:
            m.close()
        for label, broker in (("B", b), ("A", a)):
            broker.stop()
            if broker.proc is not None:
                check_broker_log(broker, f"mirror broker {label}", notes)
    return runs


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------

def ratio(value, base):
    return value / base if value is not None and base else None


def verdict(r, bar: float) -> str:
    if r is None:
        return "n/a"
    return "PASS" if r >= bar else "FAIL"


def summarize(args, perf_runs: list[dict], mirror_runs: list[dict]) -> dict:
    summary: dict = {"perf": {}, "mirror": {}}
    for phase in ("produce", "consume"):
        per = {}
        for listener in args.listeners:
            runs = [r[phase] for r in perf_runs if r["listener"] == listener]
            if runs:
                per[listener] = {k: median([r[k] for r in runs]) for k in
                                 ("records_per_s", "mb_per_s", "wall_records_per_s", "broker_cpu_us_per_record")}
                per[listener]["runs"] = len(runs)
        base = per.get("PLAINTEXT")
        for listener, v in per.items():
            v["ratio"] = ratio(v["records_per_s"], base and base["records_per_s"])
            v["cpu_ratio"] = ratio(v["broker_cpu_us_per_record"], base and base["broker_cpu_us_per_record"])
            if listener in SECURED:
                v["verdict"] = verdict(v["ratio"], args.bar)
        summary["perf"][phase] = per
    for mode in MIRROR_MODES:
        runs = [r for r in mirror_runs if r["mode"] == mode]
        if runs:
            summary["mirror"][mode] = {k: median([r[k] for r in runs]) for k in
                                       ("records_per_s", "seconds", "first_record_s", "steady_records_per_s",
                                        "agent_cpu_us_per_record", "brokers_cpu_us_per_record")}
            summary["mirror"][mode]["runs"] = len(runs)
    base = summary["mirror"].get("PLAINTEXT")
    secured = summary["mirror"].get("SASL_SSL")
    if base:
        base["ratio"] = 1.0
        base["steady_ratio"] = 1.0 if base["steady_records_per_s"] else None
    if base and secured:
        secured["ratio"] = ratio(secured["records_per_s"], base["records_per_s"])
        secured["steady_ratio"] = ratio(secured["steady_records_per_s"], base["steady_records_per_s"])
        secured["verdict"] = verdict(secured["ratio"], args.bar)
        secured["steady_verdict"] = verdict(secured["steady_ratio"], args.bar)
    return summary


def num(value, fmt: str = ",.0f") -> str:
    return "n/a" if value is None else format(value, fmt)


def markdown(args, summary: dict, header: list[str]) -> str:
    out = ["## Strait: TLS and SASL overhead", ""]
    out += [f"- {line}" for line in header]
    out.append("")
    for phase in ("produce", "consume"):
        per = summary["perf"].get(phase) or {}
        if not per:
            continue
        how = ("acks=all, 1 partition, `strait perf produce`" if phase == "produce"
               else "from the beginning, `strait perf consume`")
        out.append(f"| {phase.capitalize()} {args.records:,} × {args.record_size} B ({how}) | records/s | MB/s | "
                   f"× PLAINTEXT | ≥ {args.bar:g}? | broker CPU µs/record | × PLAINTEXT (lower better) |")
        out.append("|---|---:|---:|---:|:---:|---:|---:|")
        for listener in args.listeners:
            v = per.get(listener)
            if v is None:
                out.append(f"| {listener} | failed | | | | | |")
                continue
            out.append(f"| {listener} | {num(v['records_per_s'])} | {num(v['mb_per_s'], ',.1f')} | "
                       f"{num(v['ratio'], '.2f')} | {v.get('verdict', '')} | "
                       f"{num(v['broker_cpu_us_per_record'], ',.1f')} | {num(v['cpu_ratio'], '.2f')} |")
        out.append("")
    m = summary["mirror"]
    if m:
        out.append(f"| Mirror A→B, {args.mirror_records:,} × {args.record_size} B, {args.mirror_partitions} "
                   f"partition(s) | records/s (from agent start) | MB/s | × PLAINTEXT | ≥ {args.bar:g}? | "
                   f"first record after, s | records/s after the first record | × PLAINTEXT | ≥ {args.bar:g}? | "
                   f"agent CPU µs/record | brokers CPU µs/record |")
        out.append("|---|---:|---:|---:|:---:|---:|---:|---:|:---:|---:|---:|")
        for mode in MIRROR_MODES:
            v = m.get(mode)
            if v is None:
                out.append(f"| {mode} | failed | | | | | | | | | |")
                continue
            out.append(f"| {mode} | {num(v['records_per_s'])} | {num(v['records_per_s'] * args.record_size / 1e6, ',.1f')} | "
                       f"{num(v.get('ratio'), '.2f')} | {v.get('verdict', '')} | {num(v['first_record_s'], '.2f')} | "
                       f"{num(v['steady_records_per_s'])} | {num(v.get('steady_ratio'), '.2f')} | "
                       f"{v.get('steady_verdict', '')} | {num(v['agent_cpu_us_per_record'], ',.1f')} | "
                       f"{num(v['brokers_cpu_us_per_record'], ',.1f')} |")
        out.append("")
    out.append(f"Medians of {args.repeats} repeat(s), listener order alternated per repeat; ratios are "
               f"secured / PLAINTEXT of those medians. Broker CPU: utime+stime from /proc/PID/stat "
               f"({CLK_TCK} ticks/s) around each client process.")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = doc_parser(__doc__)
    p.add_argument("--strait", default=default_binary(),
                   help="the strait binary (default: $STRAIT_BIN, else .build/release/strait if it exists, "
                        "else .build/debug/strait)")
    p.add_argument("--records", type=int, default=200_000, help="records per produce/consume run (0 skips part 1)")
    p.add_argument("--mirror-records", type=int, default=100_000, help="records per mirror run (0 skips part 2)")
    p.add_argument("--record-size", type=int, default=1024, help="value bytes (default 1024)")
    p.add_argument("--repeats", type=int, default=3, help="runs per listener and mirror mode; medians shown")
    p.add_argument("--listeners", default="PLAINTEXT,SSL,SASL_SSL",
                   help="listeners of part 1, comma-separated, PLAINTEXT first for the ratios "
                        "(SASL_PLAINTEXT also possible)")
    p.add_argument("--mirror-partitions", type=int, default=1, help="partitions of the mirror's source topic")
    p.add_argument("--bar", type=float, default=0.6, help="PASS when secured / PLAINTEXT ≥ this (default 0.6)")
    add_cluster_args(p)
    p.add_argument("--run-timeout", type=float, default=900, help="bound on one `strait perf` process, s")
    p.add_argument("--copy-timeout", type=float, default=900, help="bound on one mirror copy, s")
    p.add_argument("--keep-dir", action="store_true", help="keep the temporary directory (logs, data)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print one JSON line with every figure (or write it to FILE)")
    args = p.parse_args(argv)
    args.strait = str(Path(args.strait).resolve())
    args.listeners = [x.strip().upper() for x in args.listeners.split(",") if x.strip()]
    unknown = [x for x in args.listeners if x not in KNOWN_LISTENERS]
    if unknown:
        p.error(f"unknown listener(s) {unknown}; known: {', '.join(KNOWN_LISTENERS)}")
    if "PLAINTEXT" not in args.listeners:
        args.listeners.insert(0, "PLAINTEXT")
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


def nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return str(os.cpu_count())


def main(argv=None) -> int:
    args = parse_args(argv)
    exit_on_signals()
    if not Path(args.strait).exists():
        print(f"error: no Strait binary at {args.strait} (swift build -c release --product strait)", file=sys.stderr)
        return 2
    for command, options in ((["perf", "produce"], ("--command-config", "--record-size", "--acks")),
                             (["perf", "consume"], ("--command-config",)), (["run"], ("--mm2", "--http"))):
        if not help_mentions(args.strait, command, options):
            print(f"error: `{args.strait} {' '.join(command)} --help` failed or does not mention {', '.join(options)} "
                  f"(built before them, or being relinked right now?)", file=sys.stderr)
            return 2
    if not shutil.which("openssl"):
        print("error: openssl not found (security_setup.py writes the certificates with it)", file=sys.stderr)
        return 2
    cpus = nproc()  # before this process is pinned: nproc counts the CPUs it may use
    command = announce_run()
    refused, mine = pin_apart(args)
    if refused:
        pinning = refused
    else:
        args.broker_cpus_set = parse_cpu_list(args.broker_cpus)
        pinning = (f"brokers on CPU {args.broker_cpus}; this script, `strait perf` and the mirror agent on CPU "
                   f"{','.join(map(str, sorted(mine)))}")
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    header = [f"command: `{command}`", f"date: {date}", f"binary: {args.strait}", f"nproc: {cpus}",
              f"pinning: {pinning}"]
    print(f"binary: {args.strait}\npinning: {pinning}", flush=True)
    if "/debug/" in args.strait:
        print("warning: a debug build: its figures say nothing about release performance", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="strait-security-bench-"))
    failures: list[str] = []
    notes: list[str] = []
    perf_runs: list[dict] = []
    mirror_runs: list[dict] = []
    started_brokers: list[SecureBroker] = []
    started = time.monotonic()
    try:
        if args.records > 0:
            try:
                perf_runs = perf_phase(args, workdir, started_brokers, failures, notes)
            except BenchError as exc:
                record_failure(failures, f"produce/consume: {exc}")
        if args.mirror_records > 0:
            try:
                mirror_runs = mirror_phase(args, workdir, started_brokers, failures, notes)
            except BenchError as exc:
                record_failure(failures, f"mirror: {exc}")
    finally:
        stop_all()
        for broker in started_brokers:
            try:
                broker.stop()
            except Exception as exc:  # noqa: BLE001 - best effort on the way out
                print(f"note: stopping the broker in {broker.root}: {exc}", flush=True)
        remove_workdir(workdir, args.keep_dir)

    summary = summarize(args, perf_runs, mirror_runs)
    print()
    print(markdown(args, summary, header))
    if notes:
        print(f"\n{len(notes)} note(s) above (log lines mentioning errors, unclean stops); see the output.")
    if args.json:
        write_json(args.json, {"command": command, "date": date, "binary": args.strait, "nproc": cpus,
                               "pinning": pinning, "args": vars(args), "summary": summary, "perf_runs": perf_runs,
                               "mirror_runs": mirror_runs, "failures": failures, "notes": notes,
                               "elapsed_s": time.monotonic() - started})
    return finish(started, failures)


if __name__ == "__main__":
    sys.exit(main())
