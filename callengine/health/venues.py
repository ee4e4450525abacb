"""Venues: registered places with a QR poster, found by their unguessable token.

A token is 17 random bytes (136 bits) in lowercase base32: 28 letters and digits 2-7, easy to
type from the poster (in groups of four) where a phone cannot scan. Rotating a token keeps
the old one in venue_retired_tokens, so an old poster gets a clear message instead of a 404.
"""

from __future__ import annotations

import base64
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from callengine.clock import from_db, to_db
from callengine.health.errors import InvalidForm, NotFound
from callengine.importer.text import fold
from callengine.paging import InvalidCursor, Page, decode_cursor, page_of
from callengine.phones import InvalidPhone, normalize_phone
from callengine.places import place_codes
from callengine.store.db import Database
from callengine.store.venues import VENUE_KINDS, RetiredVenueToken, Venue

TOKEN_BYTES = 17
TOKEN_PATTERN = re.compile(r"[a-z2-7]{28}")
MAX_STAY_MINUTES = 24 * 60
MAX_QUERY = 100
KIND_LABELS = {
    "shop": "Cửa hàng", "market": "Chợ", "office": "Cơ quan, văn phòng",
    "factory": "Nhà máy, xưởng", "school": "Trường học", "restaurant": "Nhà hàng, quán ăn",
    "health": "Cơ sở y tế", "other": "Khác",
}
_LENGTHS = {"name": 200, "address": 300, "district": 100, "commune": 100,
            "contact_name": 200}
_LIKE_SPECIAL = re.compile(r"([\\%_])")

# What a token names.
TOKEN_VALID = "valid"
TOKEN_ROTATED = "rotated"  # an old poster: the venue has a new code
TOKEN_INACTIVE = "inactive"  # the venue no longer takes check-ins
TOKEN_UNKNOWN = "unknown"


@dataclass(frozen=True)
class VenueView:
    """A venue as read back (times aware UTC)."""

    id: int
    name: str
    address: str
    district: str | None
    commune: str | None
    kind: str
    contact_name: str | None
    contact_phone: str | None
    latitude: float | None
    longitude: float | None
    stay_minutes: int | None
    token: str
    token_rotated_at: datetime | None
    active: bool
    created_at: datetime
    created_by: str | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def typed_code(self) -> str:
        return typed_code(self.token)


@dataclass(frozen=True)
class TokenLookup:
    status: str  # TOKEN_*
    venue: VenueView | None = None  # set when valid


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode().rstrip("=").lower()


def typed_code(token: str) -> str:
    """The token in groups of four for typing: 'abcd-efgh-...'."""
    return "-".join(token[i:i + 4] for i in range(0, len(token), 4))


def canonical_token(text: str) -> str | None:
    """The token a typed or scanned code stands for (case, spaces and dashes ignored)."""
    token = re.sub(r"[\s-]", "", text).lower()
    return token if TOKEN_PATTERN.fullmatch(token) else None


def checkin_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/c/{token}"


def view_of(venue: Venue) -> VenueView:
    return VenueView(
        venue.id, venue.name, venue.address, venue.district, venue.commune, venue.kind,
        venue.contact_name, venue.contact_phone, venue.latitude, venue.longitude,
        venue.stay_minutes, venue.token,
        from_db(venue.token_rotated_at) if venue.token_rotated_at else None, venue.active,
        from_db(venue.created_at), venue.created_by)


# --- validation ------------------------------------------------------------------------------


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _number(raw: Mapping[str, Any], name: str, errors: dict[str, str], label: str,
            low: float, high: float) -> float | None:
    value = raw.get(name)
    if value is None or str(value).strip() == "":
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        errors[name] = f"{label} '{value}' phải là số từ {low:g} đến {high:g}."
        return None
    return number


def _stay(raw: Mapping[str, Any], errors: dict[str, str]) -> int | None:
    number = _number(raw, "stay_minutes", errors, "Thời gian lưu lại (phút)", 1,
                     MAX_STAY_MINUTES)
    if number is not None and not number.is_integer():
        errors["stay_minutes"] = "Thời gian lưu lại (phút) phải là số nguyên."
        return None
    return None if number is None else int(number)


def _phone(raw: Mapping[str, Any], errors: dict[str, str]) -> str | None:
    text = _text(raw, "contact_phone")
    if text is None:
        return None
    try:
        return normalize_phone(text).e164
    except InvalidPhone as error:
        errors["contact_phone"] = str(error)
        return None


def venue_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A venue's columns from a form or JSON body, or InvalidForm naming every bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {name: _text(raw, name) for name in _LENGTHS}
    for name, limit in _LENGTHS.items():
        if values[name] and len(values[name]) > limit:
            errors[name] = f"Dài quá {limit} ký tự."
    if not values["name"]:
        errors["name"] = "Hãy nhập tên địa điểm."
    values["address"] = values["address"] or ""
    values["kind"] = _text(raw, "kind") or "other"
    if values["kind"] not in VENUE_KINDS:
        errors["kind"] = f"Loại địa điểm '{values['kind']}' không có ({', '.join(VENUE_KINDS)})."
    values["contact_phone"] = _phone(raw, errors)
    values["latitude"] = _number(raw, "latitude", errors, "Vĩ độ", -90, 90)
    values["longitude"] = _number(raw, "longitude", errors, "Kinh độ", -180, 180)
    if (values["latitude"] is None) != (values["longitude"] is None) and not errors.get(
            "latitude") and not errors.get("longitude"):
        errors["longitude"] = "Hãy nhập cả vĩ độ và kinh độ, hoặc bỏ trống cả hai."
    values["stay_minutes"] = _stay(raw, errors)
    if errors:
        raise InvalidForm(errors)
    values.update(place_codes(values.get("district"), values.get("commune")))
    return values


# --- writing ---------------------------------------------------------------------------------


def create_venue(db: Database, raw: Mapping[str, Any], *, now: datetime,
                 created_by: str | None) -> VenueView:
    """A new active venue with a fresh token."""
    values = venue_values(raw)
    with db.session() as s:
        venue = Venue(**values, name_key=fold(values["name"]), token=new_token(), active=True,
                      created_at=to_db(now), created_by=created_by)
        s.add(venue)
        s.flush()
        return view_of(venue)


def _venue(s: Session, venue_id: int) -> Venue:
    venue = s.get(Venue, venue_id)
    if venue is None:
        raise NotFound(f"Không có địa điểm số {venue_id}.")
    return venue


def update_venue(db: Database, venue_id: int, raw: Mapping[str, Any], *,
                 active: bool | None = None) -> VenueView:
    """Change a venue's details (and whether it takes check-ins); the token stays."""
    values = venue_values(raw)
    with db.session() as s:
        venue = _venue(s, venue_id)
        for name, value in values.items():
            setattr(venue, name, value)
        venue.name_key = fold(values["name"])
        if active is not None:
            venue.active = active
        return view_of(venue)


def rotate_token(db: Database, venue_id: int, *, now: datetime) -> VenueView:
    """A new token for the venue; the old one is kept as retired (old posters stop working)."""
    with db.session() as s:
        venue = _venue(s, venue_id)
        s.add(RetiredVenueToken(token=venue.token, venue_id=venue.id, retired_at=to_db(now)))
        venue.token = new_token()
        venue.token_rotated_at = to_db(now)
        return view_of(venue)


# --- reading ---------------------------------------------------------------------------------


def get_venue(db: Database, venue_id: int) -> VenueView:
    with db.session() as s:
        return view_of(_venue(s, venue_id))


def find_by_token(db: Database, text: str) -> TokenLookup:
    """What a scanned or typed code names: a venue taking check-ins, an old poster's code,
    a venue that stopped, or nothing."""
    token = canonical_token(text)
    if token is None:
        return TokenLookup(TOKEN_UNKNOWN)
    with db.session() as s:
        venue = s.scalars(select(Venue).where(Venue.token == token)).first()
        if venue is not None:
            return TokenLookup(TOKEN_VALID, view_of(venue)) if venue.active \
                else TokenLookup(TOKEN_INACTIVE)
        if s.get(RetiredVenueToken, token) is not None:
            return TokenLookup(TOKEN_ROTATED)
    return TokenLookup(TOKEN_UNKNOWN)


def _matches(query: str):
    words = re.sub(r"[^\w ]", " ", fold(query)).split()
    clauses = []
    for word in words:
        word = _LIKE_SPECIAL.sub(r"\\\1", word)
        clauses.append(or_(Venue.name_key.like(f"{word}%", escape="\\"),
                           Venue.name_key.like(f"% {word}%", escape="\\")))
    return clauses


def in_name_order(statement, after: str | None, limit: int):
    """A SELECT of venues in name order, from after a (name, id) cursor, one more than a page
    (InvalidCursor for a cursor that is not one of ours)."""
    if after:
        name_key, venue_id = decode_cursor(after, 2)
        if not isinstance(name_key, str) or type(venue_id) is not int:
            raise InvalidCursor()
        statement = statement.where(tuple_(Venue.name_key, Venue.id) > (name_key, venue_id))
    return statement.order_by(Venue.name_key, Venue.id).limit(limit + 1)


def list_venues(db: Database, query: str = "", *, district: str | None = None,
                after: str | None = None, limit: int = 50) -> Page[VenueView]:
    """Venues whose name has words starting with the query's (accents and case ignored), in
    name order, keyset-paged on (name_key, id)."""
    if len(query) > MAX_QUERY:
        raise InvalidForm({"q": f"Từ khóa tìm kiếm dài quá {MAX_QUERY} ký tự."})
    statement = select(Venue).where(*_matches(query))
    if district:
        statement = statement.where(Venue.district == district)
    statement = in_name_order(statement, after, limit)
    with db.session() as s:
        rows = list(s.scalars(statement))
        keys = {v.id: v.name_key for v in rows}
        views = [view_of(v) for v in rows]
    return page_of(views, limit, lambda v: (keys[v.id], v.id))
