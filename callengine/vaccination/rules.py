"""The rules a dose must pass, whoever enters it. Pure: the person's other doses, today and
the intervals are passed in; a refusal names the field and says what is wrong in Vietnamese."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from callengine.errors import CallengineError
from callengine.vaccines import Catalogue, Product, UnknownProduct

MAX_DOSE_NUMBER = 9  # the DCC schema's bound on dn and sd
FIELD_LABELS = {"product": "Vắc xin", "dose_number": "Mũi thứ", "given_on": "Ngày tiêm",
                "lot": "Số lô", "site": "Nơi tiêm", "person": "Người được tiêm"}


class DoseRefused(CallengineError):
    """A dose that breaks a rule; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DoseEntry:
    """A dose as staff typed it (product by code or short name)."""

    product: str
    dose_number: int
    given_on: date
    lot: str = ""
    site: str = ""


@dataclass(frozen=True)
class PriorDose:
    """A dose the person already has (stored, or earlier in the same workbook)."""

    dose_number: int
    given_on: date
    product: str  # mp code


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _check_order(entry: DoseEntry, prior: dict[int, PriorDose],
                 intervals: dict[str, int]) -> None:
    number = entry.dose_number
    if number in prior:
        raise DoseRefused("dose_number", f"Người này đã có mũi {number} "
                                         f"(ngày {_fmt(prior[number].given_on)}).")
    before = prior.get(number - 1)
    if number > 1 and before is None:
        raise DoseRefused("dose_number", f"Chưa có mũi {number - 1}: nhập mũi {number - 1} "
                                         f"trước mũi {number}.")
    if before is not None:
        gap = (entry.given_on - before.given_on).days
        least = intervals.get(before.product, 0)
        if gap <= 0:
            raise DoseRefused("given_on", f"Mũi {number} phải tiêm sau mũi {number - 1} "
                                          f"(ngày {_fmt(before.given_on)}).")
        if gap < least:
            raise DoseRefused("given_on", f"Mũi {number} cách mũi {number - 1} {gap} ngày; "
                                          f"khoảng cách tối thiểu là {least} ngày.")
    after = prior.get(number + 1)
    if after is not None and (after.given_on - entry.given_on).days < \
            max(1, intervals.get(entry.product, 0)):
        raise DoseRefused("given_on", f"Mũi {number + 1} (ngày {_fmt(after.given_on)}) quá "
                                      f"gần ngày tiêm mũi {number} này.")


def check_dose(entry: DoseEntry, prior: list[PriorDose], today: date, catalogue: Catalogue,
               intervals: dict[str, int]) -> Product:
    """The entry's product if every rule passes; DoseRefused otherwise."""
    try:
        product = catalogue.find(entry.product)
    except UnknownProduct as error:
        raise DoseRefused("product", str(error)) from None
    if not 1 <= entry.dose_number <= MAX_DOSE_NUMBER:
        raise DoseRefused("dose_number", f"Mũi thứ phải là số từ 1 đến {MAX_DOSE_NUMBER}.")
    if entry.given_on > today:
        raise DoseRefused("given_on", f"Ngày tiêm {_fmt(entry.given_on)} ở tương lai "
                                      f"(hôm nay là {_fmt(today)}).")
    for name, value in (("lot", entry.lot), ("site", entry.site)):
        if len(value) > (60 if name == "lot" else 200):
            raise DoseRefused(name, f"{FIELD_LABELS[name]} quá dài.")
    _check_order(DoseEntry(product.code, entry.dose_number, entry.given_on),
                 {p.dose_number: p for p in prior}, intervals)
    return product
