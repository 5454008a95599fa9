"""The README's set-up commands, read from the file itself so that what CI and the tests run is
exactly what a new user copies: the indented lines of the "Set-up" section, in order (the first
runs Strait's main job, the second runs every test).

    python3 Tests/readme_commands.py 2    # prints the second command
"""

from __future__ import annotations

import sys
from pathlib import Path


def setup_commands(readme: Path) -> list[str]:
    lines = readme.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## Set-up"))
    commands = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("    ") and line.strip():
            commands.append(line.strip())
    if len(commands) != 2:
        raise SystemExit(f"{readme}: the Set-up section should show exactly two indented commands, found {commands}")
    return commands


if __name__ == "__main__":
    index = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    print(setup_commands(Path(__file__).resolve().parents[1] / "README.md")[index - 1])
