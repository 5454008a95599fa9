"""Several flows at once: active/active under the default and identity policies, fan-in, the
template policy, and what a broken configuration gets."""

from __future__ import annotations

import subprocess
import time

import pytest

from confluent_kafka.admin import AdminClient, NewTopic

from mirror_env import free_port, mm2, produce, read_all, strait_binary, unique, wait_until

FAST = {"refresh.topics.interval.seconds": 1}


def values(records):
    return sorted(r[3] for r in records)


def test_active_active_default_policy_has_no_loops(brokers, agents):
    a, b = brokers("a"), brokers("b")
    topic = unique("events")
    a.create_topic(topic, 2)
    b.create_topic(topic, 2)
    produce(a.bootstrap, topic, [{"value": f"a{i}".encode()} for i in range(200)])
    produce(b.bootstrap, topic, [{"value": f"b{i}".encode()} for i in range(300)])
    agent = agents(mm2({"A": a, "B": b}, ["A->B", "B->A"], **FAST))

    assert values(read_all(b.bootstrap, f"A.{topic}", 200, settle=1)) == sorted(f"a{i}".encode() for i in range(200))
    assert values(read_all(a.bootstrap, f"B.{topic}", 300, settle=1)) == sorted(f"b{i}".encode() for i in range(300))
    time.sleep(4)  # several topic refreshes
    for cluster, other in ((a, "B"), (b, "A")):
        remote = {t for t in cluster.topics() if not t.startswith("mm2-") and not t.startswith("__")}
        # Besides the topics: this side's heartbeats, the other side's copied once, and the
        # checkpoints and offset map of the flow into this side; nothing copied back.
        internal = {"heartbeats", f"{other}.heartbeats", f"{other}.checkpoints.internal", f"strait-offset-map.{other}.internal"}
        assert remote == {topic, f"{other}.{topic}"} | internal, f"no A.B.* or B.A.* topics: {remote}\n{agent.log()[-2000:]}"


def test_active_active_identity_policy_stops_loops_per_record(brokers, agents):
    a, b = brokers("a"), brokers("b")
    topic = unique("shared")
    a.create_topic(topic, 1)
    b.create_topic(topic, 1)
    produce(a.bootstrap, topic, [{"value": f"a{i}".encode(), "headers": [("h", b"1")]} for i in range(100)])
    produce(b.bootstrap, topic, [{"value": f"b{i}".encode()} for i in range(100)])
    agent = agents(mm2({"A": a, "B": b}, ["A->B", "B->A"], topics=topic,
                       **{"replication.policy.class": "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"}, **FAST))

    on_a = read_all(a.bootstrap, topic, 200, timeout=60, settle=4)
    on_b = read_all(b.bootstrap, topic, 200, timeout=60, settle=4)
    expected = sorted([f"a{i}".encode() for i in range(100)] + [f"b{i}".encode() for i in range(100)])
    assert values(on_a) == expected, agent.log()[-2000:]
    assert values(on_b) == expected, "each record once on each side: nothing came back"
    origins = {r[3][:1]: dict(r[4]).get("strait.origin") for r in on_b}
    assert origins == {b"a": b"A", b"b": None}, "copies carry where they came from"
    assert all(dict(r[4]).get("h") == b"1" for r in on_b if r[3].startswith(b"a")), "headers kept"


def test_fan_in_of_two_sources(brokers, agents):
    east, west, central = brokers("east"), brokers("west"), brokers("central")
    topic = unique("clicks")
    for site in (east, west):
        site.create_topic(topic, 3)
    produce(east.bootstrap, topic, [{"value": f"e{i}".encode()} for i in range(300)])
    produce(west.bootstrap, topic, [{"value": f"w{i}".encode()} for i in range(400)])
    agents(mm2({"east": east, "west": west, "central": central}, ["east->central", "west->central"], topics=topic, **FAST))

    assert values(read_all(central.bootstrap, f"east.{topic}", 300, settle=1)) == sorted(f"e{i}".encode() for i in range(300))
    assert values(read_all(central.bootstrap, f"west.{topic}", 400, settle=1)) == sorted(f"w{i}".encode() for i in range(400))
    assert {"mm2-offsets.east.internal", "mm2-offsets.west.internal"} <= central.topics()


def test_template_policy_names_and_cycle_check(brokers, agents):
    a, b = brokers("a"), brokers("b")
    topic = unique("tmpl")
    a.create_topic(topic, 1)
    produce(a.bootstrap, topic, [{"value": b"x"}] * 10)
    agent = agents(mm2({"dc1": a, "dc2": b}, ["dc1->dc2", "dc2->dc1"], topics=f"{topic}.*",
                       **{"replication.policy.class": "io.strait.mirror.TemplateReplicationPolicy",
                          "replication.policy.template": "{topic}-from-{source}"}, **FAST))
    assert len(read_all(b.bootstrap, f"{topic}-from-dc1", 10, settle=1)) == 10
    time.sleep(3)
    assert f"{topic}-from-dc1-from-dc2" not in a.topics(), agent.log()[-2000:]


@pytest.mark.parametrize("text, message", [
    ("clusters = A, B\nA.bootstrap.servers = x:1\nB.bootstrap.servers = y:2\nA->B.enabled = true\nA->B.topix = t\n",
     "topix: unknown MirrorMaker 2 setting"),
    ("clusters = A, B\nA.bootstrap.servers = x:1\nB.bootstrap.servers = y:2\nA->B.enabled = yes\n",
     "enabled: 'yes' is not true or false"),
    ("A.bootstrap.servers = x:1\n", "clusters: missing"),
    ("clusters = A, B\nA.bootstrap.servers = x:1\nA->B.enabled = true\n", "B.bootstrap.servers: missing"),
    ("clusters = A, B\nA.bootstrap.servers = x:1\nB.bootstrap.servers = y:2\nA->C.enabled = true\n",
     "A->C.enabled: names a flow between clusters not listed"),
    ("clusters = A, B\nA.bootstrap.servers = x:1\nB.bootstrap.servers = y:2\nA->B.enabled = true\n"
     "A.security.protocol = SASL_SSL\nA.sasl.mechanism = GSSAPI\n",
     "A.sasl.mechanism: GSSAPI is not supported"),
    ("clusters = A, B\nA.bootstrap.servers = x:1\nB.bootstrap.servers = y:2\nA.consumer.fetch.max.bytes = lots\n",
     "fetch.max.bytes: 'lots' is not a non-negative integer"),
    ("clusters = A, B\nA.bootstrap.servers = x:1\nB.bootstrap.servers = y:2\nA->B.enabled = true\n"
     "replication.policy.class = com.example.Mine\n", "replication.policy.class: 'com.example.Mine' is not supported"),
    ("clusters = A, B\nA.bootstrap.servers = x:1\nB.bootstrap.servers = y:2\nA->B.enabled = true\ntopics = [unclosed\n",
     "topics: '[unclosed' is not a regular expression"),
])
def test_broken_configurations_are_refused_in_one_line(tmp_path, text, message):
    path = tmp_path / "mm2.properties"
    path.write_text(text)
    result = subprocess.run([strait_binary(), "run", "--mm2", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], result.stderr


def test_embedded_sites_run_in_the_agent(tmp_path, agents):
    east, west = free_port(), free_port()
    properties = "\n".join([
        "clusters = east, west",
        f"east.bootstrap.servers = 127.0.0.1:{east}",
        f"east.embedded.data.dir = {tmp_path / 'east'}",
        f"west.bootstrap.servers = 127.0.0.1:{west}",
        f"west.embedded.data.dir = {tmp_path / 'west'}",
        "east->west.enabled = true",
        "refresh.topics.interval.seconds = 1",
    ]) + "\n"
    agent = agents(properties)
    topic = unique("local")

    def created():
        try:
            admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{east}"})
            admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(timeout=5)
            return True
        except Exception:
            return False
    wait_until(created, 30, "the embedded east site", interval=0.5)
    produce(f"127.0.0.1:{east}", topic, [{"value": f"{i}".encode()} for i in range(100)])
    copied = read_all(f"127.0.0.1:{west}", f"east.{topic}", 100, timeout=60, settle=1)
    assert sorted(int(r[3]) for r in copied) == list(range(100)), agent.log()[-2000:]
    assert agent.terminate() == 0
    assert (tmp_path / "west" / f"east.{topic}-0").is_dir(), "the copies are on west's disk"
