"""The documented ``jupyter lab chapters/`` works: a headless server runs a cell for a chapter.

The test is a client of the real server: it starts the project environment's ``jupyter lab`` (the
one next to ``sys.executable``) on ``chapters/``, as the book's introduction tells readers to, opens a
chapter notebook through the contents API, starts a kernel for it through the sessions API, and runs
one cell over the kernel's websocket (Jupyter messaging protocol v5, the server's JSON framing).
The cell must run in the project's environment and import the package of this checkout's version.

The server gets private config, data and runtime directories (and a private IPython directory for
the kernel), so a user's own Jupyter set-up (extra kernelspecs, settings, a running server's files)
cannot change what is tested; the environment's own directories under ``sys.prefix`` (where the
``python3`` kernelspec and the server extensions live) are still read, as ``make lab`` reads them.
Every network wait has a timeout, and the server is stopped even when the test fails.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

import relulearn

ROOT = Path(__file__).resolve().parents[1]
JUPYTER = Path(sys.executable).with_name("jupyter")
NOTEBOOK = min((ROOT / "chapters").glob("0*.ipynb")).name
# timeouts in seconds (measured here: the server answers after ~2 s, a kernel starts in ~1 s)
START_TIMEOUT = 60.0  # for the server to answer /api/status
REQUEST_TIMEOUT = 30.0  # for one REST call or the websocket handshake
CELL_TIMEOUT = 60.0  # from sending the cell to its reply and idle status
CELL = """\
import sys, relulearn
print(sys.executable)
print(relulearn.__version__)
print(sys.prefix)
"""

pytestmark = pytest.mark.skipif(
    not JUPYTER.is_file(), reason=f"no jupyter next to {sys.executable}"
)


class Server:
    """A running ``jupyter lab`` and the few REST calls the test makes to it."""

    def __init__(self, proc: subprocess.Popen, log: Path, url: str, token: str):
        self.proc, self.log, self.url, self.token = proc, log, url.rstrip("/"), token

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def request(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"token {self.token}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _isolated_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "IPYTHON")) and k != "PYTHONPATH"
    }
    for name, sub in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ]:
        (tmp / sub).mkdir()
        env[name] = str(tmp / sub)
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    return env


@pytest.fixture
def lab_server(tmp_path):
    token = secrets.token_hex(24)
    env = _isolated_env(tmp_path)
    cmd = [
        str(JUPYTER),
        "lab",
        "chapters/",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={_free_port()}",
        f"--IdentityProvider.token={token}",
    ]
    if os.geteuid() == 0:  # CI runs as root, which the server refuses without this
        cmd.append("--allow-root")
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = None
    try:
        # The server writes its URL (with the port it really bound) to our private runtime dir.
        runtime = Path(env["JUPYTER_RUNTIME_DIR"])
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, f"jupyter lab exited early:\n{log.read_text()}"
            assert time.monotonic() < deadline, (
                f"jupyter lab did not answer in {START_TIMEOUT} s:\n{log.read_text()}"
            )
            infos = list(runtime.glob("jpserver-*.json"))
            if infos and server is None:
                info = json.loads(infos[0].read_text() or "{}")
                if info.get("url"):
                    server = Server(proc, log, info["url"], token)
                    assert Path(info["root_dir"]) == ROOT / "chapters", info
            if server is not None:
                try:
                    status, _ = server.request("GET", "/api/status")
                    if status == 200:
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            # on SIGTERM the server shuts its kernels down and exits
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def _execute_request(code: str, session: str) -> dict:
    """An ``execute_request`` in the server's JSON websocket framing (protocol v5)."""
    return {
        "channel": "shell",
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "username": "test",
            "session": session,
            "date": datetime.datetime.now(datetime.UTC).isoformat(),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        "buffers": [],
    }


async def _run_cell(server: Server, kernel_id: str, code: str) -> tuple[str, dict]:
    """Run ``code`` on the kernel; return its stdout and the ``execute_reply`` content."""
    session = uuid.uuid4().hex
    ws_url = server.url.replace("http", "ws", 1) + (
        f"/api/kernels/{kernel_id}/channels?session_id={session}"
    )
    request = HTTPRequest(
        ws_url,
        headers={"Authorization": f"token {server.token}"},
        connect_timeout=REQUEST_TIMEOUT,
        request_timeout=REQUEST_TIMEOUT,
    )
    conn = await asyncio.wait_for(websocket_connect(request), REQUEST_TIMEOUT)
    try:
        msg = _execute_request(code, session)
        msg_id = msg["header"]["msg_id"]
        await conn.write_message(json.dumps(msg))
        deadline = time.monotonic() + CELL_TIMEOUT
        stdout, reply, idle = [], None, False
        while not (idle and reply is not None):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no idle status and reply in {CELL_TIMEOUT} s"
            raw = await asyncio.wait_for(conn.read_message(), remaining)
            assert raw is not None, "the kernel websocket closed"
            got = json.loads(raw)
            if got.get("parent_header", {}).get("msg_id") != msg_id:
                continue  # kernel_info replies, status of the connection's nudges
            kind, content = got["msg_type"], got["content"]
            if got["channel"] == "iopub" and kind == "stream":
                if content["name"] == "stdout":
                    stdout.append(content["text"])
            elif got["channel"] == "iopub" and kind == "error":
                pytest.fail("the cell raised:\n" + "\n".join(content["traceback"]))
            elif got["channel"] == "iopub" and kind == "status":
                idle = content["execution_state"] == "idle"
            elif got["channel"] == "shell" and kind == "execute_reply":
                reply = content
        return "".join(stdout), reply
    finally:
        conn.close()


def test_jupyter_lab_runs_a_cell_of_a_chapter_in_the_project_environment(lab_server):
    server = lab_server
    try:
        # what the browser loads first: the JupyterLab page itself
        req = urllib.request.Request(
            server.url + "/lab", headers={"Authorization": f"token {server.token}"}
        )
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as resp:
            assert resp.status == 200
            assert b"JupyterLab" in resp.read()

        quoted = urllib.parse.quote(NOTEBOOK)
        status, model = server.request("GET", f"/api/contents/{quoted}?content=1")
        assert status == 200 and model["type"] == "notebook", model.get("type")
        cells = model["content"]["cells"]
        assert any(c["cell_type"] == "code" for c in cells), "no code cell"

        status, session = server.request(
            "POST",
            "/api/sessions",
            {
                "path": NOTEBOOK,
                "name": NOTEBOOK,
                "type": "notebook",
                "kernel": {"name": "python3"},
            },
        )
        assert status == 201, session
        try:
            kernel = session["kernel"]
            assert kernel["name"] == "python3"
            stdout, reply = asyncio.run(_run_cell(server, kernel["id"], CELL))
        finally:
            status, _ = server.request("DELETE", f"/api/sessions/{session['id']}")
            assert status == 204
    except BaseException:
        print("jupyter lab's log:\n" + server.log_tail())
        raise

    assert reply["status"] == "ok", reply
    executable, version, prefix = stdout.split("\n")[:3]
    # the kernel runs the project environment's interpreter (the one running this test),
    # not merely some python: compare the environment, not the resolved symlink
    assert Path(prefix) == Path(sys.prefix), (prefix, sys.prefix)
    assert Path(executable).parent == Path(sys.executable).parent, executable
    assert Path(executable).resolve() == Path(sys.executable).resolve(), executable
    assert version == relulearn.__version__
