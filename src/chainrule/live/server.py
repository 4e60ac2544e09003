"""The playground's HTTP server: static page, JSON API, Server-Sent Events; safe by default.

Every request must name this server in its ``Host`` header (``localhost``, an IP address,
or the bound host name, with the right port): a page on another domain that rebinds its
DNS name to 127.0.0.1 is refused. A request that changes state (POST) must also carry the
session's token in an ``X-Chainrule-Token`` header (the page reads it from the ``<meta>`` tag
the server writes into ``index.html``, as Jupyter's pages hold theirs), and its ``Origin``, when
sent, must be this server's own: ``http://`` plus the host it was reached by, ``127.0.0.1``,
``localhost`` or the bound name, and this port. A page served from anywhere else can neither
read the token (the same-origin rule) nor send the header without a CORS preflight, which this
server never grants, so it cannot act even where the browser sends no ``Sec-Fetch-Site``.
Uploads are capped, and the page never names a file-system path.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import secrets
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import chainrule as cr
import chainrule.live.config as cfg
from chainrule.live.session import Session
from chainrule.live.sessions import Sessions, UnknownSessionError

MAX_UPLOAD = 10 * 1024 * 1024
MAX_JSON = 64 * 1024
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
STATIC_NAME = re.compile(r"^[a-z0-9_-]+\.(html|js|css|svg)$")
TOKEN_HEADER = "X-Chainrule-Token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def static_files() -> dict[str, bytes]:
    """Every asset of the page, by file name (read once from the installed package)."""
    folder = resources.files("chainrule.live") / "static"
    return {item.name: item.read_bytes() for item in folder.iterdir() if STATIC_NAME.match(item.name)}


class PlaygroundServer(ThreadingHTTPServer):
    """A `ThreadingHTTPServer` holding the sessions, the assets and the stop signal."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sessions: Sessions, max_upload: int = MAX_UPLOAD) -> None:
        super().__init__(address, Handler)
        self.sessions, self.max_upload = sessions, max_upload
        self.assets = static_files()
        self.stopping = threading.Event()
        self.bound_host = address[0]
        self.token = secrets.token_urlsafe(32)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or stalls is normal: no traceback (anything else still prints one)."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def page(self) -> bytes:
        """``index.html`` with this session's token in a ``<meta>`` tag for the page's requests."""
        tag = f'<meta name="chainrule-token" content="{self.token}">'.encode("ascii")
        return self.assets["index.html"].replace(b"<head>", b"<head>\n" + tag, 1)

    def token_valid(self, header: str | None) -> bool:
        """Whether a request carries this session's token (compared in constant time)."""
        return header is not None and hmac.compare_digest(header.encode("utf-8"), self.token.encode("ascii"))

    def origin_allowed(self, origin: str, host_header: str) -> bool:
        """Whether an ``Origin`` is this server's own: ``http``, this port, and the host the request
        was sent to (its ``Host`` header), a loopback name or the bound name."""
        parsed = urlsplit(origin)
        try:
            port = parsed.port or 80
        except ValueError:
            return False
        if parsed.scheme != "http" or port != self.server_address[1] or parsed.path not in ("", "/"):
            return False
        reached = (urlsplit(f"//{host_header}").hostname or "").lower()
        own = {*LOOPBACK_NAMES, self.bound_host.lower(), reached}
        return (parsed.hostname or "").lower() in own

    @property
    def session(self) -> Session:
        """The first session (every tab's with ``--shared``)."""
        return self.sessions.first

    def host_allowed(self, header: str | None) -> bool:
        """Whether a ``Host`` header names this server (not a rebound domain name)."""
        if not header:
            return False
        parsed = urlsplit(f"//{header}")
        try:
            port = parsed.port
        except ValueError:
            return False
        name = (parsed.hostname or "").lower()
        if port != self.server_address[1]:
            return False
        if name in ("localhost", self.bound_host.lower()):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


class Handler(BaseHTTPRequestHandler):
    """Routes: ``/``, ``/static/*``, ``/api/state|data|events|model|model.onnx`` and POSTs."""

    server: PlaygroundServer
    session: Session
    server_version = "chainrule-playground"
    timeout = 30  # seconds a client may leave a request unfinished (a stalled upload, say)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the page is the interface
        pass

    # -------------------------------------------------------------------------- replies
    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, payload: Any, status: int = 200) -> None:
        body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode("utf-8")
        self._send(status, body, "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json({"ok": False, "error": message}, status)

    def _guard(self, changes_state: bool) -> bool:
        try:  # the tab's session, named by ?session=ID (none named: the first)
            self.session = self.server.sessions.get(
                parse_qs(urlsplit(self.path).query).get("session", [""])[0]
            )
        except UnknownSessionError:
            self._error(
                HTTPStatus.GONE, "this tab's session has ended (the server closed it): reload the page"
            )
            return False
        if not self.server.host_allowed(self.headers.get("Host")):
            self._error(HTTPStatus.FORBIDDEN, "refused: the Host header does not name this server")
            return False
        if changes_state:
            origin = self.headers.get("Origin")
            foreign = origin is not None and not self.server.origin_allowed(origin, self.headers["Host"])
            if foreign or self.headers.get("Sec-Fetch-Site") == "cross-site":
                self._error(HTTPStatus.FORBIDDEN, "refused: another site cannot change the playground")
                return False
            if not self.server.token_valid(self.headers.get(TOKEN_HEADER)):
                self._error(
                    HTTPStatus.FORBIDDEN,
                    f"refused: a request that changes the playground needs the {TOKEN_HEADER} header "
                    "of the page this server serves (reload the page)",
                )
                return False
        return True

    # -------------------------------------------------------------------------- GET
    def do_GET(self) -> None:
        if not self._guard(changes_state=False):
            return
        url = urlsplit(self.path)
        path, session = url.path, self.session
        if path in ("/", "/index.html"):
            self._send(200, self.server.page(), "text/html; charset=utf-8")
        elif path.startswith("/static/"):
            name = path[len("/static/") :]
            if name not in self.server.assets:
                self._error(HTTPStatus.NOT_FOUND, f"no such asset: {name}")
                return
            kind = CONTENT_TYPES[name[name.rindex(".") :]]
            self._send(200, self.server.assets[name], f"{kind}; charset=utf-8")
        elif path == "/api/state":  # the last published frame: a read never waits for training
            frame = json.loads(session.mailbox.latest())
            self._json(
                {
                    **frame,
                    "data": session.data.describe(),
                    "options": options(),
                    "max_upload": self.server.max_upload,
                }
            )
        elif path == "/api/data":
            self._json({**session.data.describe(), "data_version": session.data_version})
        elif path == "/api/events":
            self._events()
        elif path in ("/api/model", "/api/model.onnx"):
            self._model("onnx" if path.endswith(".onnx") else "npz")
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such page: {path}")

    def _model(self, kind: str) -> None:
        try:
            body = self.session.model_bytes(kind)
        except ImportError as exc:
            self._error(HTTPStatus.NOT_IMPLEMENTED, str(exc))
            return
        name = f"chainrule-playground.{kind}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        self._send(200, body, "application/octet-stream", disposition)

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        mailbox, seen = self.session.mailbox, 0
        try:
            while not self.server.stopping.is_set():
                item = mailbox.wait_newer(seen, 1.0)
                if item is None:
                    self.wfile.write(b": keep-alive\n\n")
                else:
                    seen, text = item
                    self.wfile.write(b"data: " + text.encode("utf-8") + b"\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return

    # -------------------------------------------------------------------------- POST
    def do_POST(self) -> None:
        if not self._guard(changes_state=True):
            return
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._error(HTTPStatus.BAD_REQUEST, "a POST needs a valid Content-Length")
            return
        if url.path == "/api/upload":
            self._upload(url.query, length)
            return
        if length > MAX_JSON:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the request is too large")
            return
        raw = self._whole_body(length, "the request", "send it again")
        if raw is None:
            return
        try:
            body = json.loads(raw or b"{}", parse_constant=_refuse_constant)
        except ValueError as exc:
            self._error(HTTPStatus.BAD_REQUEST, f"the request body is not JSON the playground reads ({exc})")
            return
        if not isinstance(body, dict):
            kind = "null" if body is None else type(body).__name__
            self._error(
                HTTPStatus.BAD_REQUEST, f"the request body must be a JSON object ({{...}}), not {kind}"
            )
            return
        try:
            if url.path == "/api/session":
                sid = self.server.sessions.open(str(body.get("session") or "") or None)
                self._json({"ok": True, "session": sid, "shared": self.server.sessions.shared})
            elif url.path == "/api/command":
                self._command(body)
            elif url.path == "/api/explain":
                split, index = str(body.get("split", "train")), int(body.get("index", -1))
                self._json({"ok": True, **self.session.explain(split, index)})
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no such command endpoint: {url.path}")
        except (cr.ChainruleError, ValueError, TypeError, KeyError, OverflowError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, " ".join(str(exc).split()))

    def _command(self, body: dict[str, Any]) -> None:
        session, command = self.session, body.get("cmd")
        if command in ("play", "pause", "toggle"):
            session.set_playing(command == "play" or (command == "toggle" and not session.playing))
        elif command == "step":
            session.step()
        elif command == "reset":
            session.reset()
        elif command == "new_seed":
            session.new_seed()
        elif command == "config":
            session.configure(body.get("config", {}))
        elif command == "focus":
            session.set_focus(body.get("layer"), body.get("unit"))
        else:
            raise ValueError(f"unknown command {command!r}")
        self._json({"ok": True, "playing": session.playing, "epoch": session.epoch})

    def _upload(self, query: str, length: int) -> None:
        cap = self.server.max_upload
        if length > cap:
            self._error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the file is {_size(length)}; the playground accepts tables up to {_size(cap)}",
            )
            self._drain(length, 4 * cap)
            return
        params = parse_qs(query)
        name = params.get("name", ["upload.csv"])[0]
        target = params.get("target", [None])[0]
        data = self._whole_body(length, f"{name}: the upload", "upload the file again")
        if data is None:
            return
        try:
            self.session.upload(data, name, target)
        except cr.ChainruleError as exc:
            self._error(HTTPStatus.BAD_REQUEST, f"{name}: {exc}")
            return
        self._json({"ok": True, "rows": len(self.session.data.X)})

    def _whole_body(self, length: int, what: str, fix: str) -> bytes | None:
        """The body's ``length`` bytes, or None after a 400 when the client hung up or stalled
        first: part of a request (a JSON command, a file) is never acted on."""
        try:
            data = self.rfile.read(length)
        except TimeoutError:
            data = b""
        if len(data) == length:
            return data
        self.close_connection = True
        self._error(
            HTTPStatus.BAD_REQUEST,
            f"{what} was cut short ({len(data)} of {length} bytes arrived); nothing changed: {fix}",
        )
        return None

    def _drain(self, length: int, limit: int) -> None:
        """Read and drop a refused body (so the client sees the reply), unless it is huge."""
        if length > limit:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def options() -> dict[str, Any]:
    """The choices the page offers in its menus."""
    from chainrule.live.data import BUILTIN
    from chainrule.live.features import listing

    return {
        "datasets": BUILTIN,
        "features": listing(),
        "activations": cfg.ACTIVATIONS,
        "outputs": cfg.OUTPUTS,
        "losses": cfg.LOSSES,
        "optimizers": cfg.OPTIMIZERS,
        "schedules": cfg.SCHEDULES,
        "tasks": cfg.TASKS,
        "missing": cfg.MISSING,
        "max_units": cfg.MAX_UNITS,
        "max_layers": cfg.MAX_LAYERS,
        "defaults": cfg.DEFAULTS,
    }
