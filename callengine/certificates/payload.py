"""The hcert v1.3 payload of one vaccination and the CWT claims that carry it.

Only the latest dose goes in: the schema wants exactly one `v` entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from callengine.certificates.names import holder_name
from callengine.vaccines import Product

SCHEMA_VERSION = "1.3.0"
COVID_19 = "840539006"  # tg: SNOMED CT COVID-19
COUNTRY = "VN"
UVCI_PREFIX = "URN:UVCI:01:VN:"
# CWT claim keys (RFC 8392) and the EU DCC's hcert claim.
ISSUER, EXPIRES, ISSUED_AT, HCERT, HCERT_V1 = 1, 4, 6, -260, 1


@dataclass(frozen=True)
class Holder:
    full_name: str
    birth_year: int | None  # the only birth data the lists give: dob is then "YYYY"


@dataclass(frozen=True)
class Dose:
    product: Product
    dose_number: int
    given_on: date
    uvci: str  # unique per dose: URN:UVCI:01:VN:...


def uvci(opaque: str) -> str:
    """A certificate identifier of this country from a unique opaque part."""
    return f"{UVCI_PREFIX}{opaque}"


def hcert(holder: Holder, dose: Dose, issuer: str) -> dict[str, Any]:
    """The DCC payload: ver, nam, dob and one v[0]."""
    series = max(dose.product.doses, dose.dose_number)  # a booster counts as n/n
    return {
        "ver": SCHEMA_VERSION,
        "nam": holder_name(holder.full_name),
        "dob": f"{holder.birth_year:04d}" if holder.birth_year else "",
        "v": [{
            "tg": COVID_19, "vp": dose.product.prophylaxis, "mp": dose.product.code,
            "ma": dose.product.manufacturer, "dn": dose.dose_number, "sd": series,
            "dt": dose.given_on.isoformat(), "co": COUNTRY, "is": issuer, "ci": dose.uvci,
        }],
    }


def cwt_claims(payload: dict[str, Any], issued_at: datetime, validity_days: int
               ) -> dict[int, Any]:
    """The CWT claims: issuer country, expiry, issue time and the hcert."""
    expires = issued_at + timedelta(days=validity_days)
    return {ISSUER: COUNTRY, EXPIRES: int(expires.timestamp()),
            ISSUED_AT: int(issued_at.timestamp()), HCERT: {HCERT_V1: payload}}
