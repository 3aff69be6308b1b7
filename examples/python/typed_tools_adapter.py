# The adapter of guides/typed-tools.md: its type hints are what `snakepit gen types` turns into TypeScript.
# region adapter
from dataclasses import dataclass
from typing import Iterator, List, Literal, TypedDict

from snakepit_bridge.base_adapter import BaseAdapter, tool


class Quote(TypedDict):
    sku: str
    quantity: int
    currency: Literal["EUR", "USD"]
    total: float


@dataclass
class Product:
    sku: str
    name: str
    price: float
    tags: List[str]


CATALOG = [
    Product("A-100", "desk lamp", 24.5, ["light", "desk"]),
    Product("B-200", "floor lamp", 79.0, ["light"]),
    Product("C-300", "desk", 199.0, ["desk"]),
]


class ShopAdapter(BaseAdapter):
    @tool
    def add(self, a: float, b: float) -> float:
        """Add two numbers."""
        return a + b

    @tool
    def quote(self, sku: str, quantity: int = 1, currency: Literal["EUR", "USD"] = "EUR") -> Quote:
        """Price `quantity` units of a product.

        Args:
            sku: the product code, e.g. "A-100"
            quantity: how many units
        """
        product = next(p for p in CATALOG if p.sku == sku)
        rate = 1.0 if currency == "EUR" else 1.1
        return {"sku": sku, "quantity": quantity, "currency": currency, "total": round(product.price * quantity * rate, 2)}

    @tool
    def find(self, query: str, limit: int = 10) -> List[Product]:
        """Products whose name contains `query`."""
        return [p for p in CATALOG if query in p.name][:limit]

    @tool
    def restock(self, skus: List[str]) -> Iterator[str]:
        """Restock products one by one, yielding each sku when done."""
        for sku in skus:
            yield sku
# endregion adapter
