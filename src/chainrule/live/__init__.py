"""The live training page: watch a network learn on your own data, and see every number of a step.

>>> from chainrule.live import playground
>>> handle = playground(open_browser=False)  # doctest: +SKIP
>>> handle.url  # doctest: +SKIP
'http://127.0.0.1:8750/'
>>> handle.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import html
import threading
import warnings
import webbrowser
from typing import Any

from chainrule.live.data import read_path
from chainrule.live.reach import reach_warning
from chainrule.live.server import MAX_UPLOAD, PlaygroundServer
from chainrule.live.session import Session
from chainrule.live.sessions import Sessions

DEFAULT_PORT = 8750

__all__ = ["DEFAULT_PORT", "Playground", "playground"]


class Playground:
    """A running playground: its server, its training thread and its URL.

    `playground` makes one; it is also a context manager that stops the page on exit.

    Parameters
    ----------
    server : PlaygroundServer
        The bound HTTP server with its sessions; serving starts in a background thread.

    Attributes
    ----------
    url : str
        The page's address, such as ``http://127.0.0.1:8750/``.
    session : Session
        The data, network and optimizer behind the first tab (every tab's when shared).
    sessions : Sessions
        Every tab's session.

    Examples
    --------
    >>> import urllib.request
    >>> import chainrule as cr
    >>> with cr.playground(open_browser=False, port=0) as page:  # port 0: any free port
    ...     print(page)
    ...     with urllib.request.urlopen(page.url, timeout=30) as response:
    ...         print(response.status)
    Playground('http://127.0.0.1:...', running)
    200
    >>> page
    Playground('http://127.0.0.1:...', stopped)
    """

    def __init__(self, server: PlaygroundServer) -> None:
        self.server, self.sessions = server, server.sessions
        self.session = self.sessions.first
        host, port = server.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        self.url = f"http://{shown}:{port}/"
        self._stop = server.stopping
        self._threads = [
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop training and the server, and close its socket."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.sessions.join()

    def wait(self) -> None:
        """Block until `stop` is called (or Ctrl-C)."""
        self._stop.wait()

    def __enter__(self) -> Playground:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        return f'<iframe src="{url}" width="100%" height="820" style="border:0"></iframe>'

    def __repr__(self) -> str:
        state = "stopped" if self._stop.is_set() else "running"
        return f"Playground({self.url!r}, {state})"


def playground(
    data: Any = None,
    target: str | None = None,
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    open_browser: bool = True,
    max_upload: int = MAX_UPLOAD,
    shared: bool = False,
) -> Playground:
    """Start the live training page in the background and return its handle.

    Parameters
    ----------
    data : str, path or pandas.DataFrame, optional
        A table to start with: a file path (CSV, or ``.npz``/``.npy``, read as ``chainrule train``
        reads it) or a DataFrame. Default: the built-in circle data set.
    target : str, optional
        The column to predict; default the last column.
    port : int
        The port to listen on; if it is taken, a free one is used instead.
    host : str
        The address to bind; the default serves this machine only. Any other address warns
        (a `UserWarning`) naming who else can open the page and change the session.
    open_browser : bool
        Open the page in the default web browser.
    max_upload : int
        The largest CSV upload accepted, in bytes.
    shared : bool
        One session for every tab (a class watching one run); by default each tab has its own,
        and a link opened in a new tab restores its setup there without touching the others.

    Returns
    -------
    Playground
        With ``.url``, ``.stop()``, and an IFrame for Jupyter (``_repr_html_``).

    Examples
    --------
    Serve a table of your own on this machine, without opening a browser:

    >>> import chainrule as cr
    >>> from chainrule.datasets import admissions_path
    >>> page = cr.playground(admissions_path(), target="admit", open_browser=False, port=0)
    >>> page.url.startswith("http://127.0.0.1:")
    True
    >>> page.stop()
    """
    frame, source = data, ""
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        source = str(data)
        frame = read_path(source)
    stop = threading.Event()
    sessions = Sessions(lambda: Session(frame, target, source), stop, shared=shared)
    try:
        server = PlaygroundServer((host, port), sessions, max_upload)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            stop.set()
            raise
        server = PlaygroundServer((host, 0), sessions, max_upload)
    server.stopping = stop
    exposed = reach_warning(host, server.server_address[1])
    if exposed is not None:
        warnings.warn(exposed, UserWarning, stacklevel=2)
    handle = Playground(server)
    if open_browser:
        webbrowser.open(handle.url)
    return handle
