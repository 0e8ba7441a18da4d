"""Sanity before 1,000 checks: a wrong URL is a usage error (exit 4), a target that is not there or
not Kapacitor is "target unusable" (exit 3); each in seconds, with one line saying what was meant."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance import preflight
from tests.conformance import hostile
from tests.conformance.conftest import run_suite

pytestmark = [pytest.mark.server]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("url", "said"), [
    ("127.0.0.1:9092", "did you mean --target http://127.0.0.1:9092"),
    ("localhost:9092", "did you mean --target http://localhost:9092"),
    ("ftp://127.0.0.1:9092", "must be http:// or https://"),
    ("http://127.0.0.1:9092/kapacitor/v1", "e.g. --target http://127.0.0.1:9092 "),
    ("http://127.0.0.1:9092/kapacitor/v1/", "e.g. --target http://127.0.0.1:9092 "),
    ("http://127.0.0.1:9092/kapacitor/v1preview", "e.g. --target http://127.0.0.1:9092 "),
    ("http://127.0.0.1:9092/proxy/kapacitor/v1preview/", "e.g. --target http://127.0.0.1:9092/proxy "),
])
def test_url_mistakes_are_usage_errors(url: str, said: str) -> None:
    with pytest.raises(preflight.BadTargetURL) as err:
        preflight.check_url(url)
    assert said in str(err.value)


def test_good_urls_pass() -> None:
    assert preflight.check_url("http://127.0.0.1:9092/") == "http://127.0.0.1:9092"
    assert preflight.check_url("https://k.example:9092/mounted") == "https://k.example:9092/mounted"


@pytest.mark.slow
@pytest.mark.parametrize("url", ["127.0.0.1:9092", "http://127.0.0.1:9092/kapacitor/v1"])
def test_cli_usage_error_in_seconds(tmp_path: Path, url: str) -> None:
    started = time.monotonic()
    run = run_suite(["--target", url, "--quick"], tmp_path, timeout=60)
    assert run.code == 4 and run.result is None
    assert "--target" in run.stderr and len(run.stderr.strip().splitlines()) <= 3, run.stderr
    assert time.monotonic() - started < 30


@pytest.mark.slow
def test_connection_refused_names_the_address(tmp_path: Path) -> None:
    port = _free_port()
    run = run_suite(["--target", f"http://127.0.0.1:{port}", "--check", "status.*"], tmp_path, timeout=60)
    assert run.code == 3 and f"127.0.0.1:{port}: connection refused" in run.stdout + run.stderr


@pytest.mark.slow
def test_static_file_server_is_not_kapacitor(tmp_path: Path) -> None:
    """`python -m http.server` as target: exit 3 before any check, saying what the ping answered."""
    port = _free_port()
    (tmp_path / "www").mkdir()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                              cwd=tmp_path / "www", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        started = time.monotonic()
        run = run_suite(["--target", f"http://127.0.0.1:{port}", "--quick"], tmp_path, timeout=60)
        took = time.monotonic() - started
    finally:
        server.kill()
        server.wait()
    out = run.stdout + run.stderr
    assert run.code == 3 and "does not look like a Kapacitor API" in out and "status 404" in out, out[-2000:]
    assert run.result is None or not run.result["results"]
    assert took < 30


def test_ping_without_version_needs_force() -> None:
    def answer(h: object) -> None:
        hostile.send(h, 204)  # type: ignore[arg-type]

    with hostile.canned(answer) as srv:
        with pytest.raises(preflight.TargetUnusable, match="without an X-Kapacitor-Version"):
            preflight.probe(srv.url)
        assert preflight.probe(srv.url, force=True).warning


def test_version_header_must_parse() -> None:
    def answer(h: object) -> None:
        hostile.send(h, 204, headers={"X-Kapacitor-Version": "string"})  # type: ignore[arg-type]

    with hostile.canned(answer) as srv, pytest.raises(preflight.TargetUnusable, match="not a version"):
        preflight.probe(srv.url)


def test_kapacitor_ping_is_accepted(serve: Callable[..., str]) -> None:
    answer = preflight.probe(serve(kapacitor_version="1.5.7"))
    assert answer.status == 204 and answer.version_header == "1.5.7" and answer.warning is None


def test_https_against_plain_http_port_says_so(serve: Callable[..., str]) -> None:
    url = serve().replace("http://", "https://")
    started = time.monotonic()
    with pytest.raises(preflight.TargetUnusable, match="speaks plain HTTP, not TLS: use http://"):
        preflight.probe(url)
    assert time.monotonic() - started < 12


def test_http_against_a_tls_port_says_so(tmp_path: Path) -> None:
    import shutil
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a throwaway certificate")
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True, timeout=60)

    class Ping(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hostile.send(self, 204, headers={"X-Kapacitor-Version": "1.5.7"})

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Ping)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        port = srv.server_address[1]
        with pytest.raises(preflight.TargetUnusable, match=f"127.0.0.1:{port} speaks TLS, not plain HTTP: use https://"):
            preflight.probe(f"http://127.0.0.1:{port}")
        with pytest.raises(preflight.TargetUnusable, match="TLS certificate not accepted"):
            preflight.probe(f"https://127.0.0.1:{port}")
    finally:
        srv.shutdown()
        srv.server_close()
