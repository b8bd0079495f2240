"""Message catalogs: every reader-facing text of the report, in en and zh.

The catalogs are YAML files in ``templates/messages/``. A missing key is an
error (never a key shown to the reader); placeholders in ``{braces}`` are
filled by :meth:`Messages.text`.

A text whose wording depends on a count is a plural node: ``{one: "...", other:
"..."}``, chosen by the value ``n`` (CLDR's English rule: ``one`` for exactly 1,
``other`` for every other number; Chinese has no plural forms, so the zh catalog
keeps one text, a plain string).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from satisfaction.errors import UsageError
from satisfaction.resources import TEMPLATES

LANGUAGES: tuple[str, ...] = ("en", "zh")


class Messages(dict):
    """A nested catalog; attribute access for templates, ``get_text`` for code."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def text(self, key: str, **values: Any) -> str:
        """The text at dotted ``key``, with ``values`` filled in."""
        node: Any = self
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"message catalog {self.get('meta', {}).get('lang')!r} "
                               f"has no key {key!r}")
            node = node[part]
        if is_plural(node):
            node = node["one"] if "one" in node and _is_one(values.get("n")) else node["other"]
        if not isinstance(node, str):
            raise KeyError(f"message key {key!r} is a section, not a text")
        return node.format(**values) if values else node

    def has(self, key: str) -> bool:
        node: Any = self
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return isinstance(node, str) or is_plural(node)


#: The keys of a plural node (see the module notes).
PLURAL_FORMS: frozenset[str] = frozenset({"one", "other"})


def is_plural(node: Any) -> bool:
    """Whether a catalog node is a plural node: ``other`` and maybe ``one``, texts."""
    return (isinstance(node, dict) and "other" in node and set(node) <= PLURAL_FORMS
            and all(isinstance(v, str) for v in node.values()))


def _is_one(count: Any) -> bool:
    """Whether a count, as a number or as the text it is shown as ("1"), is exactly 1."""
    if isinstance(count, bool) or count is None:
        return False
    if isinstance(count, int | float):
        return count == 1
    return str(count).strip() == "1"


def _wrap(node: Any) -> Any:
    if isinstance(node, dict):
        return Messages({str(k): _wrap(v) for k, v in node.items()})
    return node


@lru_cache(maxsize=4)
def load_messages(lang: str) -> Messages:
    """The catalog of ``lang`` (``en`` or ``zh``)."""
    if lang not in LANGUAGES:
        raise UsageError("report language must be 'en' or 'zh'", column="lang", value=lang)
    path = TEMPLATES / "messages" / f"{lang}.yaml"
    with path.open(encoding="utf-8") as fh:
        return _wrap(yaml.safe_load(fh))
