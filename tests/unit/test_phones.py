"""callengine.phones: messy cells from hand-typed district health-centre workbooks."""

from __future__ import annotations

import pytest

from callengine.errors import CallengineError
from callengine.phones import (
    InvalidPhone,
    ParsedCell,
    PhoneNumber,
    carrier_of,
    mask_phone,
    normalize_phone,
    parse_phone_cell,
)

# --- normalize_phone: accepted formats ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164", "kind"),
    [
        ("0912345678", "+84912345678", "mobile"),
        ("0912 345 678", "+84912345678", "mobile"),
        ("091 234 5678", "+84912345678", "mobile"),
        ("0912.345.678", "+84912345678", "mobile"),
        ("0912-345-678", "+84912345678", "mobile"),
        ("(091) 234-5678", "+84912345678", "mobile"),
        ("0912/345/678", "+84912345678", "mobile"),
        ("  0912345678  ", "+84912345678", "mobile"),
        ("0912\u00a0345\u00a0678", "+84912345678", "mobile"),  # non-breaking spaces
        ("'0912345678", "+84912345678", "mobile"),  # Excel text-cell apostrophe
        ("+84912345678", "+84912345678", "mobile"),
        ("+0912345678", "+84912345678", "mobile"),  # plus typed before a national number
        ("+84 912 345 678", "+84912345678", "mobile"),
        ("(+84) 912.345.678", "+84912345678", "mobile"),
        ("+84 (0) 912 345 678", "+84912345678", "mobile"),
        ("84912345678", "+84912345678", "mobile"),
        ("84-912-345-678", "+84912345678", "mobile"),
        ("0084 912 345 678", "+84912345678", "mobile"),
        ("840912345678", "+84912345678", "mobile"),  # 84 then the trunk zero
        ("0912345678.0", "+84912345678", "mobile"),  # float exported as text
        # numeric cells that lost their leading zero
        (912345678, "+84912345678", "mobile"),
        (912345678.0, "+84912345678", "mobile"),
        (384567890, "+84384567890", "mobile"),
        (562345678.0, "+84562345678", "mobile"),
        (702345678, "+84702345678", "mobile"),
        (842345678, "+84842345678", "mobile"),  # 084 mobile, not a +84 prefix
        (84912345678, "+84912345678", "mobile"),
        (84912345678.0, "+84912345678", "mobile"),
        (2373852123, "+842373852123", "fixed"),
        # landlines: Thanh Hoa 0237, Ha Noi 024, Ho Chi Minh City 028
        ("0237 3852 123", "+842373852123", "fixed"),
        ("(0237) 3.852.123", "+842373852123", "fixed"),
        ("0237-3852123", "+842373852123", "fixed"),
        ("+84 237 3852 123", "+842373852123", "fixed"),
        ("024 3825 2123", "+842438252123", "fixed"),
        ("(024) 38.252.123", "+842438252123", "fixed"),
        ("028 3829 5555", "+842838295555", "fixed"),
    ],
)
def test_normalize_phone_accepts_messy_formats(raw: object, e164: str, kind: str) -> None:
    number = normalize_phone(raw)  # type: ignore[arg-type]
    assert number.e164 == e164
    assert number.kind == kind


# --- normalize_phone: 2018 conversion of 11-digit mobile prefixes ------------------------


@pytest.mark.parametrize(
    ("legacy", "national", "carrier"),
    [
        ("0162 234 5678", "0322345678", "viettel"),
        ("0163 234 5678", "0332345678", "viettel"),
        ("0164 234 5678", "0342345678", "viettel"),
        ("0165 234 5678", "0352345678", "viettel"),
        ("0166 234 5678", "0362345678", "viettel"),
        ("0167 234 5678", "0372345678", "viettel"),
        ("0168 234 5678", "0382345678", "viettel"),
        ("0169 234 5678", "0392345678", "viettel"),
        ("0120 234 5678", "0702345678", "mobifone"),
        ("0121 234 5678", "0792345678", "mobifone"),
        ("0122 234 5678", "0772345678", "mobifone"),
        ("0126 234 5678", "0762345678", "mobifone"),
        ("0128 234 5678", "0782345678", "mobifone"),
        ("0123 234 5678", "0832345678", "vinaphone"),
        ("0124 234 5678", "0842345678", "vinaphone"),
        ("0125 234 5678", "0852345678", "vinaphone"),
        ("0127 234 5678", "0812345678", "vinaphone"),
        ("0129 234 5678", "0822345678", "vinaphone"),
        ("0186 234 5678", "0562345678", "vietnamobile"),
        ("0188 234 5678", "0582345678", "vietnamobile"),
        ("0199 234 5678", "0592345678", "gmobile"),
    ],
)
def test_legacy_prefix_is_converted_before_validation(
    legacy: str, national: str, carrier: str
) -> None:
    number = normalize_phone(legacy)
    assert number.national() == national
    assert number.kind == "mobile"
    assert number.carrier == carrier


@pytest.mark.parametrize(
    "raw",
    [
        "01662345678",
        "0166.234.5678",
        "+84 166 234 5678",
        "+841662345678",
        "84 1662 345 678",
        "841662345678",
        "0084 1662345678",
        "+84 (0) 1662 345 678",
        1662345678,  # numeric cell without its zero
        1662345678.0,
    ],
)
def test_legacy_prefix_in_every_writing(raw: object) -> None:
    assert normalize_phone(raw).e164 == "+84362345678"  # type: ignore[arg-type]


# --- normalize_phone: rejected values -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1900 1234", "là số dịch vụ"),
        ("19001234", "là số dịch vụ"),
        ("1900.6868", "là số dịch vụ"),
        ("1800 1091", "là số dịch vụ"),
        ("1800-599-920", "là số dịch vụ"),
        ("1900 123 45", "là số dịch vụ"),
        ("1900 1234 567", "là số dịch vụ"),  # wrong length, still a service number
        ("1800 123", "là số dịch vụ"),
        ("+84 1900 1234", "là số dịch vụ"),
        (19001234, "là số dịch vụ"),
        ("113", "là số khẩn cấp"),
        ("115", "là số khẩn cấp"),
        ("1022", "là số dịch vụ"),
        ("09123", "sai độ dài"),
        ("0912 345 67", "sai độ dài"),
        ("091234567", "sai độ dài"),
        ("09123456789", "sai độ dài"),
        ("0912 345 6789", "sai độ dài"),
        ("0166 234 567", "sai độ dài"),  # legacy prefix, one digit short
        ("0237 385 212", "sai độ dài"),  # landline, one digit short
        ("024 3825 21234", "sai độ dài"),
        (91234567, "sai độ dài"),
        (9123456789, "sai độ dài"),
        ("0", "sai độ dài"),
        ("abc", "không phải số điện thoại"),
        ("không có", "không phải số điện thoại"),
        ("0912abc678", "không phải số điện thoại"),
        ("ĐT: 0912345678", "không phải số điện thoại"),  # labels belong to parse_phone_cell
        ("09+12345678", "không phải số điện thoại"),
        (912345678.5, "không phải số điện thoại"),
        (float("nan"), "không phải số điện thoại"),
        (-912345678, "không phải số điện thoại"),
        (True, "không phải số điện thoại"),
        ("   ", "trống"),
        ("+1 202 555 0100", "không phải số Việt Nam"),
        ("0086 139 1234 5678", "không phải số Việt Nam"),
        ("0161 234 5678", "không thuộc dải số"),  # 0161 was never converted
        ("0412345678", "không thuộc dải số"),
        ("0892345678", "không thuộc dải số"),  # 0890-0895 unallocated in the metadata
    ],
)
def test_normalize_phone_rejects_with_vietnamese_reason(raw: object, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(raw)  # type: ignore[arg-type]
    message = str(caught.value)
    assert reason in message
    assert str(raw).strip() in message or raw != raw  # names the value (NaN aside)


def test_invalid_phone_messages_match_the_project_wording() -> None:
    cases = {
        "1900 1234": "Số điện thoại '1900 1234' là số dịch vụ, không gọi được",
        "abc": "'abc' không phải số điện thoại",
    }
    for raw, message in cases.items():
        with pytest.raises(InvalidPhone, match="^" + message.replace("(", r"\(")) as caught:
            normalize_phone(raw)
        assert str(caught.value) == message
    with pytest.raises(InvalidPhone, match=r"^Số điện thoại '09123' sai độ dài \(5 chữ số"):
        normalize_phone("09123")
    with pytest.raises(InvalidPhone, match=r"sai độ dài \(10 chữ số kể cả số 0 đầu, cần 11\)"):
        normalize_phone("0166 234 567")  # a legacy number one digit short is not converted


def test_invalid_phone_is_a_value_error_with_a_masked_message() -> None:
    with pytest.raises(ValueError) as caught:
        normalize_phone("0912 345 67")
    error = caught.value
    assert isinstance(error, InvalidPhone)
    assert isinstance(error, CallengineError)
    assert error.raw == "0912 345 67"
    assert "sai độ dài" in error.reason
    assert error.masked_message().startswith("Số điện thoại '******567' sai độ dài")
    assert "0912" not in error.masked_message()


# --- carriers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "carrier"),
    [
        ("0862345678", "viettel"),
        ("0962345678", "viettel"),
        ("0972345678", "viettel"),
        ("0982345678", "viettel"),
        ("0352345678", "viettel"),
        ("0912345678", "vinaphone"),
        ("0942345678", "vinaphone"),
        ("0882345678", "vinaphone"),
        ("0832345678", "vinaphone"),
        ("0902345678", "mobifone"),
        ("0932345678", "mobifone"),
        ("0898123456", "mobifone"),
        ("0702345678", "mobifone"),
        ("0922345678", "vietnamobile"),
        ("0562345678", "vietnamobile"),
        ("0582345678", "vietnamobile"),
        ("0592345678", "gmobile"),
        ("0993123456", "gmobile"),
        ("0990123456", "gmobile"),  # no carrier name in phonenumbers: prefix table
        ("0871234567", "itelecom"),  # phonenumbers names the host network (Vinaphone)
        ("0998123456", "itelecom"),  # 'Indochina Telecom' in phonenumbers
        ("0559123456", "reddi"),
        ("0951234567", "unknown"),  # valid block, no carrier known
        ("0237 3852 123", "fixed"),
        ("024 3825 2123", "fixed"),
    ],
)
def test_carrier_of(raw: str, carrier: str) -> None:
    assert carrier_of(raw) == carrier
    assert normalize_phone(raw).carrier == carrier


def test_carrier_of_accepts_e164_and_rejects_invalid() -> None:
    assert carrier_of("+84362345678") == "viettel"
    with pytest.raises(InvalidPhone):
        carrier_of("+8419001234")


# --- PhoneNumber methods and masking ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "national", "international", "masked"),
    [
        ("+84 912 345 678", "0912345678", "84912345678", "*******678"),
        ("01662345678", "0362345678", "84362345678", "*******678"),
        ("(0237) 3852 123", "02373852123", "842373852123", "********123"),
    ],
)
def test_phone_number_forms(raw: str, national: str, international: str, masked: str) -> None:
    number = normalize_phone(raw)
    assert number.national() == national
    assert number.international_digits() == international
    assert number.masked() == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("", ""),
        ("0912345678", "*******678"),
        ("+84912345678", "********678"),
        ("0912 345 678", "*******678"),
        ("(0237) 3852 123", "********123"),
        ("09123", "**123"),
        ("1234", "*234"),
        ("113", "***"),  # never reveal a whole number
        ("abc", ""),
    ],
)
def test_mask_phone(text: str, masked: str) -> None:
    assert mask_phone(text) == masked


# --- parse_phone_cell ---------------------------------------------------------------------


def _nationals(numbers: tuple[PhoneNumber, ...]) -> tuple[str, ...]:
    return tuple(n.national() for n in numbers)


@pytest.mark.parametrize(
    ("cell", "primary", "alternates", "invalid", "note"),
    [
        # one number, possibly with notes and labels
        ("0912345678", "0912345678", (), (), ""),
        ("0912-345-678", "0912345678", (), (), ""),
        ("0912345678 (con trai)", "0912345678", (), (), "con trai"),
        ("0912 345 678 - mẹ", "0912345678", (), (), "mẹ"),
        ("0912345678 – bà nội", "0912345678", (), (), "bà nội"),
        ("ĐT: 0912345678", "0912345678", (), (), ""),
        ("SĐT 0912.345.678", "0912345678", (), (), ""),
        ("Con: 0912345678", "0912345678", (), (), "Con"),
        ("0912345678 (gọi sau 17h)", "0912345678", (), (), "gọi sau 17h"),
        ("(0237) 3852 123 - máy bàn", "02373852123", (), (), "máy bàn"),
        ("0166 234 5678 (số cũ)", "0362345678", (), (), "số cũ"),
        ("'0912345678", "0912345678", (), (), ""),
        ("0912345678.0", "0912345678", (), (), ""),
        # several numbers, every separator
        ("0912345678 / 0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678/0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678, 0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678;0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678 - 0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678-0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912.345.678-0987.654.321", "0912345678", ("0987654321",), (), ""),
        ("0912345678 và 0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678 hoặc 0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678 va 0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678\n0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678\r\n0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912345678 0987654321", "0912345678", ("0987654321",), (), ""),
        ("0912 345 678 / 0987 654 321", "0912345678", ("0987654321",), (), ""),
        ("+84 912 345 678; 84987654321", "0912345678", ("0987654321",), (), ""),
        ("84 912 345 678 0987654321", "0912345678", ("0987654321",), (), ""),
        ("0237.3852.123 / 0912345678", "02373852123", ("0912345678",), (), ""),
        (
            "0912345678, 0987654321, 0352345678",
            "0912345678",
            ("0987654321", "0352345678"),
            (),
            "",
        ),
        (
            "SĐT:0912.345.678 (chồng) / 0987654321 (vợ)",
            "0912345678",
            ("0987654321",),
            (),
            "chồng; vợ",
        ),
        ("0912345678 (bố) và 0987654321 (mẹ)", "0912345678", ("0987654321",), (), "bố; mẹ"),
        ("0912345678 mẹ 0987654321 bố", "0912345678", ("0987654321",), (), "mẹ; bố"),
        # duplicates: same number written twice, or old and new forms of one number
        ("0912345678 / 0912.345.678", "0912345678", (), (), ""),
        ("0362345678 / 01662345678", "0362345678", (), (), ""),
        ("0912345678; 0987654321; 0912 345 678", "0912345678", ("0987654321",), (), ""),
        # invalid pieces are kept, never silently split or merged
        ("0912 345 67", None, (), ("0912 345 67",), ""),
        ("09123 456789", None, (), ("09123 456789",), ""),
        ("0912 345 6789", None, (), ("0912 345 6789",), ""),
        ("0912345678 9", None, (), ("0912345678 9",), ""),
        ("0912 345 67 / 0987654321", "0987654321", (), ("0912 345 67",), ""),
        ("0912345678/098765432", "0912345678", (), ("098765432",), ""),
        ("0912 345 67 0987 654 321", "0987654321", (), ("0912 345 67",), ""),
        ("0912345678 - 1800 1091", "0912345678", (), ("1800 1091",), ""),
        ("0912345678 - 09876", "0912345678", (), ("09876",), ""),
        ("0912345678 / 09876", "0912345678", (), ("09876",), ""),
        ("0912345678 09876", None, (), ("0912345678 09876",), ""),  # ambiguous: kept whole
        ("1900 1234", None, (), ("1900 1234",), ""),
        ("098765432/0912345", None, (), ("098765432", "0912345"), ""),
        ("Tổ 5, 0912345678", "0912345678", (), (), "Tổ 5"),
        # no number at all
        ("không có", None, (), (), "không có"),
        ("-", None, (), (), ""),
        ("", None, (), (), ""),
        ("   ", None, (), (), ""),
        (None, None, (), (), ""),
        (float("nan"), None, (), (), ""),
        # numeric cells
        (912345678, "0912345678", (), (), ""),
        (912345678.0, "0912345678", (), (), ""),
        (1662345678.0, "0362345678", (), (), ""),
        (2373852123.0, "02373852123", (), (), ""),
        (91234567.0, None, (), ("91234567",), ""),
    ],
)
def test_parse_phone_cell(
    cell: object,
    primary: str | None,
    alternates: tuple[str, ...],
    invalid: tuple[str, ...],
    note: str,
) -> None:
    parsed = parse_phone_cell(cell)
    assert isinstance(parsed, ParsedCell)
    assert (parsed.primary.national() if parsed.primary else None) == primary
    assert _nationals(parsed.alternates) == alternates
    assert parsed.invalid == invalid
    assert parsed.note == note


def test_parse_phone_cell_keeps_kind_and_carrier() -> None:
    parsed = parse_phone_cell("0237 3852 123 (cơ quan) / 0166 234 5678")
    assert parsed.primary == PhoneNumber("+842373852123", "fixed", "fixed")
    assert parsed.alternates == (PhoneNumber("+84362345678", "mobile", "viettel"),)
    assert parsed.note == "cơ quan"
