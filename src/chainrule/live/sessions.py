"""The playground's sessions: one per browser tab by default, or one shared by every tab.

A tab asks for a session when it opens (``POST /api/session``) and names it in every later
request (``?session=ID``). By default each tab gets its own run, so a link opened in a second
tab restores its setup there instead of resetting the run a teacher is projecting; the first
tab gets the session the playground started with (``Playground.session``). With ``shared=True``
(``chainrule playground --shared``) every tab gets that one session: a class watching one run.
A request that names no session uses the first one (scripts, and pages from older versions).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

from chainrule.live.session import Session

MAX_SESSIONS = 32  # beyond this, the session used least recently (not the first) is closed


class UnknownSessionError(KeyError):
    """A session id this server does not know (closed, or from a server since restarted)."""


class Sessions:
    """Every session, each with its own training thread.

    Parameters
    ----------
    make : callable
        Makes a fresh session (the playground's starting table and the default settings).
    stop : threading.Event
        Set when the playground stops: every training thread ends.
    shared : bool
        One session for every tab.
    limit : int
        The most sessions kept at once.
    """

    def __init__(
        self,
        make: Callable[[], Session],
        stop: threading.Event,
        shared: bool = False,
        limit: int = MAX_SESSIONS,
    ) -> None:
        self.make, self.stop, self.shared, self.limit = make, stop, shared, max(1, int(limit))
        self.lock = threading.Lock()
        self.by_id: dict[str, Session] = {}
        self.used: dict[str, float] = {}
        self.closers: dict[str, threading.Event] = {}
        self.threads: list[threading.Thread] = []
        self.claimed = False
        self.first_id = self._start(make())

    @property
    def first(self) -> Session:
        """The session the playground started with (the first tab's, or everyone's when shared)."""
        return self.by_id[self.first_id]

    def _start(self, session: Session) -> str:
        sid = secrets.token_urlsafe(12)
        closed = threading.Event()
        thread = threading.Thread(target=self._train, args=(session, closed), daemon=True)
        self.by_id[sid], self.used[sid], self.closers[sid] = session, time.monotonic(), closed
        self.threads.append(thread)
        thread.start()
        return sid

    def _train(self, session: Session, closed: threading.Event) -> None:
        either = _Either(self.stop, closed)
        session.run(either)  # type: ignore[arg-type]

    def open(self, wanted: str | None = None) -> str:
        """The id of a tab's session: its own if it still exists, else the first (once, or always
        when shared), else a new one."""
        with self.lock:
            if wanted in self.by_id:
                self.used[wanted] = time.monotonic()
                return wanted
            if self.shared or not self.claimed:
                self.claimed = True
                return self.first_id
        session = self.make()  # outside the lock: building the data takes a moment
        with self.lock:
            self._evict()
            return self._start(session)

    def _evict(self) -> None:
        while len(self.by_id) >= self.limit:
            oldest = min((sid for sid in self.by_id if sid != self.first_id), key=self.used.__getitem__)
            self.closers.pop(oldest).set()
            del self.by_id[oldest], self.used[oldest]

    def get(self, sid: str | None) -> Session:
        """The session named ``sid`` (the first when None).

        Raises
        ------
        UnknownSessionError
            If ``sid`` names no open session.
        """
        with self.lock:
            if not sid:
                return self.first
            if sid not in self.by_id:
                raise UnknownSessionError(sid)
            self.used[sid] = time.monotonic()
            return self.by_id[sid]

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the training threads to end (after ``stop`` is set)."""
        for thread in self.threads:
            thread.join(timeout=timeout)


class _Either:
    """Two events read as one by `Session.run`: set when either is."""

    def __init__(self, a: threading.Event, b: threading.Event) -> None:
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()

    def wait(self, timeout: float) -> bool:
        self.a.wait(timeout)
        return self.is_set()
