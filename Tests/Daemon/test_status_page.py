"""The status page at `/`, loaded in headless Chromium against a running daemon: what it shows
(sites, the flow's totals, its partitions, the group's last checkpoint, one chart series per
partition) matches `/status`, text from the JSON is shown as text, and the page loads nothing from
anywhere else. With STRAIT_SCREENSHOT set it also saves docs/status-page.png."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from mirror_env import REPO, free_port, produce, strait_binary, unique, wait_until
from test_first_run import Daemon

RECORDS = 1500
PARTITIONS = 3
VIRTUAL_TIME_MS = 8000
SCREENSHOT = REPO / "docs" / "status-page.png"


# Chromium


def chromium() -> str:
    """The Chromium binary, installed with apt-get when missing; fails loudly when it cannot be."""
    def found():
        return next((path for path in map(shutil.which, ("chromium", "chromium-browser")) if path), None)
    if found():
        return found()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    outputs = []
    for command in (["apt-get", "install", "-y", "chromium"], ["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise AssertionError(f"cannot install chromium: {' '.join(command)}: {error}") from error
        outputs.append(f"$ {' '.join(command)} -> {result.returncode}\n{result.stdout[-1500:]}{result.stderr[-1500:]}")
        if command[1] == "install" and result.returncode == 0:
            break
    path = found()
    assert path, "chromium is missing and apt-get could not install it:\n" + "\n".join(outputs)
    return path


def run_chromium(tmp_path: Path, url: str, *options: str) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--virtual-time-budget={VIRTUAL_TIME_MS}", *options, url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"chromium exited with {result.returncode}:\n{result.stderr[-3000:]}"
    return result


def dump_dom(tmp_path: Path, url: str) -> str:
    """The page's DOM once its scripts ran and it drew a `/status` document (bounded retries)."""
    dom = ""
    for _ in range(3):
        dom = run_chromium(tmp_path, url, "--dump-dom").stdout
        body = parse(dom).find(lambda node: node.tag == "body")
        if body is not None and body.attrs.get("data-updated"):
            return dom
    raise AssertionError(f"the page did not draw /status (no data-updated on <body>):\n{dom[:3000]}")


def screenshot(tmp_path: Path, url: str, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    run_chromium(tmp_path, url, f"--screenshot={path}", "--window-size=1280,1600", "--hide-scrollbars")
    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"no PNG written to {path}"


# A small DOM from html.parser


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None"):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def walk(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find_all(self, predicate) -> list["Node"]:
        return [node for node in self.walk() if predicate(node)]

    def find(self, predicate) -> "Node | None":
        return next(iter(self.find_all(predicate)), None)

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {name: value if value is not None else "" for name, value in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {name: value or "" for name, value in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def external_resources(document: Node) -> list[str]:
    """Anything that would make the browser load from elsewhere than the page itself."""
    problems = []
    for node in document.walk():
        for name in ("src", "href", "xlink:href", "action", "data", "poster", "srcset", "formaction"):
            value = node.attrs.get(name)
            if value is None:
                continue
            lowered = value.strip().lower()
            if node.tag in ("script", "iframe", "img", "embed", "object", "audio", "video", "source", "use", "image") and name == "src" \
                    or "://" in lowered or lowered.startswith("//"):
                problems.append(f"<{node.tag} {name}={value!r}>")
        if node.tag == "link" and "stylesheet" in node.attrs.get("rel", "").lower():
            problems.append(f"<link rel=stylesheet {node.attrs}>")
        if node.tag == "style" and ("@import" in node.text() or "url(" in node.text()):
            problems.append("<style> with @import or url()")
        if node.tag in ("iframe", "object", "embed", "base"):
            problems.append(f"<{node.tag}>")
    return problems


# The daemon


def get(port: int, path: str) -> tuple[str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.headers.get("Content-Type", ""), response.read().decode()


def status(port: int) -> dict:
    return json.loads(get(port, "/status")[1])


def flow_of(document: dict, name: str) -> dict | None:
    return next((flow for flow in document["flows"] if flow["flow"] == name), None)


def between(shown: str | None, before, after) -> bool:
    """A value the page showed from a document fetched between `before` and `after`."""
    if shown is None or before is None or after is None:
        return shown is None and (before is None or after is None)
    low, high = sorted((before, after))
    return low <= float(shown) <= high


def commit_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """Commits the middle of every partition for `group`; returns what it committed."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(PARTITIONS)}
        offsets = {p: end // 2 for p, end in ends.items() if end > 1}
        consumer.commit(offsets=[TopicPartition(topic, p, offset) for p, offset in offsets.items()], asynchronous=False)
        return offsets
    finally:
        consumer.close()


def test_status_page_shows_what_status_reports(tmp_path):
    http_port, east_port, west_port = free_port(), free_port(), free_port()
    topic = unique("orders")
    # Characters that break HTML if the page builds markup from data.
    group = unique("shop") + ' <i>&amp;"x\''
    flow_name = "east->west"
    config = tmp_path / "strait.yaml"
    config.write_text(f"""\
http:
  listen: 127.0.0.1:{http_port}
sites:
  east: {{listen: 127.0.0.1:{east_port}, data.dir: {tmp_path / 'data' / 'east'}, broker: {{num.partitions: {PARTITIONS}}}}}
  west: {{listen: 127.0.0.1:{west_port}, data.dir: {tmp_path / 'data' / 'west'}}}
flows:
  - {{source: east, target: west, topics: ["{topic}"], refresh.topics.interval.seconds: 5}}
""")
    chromium()  # before the daemon starts: an install can take minutes
    daemon = Daemon([strait_binary(), "run", "--config", str(config)], tmp_path, tmp_path / "daemon.log")
    try:
        daemon.wait_for("site west listening", 60)
        wait_until(lambda: _answers(http_port), 30, "/status to answer")

        produce(f"127.0.0.1:{east_port}", topic, [{"key": b"k%d" % i, "value": b"order-%d" % i} for i in range(RECORDS)])
        committed = commit_offsets(f"127.0.0.1:{east_port}", group, topic)
        assert committed, "nothing to commit: no partition has records"
        keys = {f"{flow_name} {topic}-{p}" for p in range(PARTITIONS)}

        def settled():
            document = status(http_port)
            flow = flow_of(document, flow_name)
            if flow is None or flow["records"] != RECORDS or flow["lag"] != 0:
                return False
            if {f"{flow_name} {p['topic']}-{p['partition']}" for p in flow["partitions"]} != keys:
                return False
            if any(p["lag"] != 0 for p in flow["partitions"]):
                return False
            checkpoint = next((g for g in flow["groups"] if g["group"] == group), None)
            if checkpoint is None or checkpoint["partitions"] != len(committed):
                return False
            history = document["history"]
            return bool(history) and keys <= set(history[-1]["partitions"]) and document
        wait_until(settled, 120, f"{RECORDS} records copied with lag 0 and group {group!r} checkpointed", interval=1)

        # The page as served: self-contained.
        content_type, page = get(http_port, "/")
        assert content_type.startswith("text/html"), content_type
        assert external_resources(parse(page)) == [], external_resources(parse(page))

        url = f"http://127.0.0.1:{http_port}/"
        before = status(http_port)
        dom = dump_dom(tmp_path, url)
        after = status(http_port)
        (tmp_path / "dom.html").write_text(dom)
        document = parse(dom)
        assert external_resources(document) == [], external_resources(document)

        # The document drawn is one fetched while Chromium ran.
        body = document.find(lambda n: n.tag == "body")
        assert before["nowMs"] <= int(body.attrs["data-updated"]) <= after["nowMs"]

        # Header.
        version = document.find(lambda n: "data-version" in n.attrs)
        assert version is not None and version.attrs["data-version"] == after["version"] and after["version"] in version.text()
        ready = document.find(lambda n: "data-ready" in n.attrs)
        assert ready is not None and ready.attrs["data-ready"] == "true" and "ready" in ready.text()

        # Sites.
        sites = {n.attrs["data-site"]: n for n in document.find_all(lambda n: "data-site" in n.attrs)}
        assert set(sites) == {site["name"] for site in after["sites"]} == {"east", "west"}
        for site in after["sites"]:
            row = sites[site["name"]]
            assert row.attrs["data-state"] == site["state"] == "listening", row
            assert row.attrs["data-embedded"] == "true" and row.attrs["data-address"] == site["address"]
            assert site["state"] in row.text() and site["address"] in row.text()

        # The flow: totals between the documents before and after.
        old, new = flow_of(before, flow_name), flow_of(after, flow_name)
        cards = document.find_all(lambda n: n.tag == "section" and n.attrs.get("data-flow") == flow_name)
        assert len(cards) == 1, cards
        card = cards[0]
        for attribute, key in (("data-records", "records"), ("data-lag", "lag"), ("data-bytes", "bytes")):
            assert between(card.attrs.get(attribute), old[key], new[key]), (attribute, card.attrs.get(attribute), old[key], new[key])
        assert card.attrs["data-records"] == str(RECORDS) and card.attrs["data-lag"] == "0"
        assert f"{RECORDS:,}" in card.text()
        assert between(card.attrs.get("data-last-checkpoint-ms"), old["lastCheckpointMs"], new["lastCheckpointMs"])
        assert card.attrs["data-alarms"] == str(len(new["alarms"])) == "0"

        # Its partitions: the same ones, copied, with lag 0.
        rows = {n.attrs["data-partition"]: n for n in card.find_all(lambda n: n.tag == "tr" and "data-partition" in n.attrs)}
        assert set(rows) == keys
        shown_records = 0
        for partition in new["partitions"]:
            row = rows[f"{flow_name} {partition['topic']}-{partition['partition']}"]
            previous = next(p for p in old["partitions"] if (p["topic"], p["partition"]) == (partition["topic"], partition["partition"]))
            assert row.attrs["data-topic"] == partition["topic"] and row.attrs["data-partition-number"] == str(partition["partition"])
            assert row.attrs["data-target-topic"] == partition["targetTopic"] == f"east.{topic}"
            assert row.attrs["data-lag"] == "0" and partition["lag"] == 0
            for attribute, key in (("data-source-end", "sourceEnd"), ("data-position", "position"), ("data-records", "records")):
                assert between(row.attrs.get(attribute), previous[key], partition[key]), (attribute, row.attrs.get(attribute))
            assert partition["topic"] in row.text() and partition["targetTopic"] in row.text()
            shown_records += int(row.attrs["data-records"])
        assert shown_records == RECORDS

        # The group's last checkpoint, its name shown as text (not markup).
        groups = document.find_all(lambda n: n.tag == "tr" and n.attrs.get("data-group") == group)
        assert len(groups) == 1, [n.attrs for n in document.find_all(lambda n: "data-group" in n.attrs)]
        checkpoint_row = groups[0]
        checkpoint = next(g for g in new["groups"] if g["group"] == group)
        previous = next(g for g in old["groups"] if g["group"] == group)
        assert checkpoint_row.attrs["data-flow"] == flow_name
        assert checkpoint_row.attrs["data-partitions"] == str(checkpoint["partitions"]) == str(len(committed))
        assert between(checkpoint_row.attrs["data-last-checkpoint-ms"], previous["lastCheckpointMs"], checkpoint["lastCheckpointMs"])
        assert group in checkpoint_row.text() and " ago" in checkpoint_row.text()
        assert not checkpoint_row.find_all(lambda n: n.tag == "i"), "the group name became markup"

        # Charts: lag and p99 latency over time, one series per partition.
        series = {f"{topic}-{p}" for p in range(PARTITIONS)}
        for kind in ("lag", "latency"):
            charts = document.find_all(lambda n: n.tag == "svg" and n.attrs.get("data-chart") == f"{kind} {flow_name}")
            assert len(charts) == 1, f"no {kind} chart for {flow_name}"
            chart = charts[0]
            assert int(chart.attrs["data-samples"]) >= 1
            paths = chart.find_all(lambda n: n.tag in ("path", "polyline") and "data-series" in n.attrs)
            assert sorted(n.attrs["data-series"] for n in paths) == sorted(series), paths
            assert chart.find(lambda n: n.tag == "text" and n.attrs.get("data-axis") == "y-max") is not None
            assert chart.find(lambda n: n.tag == "text" and n.attrs.get("data-axis") == "x-span") is not None
            if kind == "lag":
                assert all(n.attrs.get("d") or n.attrs.get("points") for n in paths), "a lag series without points"

        if os.environ.get("STRAIT_SCREENSHOT"):
            # Traffic for half a minute more, so the charts have something to draw.
            for round in range(7):
                produce(f"127.0.0.1:{east_port}", topic, [{"key": b"r%d-%d" % (round, i), "value": b"order"} for i in range(100 + 150 * round)])
                time.sleep(4)
            screenshot(tmp_path, url, SCREENSHOT)

        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()


def _answers(port: int) -> bool:
    try:
        status(port)
        return True
    except OSError:
        return False
