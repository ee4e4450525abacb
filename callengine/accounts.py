"""Admin accounts: users, roles, argon2id passwords and API tokens. No Flask here.

Every change is written to the audit log in the same transaction, by whoever calls it
(the web views or the CLI).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callengine.audit import Actor, record_in
from callengine.clock import Clock, SystemClock, from_db, to_db
from callengine.errors import CallengineError
from callengine.settings import Settings
from callengine.store.accounts import ROLE_ADMIN, ROLES, ApiToken, User
from callengine.store.db import Database

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MAX_USERNAME = 64
TOKEN_PREFIX = 8  # characters of a token kept in clear, to tell tokens apart


class AccountError(CallengineError):
    """A refused account change; `code` is stable, the message is Vietnamese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Account:
    """A user as the rest of the code sees it (never the password hash)."""

    id: int
    username: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    password_changed_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: `token` is shown once and never stored."""

    id: int
    token: str
    prefix: str


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed: its prefix and dates, never the token."""

    id: int
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def fold_username(username: str) -> str:
    """The stored form of a user name: trimmed and case-folded."""
    return username.strip().casefold()


def check_password(password: str) -> None:
    """Refuse a password that is too short (or absurdly long)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError("weak_password",
                           f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.")
    if len(password) > MAX_PASSWORD:
        raise AccountError("weak_password", "Mật khẩu quá dài.")


def _check_username(username: str) -> str:
    folded = fold_username(username)
    if not 3 <= len(folded) <= MAX_USERNAME or not folded.isprintable():
        raise AccountError("bad_username", f"Tên đăng nhập phải có từ 3 đến {MAX_USERNAME} "
                                           "ký tự in được.")
    return folded


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError("bad_role", f"Vai trò {role!r} không hợp lệ "
                                       f"(chọn một trong: {', '.join(ROLES)}).")


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _account(user: User) -> Account:
    return Account(
        id=user.id, username=user.username, role=user.role, active=user.active,
        created_at=from_db(user.created_at),
        last_login_at=from_db(user.last_login_at) if user.last_login_at else None,
        password_changed_at=from_db(user.password_changed_at))


def _token_info(token: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=token.id, prefix=token.prefix, created_at=from_db(token.created_at),
        last_used_at=from_db(token.last_used_at) if token.last_used_at else None,
        revoked_at=from_db(token.revoked_at) if token.revoked_at else None)


class Accounts:
    """Commands and queries on accounts; the one writer of users and tokens."""

    def __init__(self, db: Database, *, time_cost: int = 3, memory_kib: int = 65536,
                 clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._dummy_hash: str | None = None

    @classmethod
    def from_settings(cls, db: Database, settings: Settings,
                      clock: Clock | None = None) -> Accounts:
        """Accounts hashing with the configured argon2id parameters."""
        return cls(db, time_cost=settings.admin_password_time_cost,
                   memory_kib=settings.admin_password_memory_kib, clock=clock)

    # -- queries

    def get(self, user_id: int) -> Account | None:
        """The account with this id, or None."""
        with self.db.session() as session:
            user = session.get(User, user_id)
            return _account(user) if user else None

    def by_username(self, username: str) -> Account | None:
        """The account with this user name (any case), or None."""
        with self.db.session() as session:
            user = self._find(session, username)
            return _account(user) if user else None

    def list_users(self) -> list[Account]:
        """Every account, by user name."""
        with self.db.session() as session:
            return [_account(u) for u in session.scalars(select(User).order_by(User.username))]

    def list_tokens(self, user_id: int) -> list[TokenInfo]:
        """A user's API tokens, newest first."""
        with self.db.session() as session:
            tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                     .order_by(ApiToken.id.desc()))
            return [_token_info(t) for t in tokens]

    # -- commands

    def create_user(self, username: str, password: str, role: str, *,
                    actor: Actor | None = None) -> Account:
        """A new active account; AccountError if the name is taken or a value is bad."""
        folded = _check_username(username)
        _check_role(role)
        check_password(password)
        now = self.clock.now()
        with self.db.session() as session:
            if self._find(session, folded) is not None:
                raise AccountError("username_taken", "Tên đăng nhập này đã có người dùng.")
            user = User(username=folded, password_hash=self.hasher.hash(password), role=role,
                        active=True, created_at=to_db(now), password_changed_at=to_db(now))
            session.add(user)
            session.flush()
            record_in(session, "user.create", actor=actor, at=now, object_type="user",
                      object_id=user.id, detail={"username": folded, "role": role})
            return _account(user)

    def authenticate(self, username: str, password: str) -> Account | None:
        """The active account if the password is right; as slow for unknown users."""
        with self.db.session() as session:
            user = self._find(session, username)
            if user is None:
                self._verify(self._dummy(), password)
                return None
            if not self._verify(user.password_hash, password) or not user.active:
                return None
            if self.hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self.hasher.hash(password)
            user.last_login_at = to_db(self.clock.now())
            return _account(user)

    def set_password(self, user_id: int, password: str, *,
                     actor: Actor | None = None) -> Account:
        """A new password; the user's other sessions end."""
        check_password(password)
        now = self.clock.now()
        with self.db.session() as session:
            user = self._user(session, user_id)
            user.password_hash = self.hasher.hash(password)
            user.password_changed_at = to_db(now)
            record_in(session, "user.password", actor=actor, at=now, object_type="user",
                      object_id=user.id)
            return _account(user)

    def set_role(self, user_id: int, role: str, *, actor: Actor | None = None) -> Account:
        """Change a role; the last active admin keeps theirs."""
        _check_role(role)
        now = self.clock.now()
        with self.db.session() as session:
            user = self._user(session, user_id)
            if user.role == ROLE_ADMIN and role != ROLE_ADMIN:
                self._keep_an_admin(session, user)
            before, user.role = user.role, role
            record_in(session, "user.role", actor=actor, at=now, object_type="user",
                      object_id=user.id, detail={"from": before, "to": role})
            return _account(user)

    def set_active(self, user_id: int, active: bool, *,
                   actor: Actor | None = None) -> Account:
        """Disable (sessions and tokens stop working) or enable an account."""
        now = self.clock.now()
        with self.db.session() as session:
            user = self._user(session, user_id)
            if not active and user.role == ROLE_ADMIN:
                self._keep_an_admin(session, user)
            user.active = active
            record_in(session, "user.enable" if active else "user.disable", actor=actor,
                      at=now, object_type="user", object_id=user.id)
            return _account(user)

    def issue_token(self, user_id: int, *, actor: Actor | None = None) -> IssuedToken:
        """A new API token for the user; only its hash is kept."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.db.session() as session:
            user = self._user(session, user_id)
            row = ApiToken(user_id=user.id, token_hash=token_hash(token),
                           prefix=token[:TOKEN_PREFIX], created_at=to_db(now))
            session.add(row)
            session.flush()
            record_in(session, "token.issue", actor=actor, at=now, object_type="user",
                      object_id=user.id, detail={"token_id": row.id, "prefix": row.prefix})
            return IssuedToken(id=row.id, token=token, prefix=row.prefix)

    def revoke_token(self, token_id: int, *, actor: Actor | None = None) -> None:
        """A token stops working at once."""
        now = self.clock.now()
        with self.db.session() as session:
            row = session.get(ApiToken, token_id)
            if row is None:
                raise AccountError("no_such_token", "Không tìm thấy mã truy cập này.")
            row.revoked_at = row.revoked_at or to_db(now)
            record_in(session, "token.revoke", actor=actor, at=now, object_type="user",
                      object_id=row.user_id, detail={"token_id": row.id, "prefix": row.prefix})

    def user_for_token(self, token: str) -> Account | None:
        """The active account a live token belongs to, or None."""
        with self.db.session() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
            if row is None or row.revoked_at is not None:
                return None
            user = session.get(User, row.user_id)
            if user is None or not user.active:
                return None
            row.last_used_at = to_db(self.clock.now())
            return _account(user)

    # -- helpers

    def _find(self, session: Session, username: str) -> User | None:
        return session.scalar(select(User).where(User.username == fold_username(username)))

    def _user(self, session: Session, user_id: int) -> User:
        user = session.get(User, user_id)
        if user is None:
            raise AccountError("no_such_user", "Không tìm thấy tài khoản này.")
        return user

    def _keep_an_admin(self, session: Session, user: User) -> None:
        admins = session.scalar(select(func.count()).select_from(User).where(
            User.role == ROLE_ADMIN, User.active.is_(True), User.id != user.id))
        if not admins:
            raise AccountError("last_admin", "Không thể bỏ quyền hoặc khóa quản trị viên "
                                             "cuối cùng còn hoạt động.")

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash
