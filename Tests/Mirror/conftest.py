"""Fixtures for the mirror's end-to-end tests: `brokers` starts Strait (or Tansu) brokers and
`agents` starts `strait run --mm2` processes; both stop everything at teardown."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mirror_env import Agent, Broker  # noqa: E402


@pytest.fixture
def brokers(tmp_path):
    started: list[Broker] = []

    def make(name: str, kind: str = "strait", **settings) -> Broker:
        broker = Broker(tmp_path / name, kind, settings)
        started.append(broker)
        return broker.start()

    yield make
    for broker in started:
        broker.terminate()


@pytest.fixture
def agents(tmp_path):
    started: list[Agent] = []

    def make(properties: str, name: str | None = None) -> Agent:
        agent = Agent(tmp_path / (name or f"agent{len(started)}"), properties)
        started.append(agent)
        return agent.start()

    yield make
    for agent in started:
        agent.terminate()
