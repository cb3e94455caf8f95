"""Helpers shared by the tests: the CLI in a subprocess, and a scripted view."""

import json
import subprocess
import sys


def evonet(*args, cwd=None, timeout=300):
    """Run ``python -m evonet ARGS`` as a user would; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "evonet", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def last_json(stdout):
    """The JSON object on the last stdout line."""
    return json.loads(stdout.strip().splitlines()[-1])


class ScriptedView:
    """A window/terminal stand-in: plays back key presses, records what was drawn."""

    def __init__(self, script):
        self.script, self.frames, self.fps = list(script), [], None

    def poll(self):
        return self.script.pop(0) if self.script else ["quit"]

    def draw(self, k, extra=(), message=()):
        self.frames.append((list(extra), list(message)))

    def tick(self, fps):
        self.fps = fps
