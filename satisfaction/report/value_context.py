"""The customer-value section of the report context (filled in below)."""

from __future__ import annotations

from typing import Any


def value_section(b: Any) -> dict[str, Any] | None:
    """Customer value: RFM, ABC, lifecycle, CLV, satisfaction by segment, link."""
    if b.a.value is None:
        return None
    return None
