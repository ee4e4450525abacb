"""Finding the person a dose row names, by the list importer's identity rules: the national
ID; else a phone number (primary or alternate) together with the folded name."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from callengine.importer.text import fold
from callengine.store.models import Person


class NoSuchPerson(LookupError):
    """No person, or several, match; the message (Vietnamese) says which."""


def find_person(session: Session, *, full_name: str, phone: str | None,
                national_id: str | None) -> Person:
    """The one stored person a row names; NoSuchPerson otherwise."""
    if national_id:
        person = session.scalars(select(Person).where(Person.national_id == national_id)).first()
        if person is not None:
            return person
    if not phone:
        raise NoSuchPerson("không tìm thấy người có số CCCD/CMND này; ghi thêm số điện "
                           "thoại" if national_id else "cần số điện thoại hoặc CCCD/CMND để "
                           "tìm người được tiêm")
    key = fold(full_name)
    candidates = session.scalars(select(Person).where(
        or_(Person.phone == phone, Person.alt_phones.contains(phone)))).all()
    named = [p for p in candidates if p.name_key == key or not p.name_key]
    if len(named) == 1:
        return named[0]
    if named:
        raise NoSuchPerson(f"{len(named)} người cùng tên và số điện thoại này; ghi số "
                           "CCCD/CMND để phân biệt")
    raise NoSuchPerson("không tìm thấy người có tên và số điện thoại này (nhập danh sách "
                       "người trước, hoặc sửa tên/số)")
