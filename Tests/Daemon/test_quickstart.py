"""docs/quickstart.md, run as written: every ```sh block's commands in order (each must exit 0),
and each ```sh background block started and left running, until the next one starts or the
page ends, then stopped with SIGINT (the page's Ctrl-C) and expected to exit 0."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import urllib.request

from mirror_env import REPO, wait_until
from test_first_run import Daemon, port_is_free


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """(kind, commands) per fenced block tagged sh: kind is "sh" or "sh background"."""
    found = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("```sh"):
            kind = line[3:].strip()
            body = []
            index += 1
            while not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            found.append((kind, [command for command in body if command.strip()]))
        index += 1
    return found


def ready() -> bool:
    try:
        with urllib.request.urlopen("http://127.0.0.1:9464/health/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def copying() -> bool:
    """The demo's records are on the second site (what a reader sees on its screen before
    turning to the second terminal)."""
    with urllib.request.urlopen("http://127.0.0.1:9464/status", timeout=2) as response:
        return any(flow["records"] > 0 for flow in json.load(response)["flows"])


def test_every_quickstart_command_works(tmp_path):
    for port in (9092, 9093, 9464):
        assert port_is_free(port), f"port {port} is taken: the quickstart needs it"
    steps = blocks((REPO / "docs" / "quickstart.md").read_text())
    assert [kind for kind, _ in steps].count("sh background") == 2 and len(steps) >= 5
    running = None
    created = [REPO / "my-strait.yaml", REPO / "strait-data"]
    for path in created:
        assert not path.exists(), f"{path} is in the way of the quickstart"
    try:
        for number, (kind, commands) in enumerate(steps):
            if kind == "sh background":
                if running:
                    assert running.stop(signal.SIGINT) == 0
                    wait_until(lambda: all(port_is_free(p) for p in (9092, 9093, 9464)), 30, "the ports free again")
                assert len(commands) == 1
                running = Daemon(commands[0], REPO, tmp_path / f"background-{number}.log")
                wait_until(lambda: running.proc.poll() is None and ready(), 600, f"'{commands[0]}' ready")
                if commands[0].endswith("strait demo"):
                    wait_until(copying, 60, "the demo's records copied")
                continue
            assert kind == "sh", kind
            for command in commands:
                result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=120)
                assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
                if command.startswith("kcat -b 127.0.0.1:9093 -C -t east.greetings"):
                    assert result.stdout.strip() == "hello from east"
                if command == "swift run strait status":
                    assert "flow east->west:" in result.stdout
                if "strait check" in command:
                    assert result.stdout.strip() == "my-strait.yaml: OK: 2 embedded sites, 0 external sites, 1 flow"
        assert running.stop(signal.SIGINT) == 0
    finally:
        if running:
            running.kill()
        (REPO / "my-strait.yaml").unlink(missing_ok=True)
        shutil.rmtree(REPO / "strait-data", ignore_errors=True)
