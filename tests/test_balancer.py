"""Two app servers behind nginx (scripts/serve_cluster.py): both serve, a browser sticks to one
(pages, its websocket, its uploads), the balancer answers health checks, uploads up to
Streamlit's limit pass, and stopping leaves no process behind."""
import http.cookiejar
import importlib.util
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_serve_cluster():
    spec = importlib.util.spec_from_file_location("serve_cluster", ROOT / "scripts" / "serve_cluster.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


serve_cluster = _load_serve_cluster()
websockets_sync = pytest.importorskip("websockets.sync.client", reason="the websockets package is not installed")
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

pytestmark = pytest.mark.slow
NO_NGINX = "nginx is not installed (apt-get install nginx-light; .ci/run installs it)"

UPLOAD_LIMIT = 16 * 1024 * 1024          # .streamlit/config.toml: maxUploadSize = 16 (MB)


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def multipart(payload: bytes) -> tuple[bytes, str]:
    boundary = f"----np{uuid.uuid4().hex}"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="digit.png"\r\n'
            "Content-Type: image/png\r\n\r\n").encode()
    return head + payload + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Browser:
    """One browser: its cookie jar, and the app server that answered each response (X-Upstream)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=20) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def xsrf(self) -> str:
        """Streamlit's XSRF cookie (set by its server on a first request), echoed as a header or subprotocol."""
        if not self.cookie("_streamlit_xsrf"):
            self.request("/_stcore/health")
        return self.cookie("_streamlit_xsrf")

    @contextmanager
    def session(self):
        """What Streamlit's frontend does: the /_stcore/stream websocket (XSRF token as the second
        subprotocol), then a request for upload URLs on it. Yields (websocket, upload path)."""
        xsrf = self.xsrf()
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        with websockets_sync.connect(self.base.replace("http://", "ws://") + "/_stcore/stream",
                                     additional_headers={"Cookie": cookies}, origin=self.base,
                                     subprotocols=["streamlit", xsrf], open_timeout=20) as ws:
            assert ws.response.status_code == 101
            ask = BackMsg()
            ask.file_urls_request.request_id = "r1"
            ask.file_urls_request.file_names.append("digit.png")
            ws.send(ask.SerializeToString())
            deadline = time.monotonic() + 20
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                if msg.WhichOneof("type") == "file_urls_response":
                    break
            yield ws, msg.file_urls_response.file_urls[0].upload_url

    def upload(self, path: str, payload: bytes):
        body, content_type = multipart(payload)
        return self.request(path, "PUT", body, {"Content-Type": content_type,
                                                "X-Xsrftoken": self.xsrf()})


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if serve_cluster.find_nginx() is None:
        pytest.skip(NO_NGINX)
    tmp = tmp_path_factory.mktemp("cluster")
    balancer_port, *backend_ports = free_ports(3)
    env = {"PLAYGROUND_DATA_DIR": str(tmp / "no-mnist"), "XDG_CACHE_HOME": str(tmp / "cache"),
           "PLAYGROUND_MNIST_MIRRORS": "http://127.0.0.1:9/"}
    started = time.monotonic()
    running = serve_cluster.start_cluster(servers=2, port=balancer_port, max_jobs=1, backend_ports=backend_ports,
                                          run_dir=tmp / "run", env=env, startup_timeout=60)
    print(f"cluster up in {time.monotonic() - started:.1f} s")
    yield running, f"http://127.0.0.1:{balancer_port}", {f"127.0.0.1:{p}" for p in backend_ports}
    running.stop()
    errors = (tmp / "run" / "nginx-error.log").read_text()
    assert "temporarily disabled" not in errors and "no live upstreams" not in errors, errors
    for log in (tmp / "run").glob("server-*.log"):
        assert "Traceback" not in log.read_text(), log.read_text()


def group_gone(pgid: int, wait: float = 5.0) -> bool:
    """No process left in the group; killed children may be zombies for a moment, until init
    (their new parent) reaps them."""
    deadline = time.monotonic() + wait
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def browsers_by_server(url: str, servers: set[str]) -> dict[str, Browser]:
    """New browsers until each server has one (its first page decides)."""
    found = {}
    for _ in range(60):
        browser = Browser(url)
        found.setdefault(browser.request("/")[1]["X-Upstream"], browser)
        if len(found) == len(servers):
            break
    assert set(found) == servers
    return found


def test_fresh_clients_spread_over_both_servers(cluster):
    _, url, servers = cluster
    answered = Counter()
    for _ in range(20):
        status, headers, body = Browser(url).request("/")       # no cookies: a new browser
        assert status == 200 and b"<html" in body.lower()
        assert headers["X-Upstream"] in servers
        assert re.match(r"np_route=[0-9a-f]{32}; Path=/; HttpOnly; SameSite=Lax", headers["Set-Cookie"])
        answered[headers["X-Upstream"]] += 1
    print("20 fresh clients:", dict(answered))
    assert set(answered) == servers, f"one server got everyone: {dict(answered)}"


def test_a_browser_sticks_to_its_server(cluster):
    _, url, servers = cluster
    for home, browser in browsers_by_server(url, servers).items():
        cookie = browser.cookie("np_route")
        page = browser.request("/")[2]
        script = re.search(rb'src="\.?/?(static/js/[^"]+\.js)"', page)
        paths = ["/", "/_stcore/health", "/_stcore/host-config", "/media/no-such-file.png"]
        paths += [f"/{script.group(1).decode()}"] if script else []
        for _ in range(5):
            for path in paths:
                status, headers, _ = browser.request(path)
                assert headers["X-Upstream"] == home, (path, status, headers["X-Upstream"])
                assert "np_route" not in (headers.get("Set-Cookie") or ""), "the route cookie was replaced"
            with browser.session() as (ws, upload_path):
                assert ws.response.headers["X-Upstream"] == home
                status, headers, _ = browser.upload(upload_path, b"\x89PNG" + b"x" * 1000)
                assert (status, headers["X-Upstream"]) == (204, home)
        assert browser.cookie("np_route") == cookie
        if script:                                               # a large file comes through whole
            with urllib.request.urlopen(f"http://{home}/{script.group(1).decode()}", timeout=10) as direct:
                assert browser.request(f"/{script.group(1).decode()}")[2] == direct.read()


def test_without_stickiness_uploads_fail(cluster):
    """Why it matters: the session lives in one server's memory; the other one refuses its upload."""
    _, url, servers = cluster
    browsers = browsers_by_server(url, servers)
    (home, owner), (other, stranger) = browsers.items()
    with owner.session() as (_, upload_path):
        status, headers, body = stranger.upload(upload_path, b"x" * 100)
        assert (status, headers["X-Upstream"]) == (400, other)
        assert b"sticky sessions" in body


def test_health_through_the_balancer(cluster):
    _, url, servers = cluster
    for _ in range(6):
        status, headers, body = Browser(url).request("/_stcore/health")
        assert (status, body.strip()) == (200, b"ok") and headers["X-Upstream"] in servers
    for server in servers:                                       # each server's own check, as a monitor does
        with urllib.request.urlopen(f"http://{server}/_stcore/health", timeout=5) as response:
            assert response.read().strip() == b"ok"


def test_upload_limit_matches_streamlit(cluster):
    _, url, servers = cluster
    browser = Browser(url)
    home = browser.request("/")[1]["X-Upstream"]
    with browser.session() as (_, upload_path):
        status, headers, _ = browser.upload(upload_path, b"x" * (UPLOAD_LIMIT - 4096))   # the body just under
        assert (status, headers["X-Upstream"]) == (204, home)
        status, headers, _ = browser.request(upload_path, "PUT", b"x" * (UPLOAD_LIMIT + 1),
                                             {"X-Xsrftoken": browser.xsrf()})
        assert status == 413 and "X-Upstream" not in headers     # refused by nginx, never sent on


def test_stop_leaves_no_process(cluster):
    running, url, servers = cluster
    groups = [p.pid for p in running.processes]                  # each was started as its own group leader
    assert len(groups) == 3
    started = time.monotonic()
    running.stop()
    took = time.monotonic() - started
    assert all(group_gone(pgid) for pgid in groups)
    for address in [url.removeprefix("http://"), *servers]:
        host, port = address.rsplit(":", 1)
        with pytest.raises(OSError):
            socket.create_connection((host, int(port)), timeout=2).close()
    print(f"stopped in {took:.1f} s")
    assert took < 15


def test_stop_ends_the_whole_process_group():
    """An app server's children (training workers) go with it, even one that ignores SIGTERM."""
    import subprocess
    leader = subprocess.Popen(["bash", "-c", "sleep 300 & (trap '' TERM; sleep 300) & wait"], start_new_session=True)
    deadline = time.monotonic() + 10
    while len(serve_cluster.group_members(leader.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(serve_cluster.group_members(leader.pid)) >= 3    # bash and its two sleeps
    serve_cluster.stop_groups([leader], timeout=1)
    assert leader.returncode is not None
    assert group_gone(leader.pid)
