"""Read-only copies of the embedded Oxigraph store, for the worker processes to query."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from catalog.store import OxigraphStore

from .errors import EngineUnavailable

log = logging.getLogger("umud.sparql")

# Snapshot folders are named umud-sparql-{pid}-{random}, so a later process can remove stale ones.
SNAPSHOT_PREFIX = "umud-sparql-"


class StoreSnapshots:
    """Read-only copies of an Oxigraph store, taken when its generation changes.

    Opening the live store read-only while the web process writes to it is undefined behaviour
    in Oxigraph, so workers read these copies. A copy is removed once it is stale and no
    running query uses it.
    """

    def __init__(self, store: OxigraphStore, private_prefixes: tuple[str, ...] = ()):
        self._store = store
        # Graphs whose name starts with one of these are removed from every snapshot, so that
        # queries never see them (harvest candidates waiting for a curator).
        self._private_prefixes = private_prefixes
        self._lock = threading.Lock()
        self._root: Path | None = None
        self._count = 0
        self._current: tuple[int, Path] | None = None  # (store generation, path)
        self._users: dict[Path, int] = {}
        self._closed = False

    def acquire(self) -> Path:
        """Return the path of an up-to-date snapshot, marked in use until `release`."""
        with self._lock:
            if self._closed:
                raise EngineUnavailable("The SPARQL endpoint is shutting down.")
            generation = self._store.generation
            if self._current is None or self._current[0] != generation:
                self._current = (generation, self._take(generation))
                self._remove_unused()
            path = self._current[1]
            self._users[path] += 1
            return path

    def release(self, path: Path) -> None:
        with self._lock:
            if path in self._users:  # absent once close() has removed every snapshot
                self._users[path] -= 1
                self._remove_unused()

    def _take(self, generation: int) -> Path:
        if self._root is None:
            _remove_stale_snapshots()
            self._root = Path(tempfile.mkdtemp(prefix=f"{SNAPSHOT_PREFIX}{os.getpid()}-"))
        self._count += 1
        path = self._root / f"snapshot-{self._count}"
        try:
            self._store.backup(path)
            if self._private_prefixes:
                _drop_private_graphs(path, self._private_prefixes)
        except (OSError, RuntimeError) as error:
            log.error("cannot copy the store %s to %s: %s", self._store.path, path, error)
            shutil.rmtree(path, ignore_errors=True)
            raise EngineUnavailable("The store could not be prepared for querying; try again.") from None
        self._users[path] = 0
        log.debug("took snapshot %s of store generation %d", path, generation)
        return path

    def _remove_unused(self) -> None:
        current = self._current[1] if self._current else None
        for path, users in list(self._users.items()):
            if path != current and users == 0:
                del self._users[path]
                shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
            self._root, self._current, self._users = None, None, {}


def _remove_stale_snapshots() -> None:
    """Remove the snapshot folders of web processes that ended without close(), e.g. by a signal."""
    if os.name != "posix":
        return
    for path in Path(tempfile.gettempdir()).glob(f"{SNAPSHOT_PREFIX}*-*"):
        pid = path.name[len(SNAPSHOT_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            log.info("removing %s, left by process %s", path, pid)
            shutil.rmtree(path, ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_private_graphs(path: Path, prefixes: tuple[str, ...]) -> None:
    """Remove the graphs named with one of `prefixes` from the snapshot at `path`."""
    import pyoxigraph as ox

    snapshot = ox.Store(str(path))
    try:
        for graph in list(snapshot.named_graphs()):
            if isinstance(graph, ox.NamedNode) and graph.value.startswith(prefixes):
                snapshot.remove_graph(graph)
        snapshot.flush()
    finally:
        del snapshot
