"""The COVID-19 vaccine products (callengine/vaccines.yaml): their EU DCC codes, the doses of
a full course, the names staff type, and the least interval between doses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from callengine.errors import ConfigError
from callengine.importer.text import word_key

PRODUCTS_FILE = Path(__file__).resolve().parent / "vaccines.yaml"


@dataclass(frozen=True)
class Product:
    """One vaccine as the EU DCC names it (mp, ma, vp) and as staff call it."""

    code: str  # mp: EU/1/21/1529, BBIBP-CorV...
    name: str
    manufacturer: str  # ma
    manufacturer_name: str
    prophylaxis: str  # vp
    doses: int  # a full primary course
    min_interval_days: int  # the file's default
    names: tuple[str, ...]


class UnknownProduct(ValueError):
    """A product name or code that is in no row of the products file."""


@dataclass(frozen=True)
class Catalogue:
    """The products, found by code or by any name staff use."""

    products: tuple[Product, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {
            word_key(label): product for product in self.products
            for label in (product.code, product.name, *product.names)})

    def find(self, text: str) -> Product:
        """The product named (code or short name, any case or accents), or UnknownProduct."""
        product = self._by_key.get(word_key(text or ""))  # type: ignore[attr-defined]
        if product is None:
            raise UnknownProduct(
                f"Vắc xin “{text}” không có trong danh mục. Dùng một trong: "
                + ", ".join(p.names[0] if p.names else p.code for p in self.products) + ".")
        return product

    def by_code(self, code: str) -> Product | None:
        return next((p for p in self.products if p.code == code), None)


def _product(raw: dict) -> Product:
    return Product(code=str(raw["code"]), name=str(raw["name"]),
                   manufacturer=str(raw["manufacturer"]),
                   manufacturer_name=str(raw["manufacturer_name"]),
                   prophylaxis=str(raw["prophylaxis"]), doses=int(raw["doses"]),
                   min_interval_days=int(raw["min_interval_days"]),
                   names=tuple(str(n) for n in raw.get("names", ())))


@lru_cache(maxsize=4)
def load_catalogue(path: Path = PRODUCTS_FILE) -> Catalogue:
    """The products file, read once."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return Catalogue(tuple(_product(item) for item in raw["products"]))
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"vaccine products file {path}: {exc}") from None


def min_intervals(catalogue: Catalogue, overrides: tuple[tuple[str, int], ...]
                  ) -> dict[str, int]:
    """Least days between doses per product code: the file's, then the settings' overrides
    (`vaccine_min_intervals`, products named by code or short name)."""
    days = {p.code: p.min_interval_days for p in catalogue.products}
    for name, value in overrides:
        try:
            days[catalogue.find(name).code] = value
        except UnknownProduct:
            raise ConfigError(f"vaccine_min_intervals: {name!r} is not a vaccine of "
                              f"{PRODUCTS_FILE.name}") from None
    return days
