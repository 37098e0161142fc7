"""``nca-share serve`` migrates a fresh database and serves the app with waitress."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], url: str) -> httpx.Response | None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)  # the process is still starting
    return None


@pytest.mark.slow
def test_serve_migrates_and_answers(tmp_path: Path) -> None:
    """A fresh data directory: the command migrates, then /readyz and the start page answer."""
    port = _free_port()
    env = {
        **os.environ,
        "NCA_SHARE_DATA_DIR": str(tmp_path / "var"),
        "NCA_SHARE_SECRET_KEY": "serve-test-key",
        "NCA_SHARE_CONFIG_DIR": str(tmp_path / "no-config"),
    }
    env.pop("NCA_SHARE_DATABASE_URL", None)
    command = [str(Path(sys.executable).parent / "nca-share"), "serve", "--port", str(port)]
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            ready = _wait_ready(proc, f"http://127.0.0.1:{port}/readyz")
            assert ready is not None, log_path.read_text()
            assert ready.status_code == 200
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            assert '<html lang="nl">' in page.text
            with closing(sqlite3.connect(tmp_path / "var" / "nca_share.db")) as db:
                heads = db.execute("SELECT count(*) FROM alembic_version").fetchone()
            assert heads is not None
            assert heads[0] >= 1  # migrated before serving
        finally:
            proc.terminate()
            proc.wait(timeout=10)
