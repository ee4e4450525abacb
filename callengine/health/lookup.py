"""A resident looks up their own result with their phone number and sample code.

No oracle: "no such code" and "the code is someone else's" give the same answer after the
same work. Every lookup reads the sample by code (a dummy code when the code cannot be one)
and a decoy sample (the first one stored), reads the phones of the person of the sample found,
or of the decoy when none is, and compares the given number with each of them and with a
dummy number, with hmac.compare_digest on the normalised values. The answer is a code; the
page words it (LOOKUP_TEXTS).

Limits: lookups are counted from the audit log per client address and per phone, the phone
kept there only as a keyed hash (never the number itself).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import or_, select

from callengine.health.samples import normalise_code
from callengine.importer.records import InvalidValue
from callengine.phones import InvalidPhone, normalize_phone
from callengine.store.db import Database
from callengine.store.models import Person
from callengine.store.samples import (
    KIND_POOLED,
    RESULT_INDETERMINATE,
    RESULT_NEGATIVE,
    RESULT_POSITIVE,
    PoolMember,
    Sample,
)

LOOKUP_ACTION = "lookup.result"  # the audit action counted by the limits
DUMMY_CODE = "~NO SUCH CODE~"  # can never be stored (codes are [A-Z0-9._/-])
DUMMY_PHONE = "+840000000000"

# Answers.
ANSWER_POSITIVE = "positive"
ANSWER_NEGATIVE = "negative"
ANSWER_INDETERMINATE = "indeterminate"
ANSWER_PENDING = "pending"
ANSWER_POOL_RETEST = "pool_retest"  # a pooled sample tested positive: re-test individually
ANSWER_NOT_FOUND = "not_found"  # no such code, or not this phone's: the same answer
ANSWER_BAD_PHONE = "bad_phone"  # the number itself is not a Vietnamese phone number

# (title, what to do), in Vietnamese, for the page.
LOOKUP_TEXTS = {
    ANSWER_POSITIVE: (
        "Dương tính",
        "Hãy ở yên tại nhà, tự cách ly với người cùng nhà, đeo khẩu trang và chờ cán bộ y tế "
        "liên hệ trong ngày. Nếu khó thở, đau tức ngực hay môi tím tái, gọi ngay 115."),
    ANSWER_NEGATIVE: (
        "Âm tính",
        "Tiếp tục đeo khẩu trang, giữ khoảng cách và theo dõi sức khỏe. Nếu có sốt, ho, khó "
        "thở hay mất vị giác, hãy báo ngay trạm y tế xã, phường."),
    ANSWER_INDETERMINATE: (
        "Không xác định",
        "Mẫu chưa cho kết quả rõ ràng. Hãy liên hệ trạm y tế xã, phường để được lấy mẫu lại; "
        "trong lúc chờ, hạn chế tiếp xúc với người khác."),
    ANSWER_PENDING: (
        "Chưa có kết quả",
        "Phòng xét nghiệm chưa trả kết quả cho mẫu này (thường trong 24 đến 48 giờ). Hãy tra "
        "cứu lại sau; nếu có kết quả dương tính, cán bộ y tế sẽ liên hệ với bạn."),
    ANSWER_POOL_RETEST: (
        "Cần xét nghiệm lại",
        "Mẫu gộp có mẫu của bạn cho kết quả dương tính; chưa biết người nào dương tính. Hãy ở "
        "nhà, hạn chế tiếp xúc và chờ cán bộ y tế lấy mẫu xét nghiệm lại riêng cho bạn."),
    ANSWER_NOT_FOUND: (
        "Không tìm thấy kết quả",
        "Không có kết quả nào khớp với số điện thoại và mã mẫu này. Hãy kiểm tra mã mẫu trên "
        "phiếu lấy mẫu và dùng đúng số điện thoại đã khai khi lấy mẫu."),
    ANSWER_BAD_PHONE: (
        "Số điện thoại không hợp lệ",
        "Hãy nhập số điện thoại di động Việt Nam đã khai khi lấy mẫu, ví dụ 0912 345 678."),
}
_BY_RESULT = {RESULT_POSITIVE: ANSWER_POSITIVE, RESULT_NEGATIVE: ANSWER_NEGATIVE,
              RESULT_INDETERMINATE: ANSWER_INDETERMINATE, None: ANSWER_PENDING}


@dataclass(frozen=True)
class LookupQuery:
    phone: str | None  # E.164, None when the typed number is not one
    code: str  # normalised, or DUMMY_CODE

    @classmethod
    def parse(cls, raw_phone: str, raw_code: str) -> LookupQuery:
        try:
            phone = normalize_phone((raw_phone or "")[:40]).e164
        except InvalidPhone:
            phone = None
        try:
            code = normalise_code((raw_code or "")[:60])
        except InvalidValue:
            code = DUMMY_CODE
        return cls(phone, code)


def phone_key(secret: str, e164: str) -> str:
    """What the audit log keeps of a looked-up phone, to count its lookups."""
    digest = hmac.new(secret.encode(), e164.encode(), hashlib.sha256).hexdigest()
    return f"lookup:{digest[:32]}"


def lookup(db: Database, query: LookupQuery) -> str:
    """The answer code for a phone and a sample code (same work whatever the outcome)."""
    if query.phone is None:
        return ANSWER_BAD_PHONE
    columns = (Sample.id, Sample.kind, Sample.result, Sample.person_id)
    with db.session() as s:
        found = s.execute(select(*columns).where(Sample.code == query.code)).first()
        decoy = s.execute(select(*columns).where(Sample.kind != KIND_POOLED)
                          .order_by(Sample.id).limit(1)).first()
        target = found or decoy  # an unknown code reads and compares someone's phones too
        sample_id = target.id if target else -1
        person_id = target.person_id if target and target.person_id is not None else -1
        members = select(PoolMember.person_id).where(PoolMember.pool_id == sample_id)
        phones = s.execute(select(Person.phone, Person.alt_phones).where(
            or_(Person.id == person_id, Person.id.in_(members)))).all()
    numbers = [DUMMY_PHONE] + [n for row in phones for n in (row.phone,
                                                              *(row.alt_phones or "").split())]
    given = query.phone.encode()
    matched = False
    for number in numbers:
        matched |= hmac.compare_digest(number.encode(), given) and number != DUMMY_PHONE
    if not matched or found is None:
        return ANSWER_NOT_FOUND
    if found.kind == KIND_POOLED and found.result == RESULT_POSITIVE:
        return ANSWER_POOL_RETEST
    return _BY_RESULT.get(found.result, ANSWER_PENDING)
