"""Shared fixtures of the Python suite (run by ctest as `python3 -m pytest tests/python`).

Every test runs hermetically: offline, with its own cache and config folders, TZ=UTC, and no
location from the environment, as the C++ tests do (tests/test_env.cpp). Scenarios that print run
in a child interpreter, so that what the console shows is read from a real file descriptor.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SOURCE_DIR = Path(__file__).resolve().parents[2]
GOLDEN_DIR = SOURCE_DIR / "tests" / "golden"
CT_PARSER = SOURCE_DIR / "tests" / "compat" / "ct_parser.py"

# §14 of the compatibility spec: two GPUs of 150 W, cpu:0 45 W and dram:0 5 W.
SECTION14_METERS = """
import epochwatt
GPU = "NVIDIA A100-SXM4-40GB"
def section14_meters():
    return [epochwatt.constant_power_meter("test:gpu0", "gpu", GPU, 150.0, "counter"),
            epochwatt.constant_power_meter("test:gpu1", "gpu", GPU, 150.0, "counter"),
            epochwatt.constant_power_meter("test:cpu0", "cpu", "cpu:0", 45.0, "counter"),
            epochwatt.constant_power_meter("test:dram0", "dram", "dram:0", 5.0, "counter")]
"""


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("EPOCHWATT_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("TZ", "UTC")
    for name in ("EPOCHWATT_COUNTRY", "EPOCHWATT_ZONE", "EPOCHWATT_POSTCODE", "EPOCHWATT_LAT",
                 "EPOCHWATT_LON", "EPOCHWATT_CLOUD", "EPOCHWATT_CONFIG", "CUDA_VISIBLE_DEVICES"):
        monkeypatch.delenv(name, raising=False)
    import time
    time.tzset()
    yield


def run_python(code, *, timeout=120, stdin=None, cwd=None, env=None):
    """Runs `code` (dedented) in a fresh interpreter; returns the CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, input=stdin, cwd=cwd, env=env)


def mask_version(text):
    import epochwatt
    return text.replace(f"epochwatt version {epochwatt.__version__}\n", "epochwatt version <version>\n")
