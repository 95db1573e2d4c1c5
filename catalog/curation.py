"""Curators and submissions, kept apart from the public store in a private SQLite file.

Submissions wait here until a curator accepts or rejects them, so no pending record ever reaches
the store that the pages and the SPARQL endpoint read. Passwords are hashed with Argon2id
(argon2-cffi); API tokens are random and only their SHA-256 digest is stored.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

CURATOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 12
STATUSES = ("pending", "accepted", "rejected")

SCHEMA = """
CREATE TABLE IF NOT EXISTS curators (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    curator TEXT NOT NULL REFERENCES curators (name) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    warnings TEXT NOT NULL,
    origin TEXT NOT NULL,
    submitted TEXT NOT NULL,
    decided TEXT,
    curator TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS submissions_status ON submissions (status, submitted);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class CurationError(ValueError):
    """A request the curation data cannot fulfil; the message gives the reason and what to do."""


@dataclass(frozen=True)
class Submission:
    id: str
    name: str
    status: str
    record: dict
    warnings: list[dict]
    origin: str
    submitted: str
    decided: str | None
    curator: str | None
    reason: str | None


class Curation:
    """The private curation database; `path` is a file, or ":memory:"."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA foreign_keys = ON")
        self._connection.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._hasher = PasswordHasher()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def secret_key(self) -> str:
        """Return the key that signs session cookies, made once and kept in the database."""
        with self._lock:
            row = self._connection.execute("SELECT value FROM settings WHERE key = 'secret_key'").fetchone()
            if row:
                return row[0]
            key = secrets.token_hex(32)
            self._connection.execute("INSERT INTO settings VALUES ('secret_key', ?)", (key,))
            return key

    # Curators

    def add_curator(self, name: str, password: str) -> None:
        if not CURATOR_NAME.match(name):
            raise CurationError(f"invalid curator name '{name}': use 2 to 64 letters, digits, '.', '_' or '-'")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise CurationError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        password_hash = self._hasher.hash(password)
        with self._lock:
            try:
                self._connection.execute("INSERT INTO curators VALUES (?, ?, ?)", (name, password_hash, _now()))
            except sqlite3.IntegrityError:
                raise CurationError(f"a curator named '{name}' exists already") from None

    def remove_curator(self, name: str) -> None:
        with self._lock:
            if self._connection.execute("DELETE FROM curators WHERE name = ?", (name,)).rowcount == 0:
                raise CurationError(f"there is no curator named '{name}'")

    def curators(self) -> list[tuple[str, str]]:
        """Return (name, created) of every curator."""
        with self._lock:
            return self._connection.execute("SELECT name, created FROM curators ORDER BY name").fetchall()

    def check_password(self, name: str, password: str) -> bool:
        with self._lock:
            row = self._connection.execute("SELECT password_hash FROM curators WHERE name = ?", (name,)).fetchone()
        if row is None:
            # Hash anyway, so the time taken does not tell whether the account exists.
            self._hasher.hash(password)
            return False
        try:
            return self._hasher.verify(row[0], password)
        except (VerificationError, InvalidHashError):
            return False

    def is_curator(self, name: str) -> bool:
        with self._lock:
            return self._connection.execute("SELECT 1 FROM curators WHERE name = ?", (name,)).fetchone() is not None

    def create_token(self, name: str, label: str = "") -> str:
        """Return a new API token of a curator; only its digest is stored, so it is shown once."""
        if not self.is_curator(name):
            raise CurationError(f"there is no curator named '{name}'")
        token = "umud_" + secrets.token_urlsafe(32)
        with self._lock:
            self._connection.execute("INSERT INTO tokens VALUES (?, ?, ?, ?)",
                                     (_digest(token), name, label or "API token", _now()))
        return token

    def token_curator(self, token: str) -> str | None:
        """Return the curator a token belongs to, or None for an unknown token."""
        with self._lock:
            row = self._connection.execute("SELECT curator FROM tokens WHERE digest = ?", (_digest(token),)).fetchone()
        return row[0] if row else None

    # Submissions

    def submit(self, record: dict, warnings: list[dict], origin: str) -> Submission:
        """Keep a validated record (our JSON format) for review; returns the new submission."""
        submission_id = uuid.uuid4().hex
        with self._lock:
            self._connection.execute(
                "INSERT INTO submissions (id, name, status, record, warnings, origin, submitted) "
                "VALUES (?, ?, 'pending', ?, ?, ?, ?)",
                (submission_id, record["name"], json.dumps(record), json.dumps(warnings), origin, _now()))
        return self.submission(submission_id)

    def submission(self, submission_id: str) -> Submission | None:
        with self._lock:
            row = self._connection.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        return _submission(row) if row else None

    def submissions(self, status: str = "pending") -> list[Submission]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT * FROM submissions WHERE status = ? ORDER BY submitted, id", (status,)).fetchall()
        return [_submission(row) for row in rows]

    def edit(self, submission_id: str, record: dict, warnings: list[dict]) -> None:
        """Replace the record of a pending submission with a curator's edited one."""
        with self._lock:
            changed = self._connection.execute(
                "UPDATE submissions SET record = ?, warnings = ?, name = ? WHERE id = ? AND status = 'pending'",
                (json.dumps(record), json.dumps(warnings), record["name"], submission_id)).rowcount
        if not changed:
            raise CurationError("only a pending submission can be edited")

    def decide(self, submission_id: str, status: str, curator: str, reason: str) -> None:
        """Mark a pending submission accepted or rejected; raises CurationError if it is not pending."""
        if status not in {"accepted", "rejected"}:
            raise CurationError(f"unknown decision '{status}'")
        with self._lock:
            changed = self._connection.execute(
                "UPDATE submissions SET status = ?, curator = ?, reason = ?, decided = ? "
                "WHERE id = ? AND status = 'pending'", (status, curator, reason, _now(), submission_id)).rowcount
        if not changed:
            raise CurationError("this submission was decided already")


def _submission(row) -> Submission:
    (submission_id, name, status, record, warnings, origin, submitted, decided, curator, reason) = row
    return Submission(submission_id, name, status, json.loads(record), json.loads(warnings), origin, submitted,
                      decided, curator, reason)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
