"""Starts the demo for real, with the command ``tox -e demo`` runs, on a free port and a fresh data folder."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests


DEMO_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 60


@dataclass
class DemoServer:
    base_url: str
    log_path: Path

    def url(self, path):
        return self.base_url + path

    def output(self):
        return self.log_path.read_text(errors="replace")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_answering(process, server):
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the demo exited with {process.returncode} before answering:\n{server.output()}")
        try:
            if requests.get(server.url("/"), timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the demo did not answer within {STARTUP_TIMEOUT_SECONDS}s:\n{server.output()}")


@pytest.fixture(scope="session")
def demo_server(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo-data")
    port = free_port()
    server = DemoServer(base_url=f"http://127.0.0.1:{port}", log_path=data_dir / "server.log")
    env = {
        **os.environ,
        "DEMO_PORT": str(port),
        "DEMO_DATA_DIR": str(data_dir),
        # pytest-django exports the settings of our unit tests; the demo has its own.
        "DJANGO_SETTINGS_MODULE": "demo_project.settings",
    }
    with server.log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(DEMO_DIR / "manage.py"), "rundemo"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    request.addfinalizer(lambda: stop(process))
    wait_until_answering(process, server)
    return server
