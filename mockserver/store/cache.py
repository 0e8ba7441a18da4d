"""The cache a model object owns for what is derived from its own fields.

A parsed and built script, the formatted script and rendered bodies are pure functions of the
object's fields, so they are built on first use and kept on the object. A model changed by
replacement (`dataclasses.replace`) starts with an empty cache (the field is not an `__init__`
argument, so a copy never shares it); the few in-place changes clear it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

T = TypeVar("T")


class RenderCache(dict[Hashable, Any]):
    def rendered(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value stored under `key`, built (and kept) on first use."""
        try:
            return cast(T, self[key])
        except KeyError:
            value = self[key] = build()
            return value


class Cached:
    """Mixin of models with a `_cache: RenderCache` field: the cache's API, the field private."""

    _cache: RenderCache

    def rendered(self, key: Hashable, build: Callable[[], T]) -> T:
        """A derived form of this object (a rendered body, a list fragment), built once."""
        return self._cache.rendered(key, build)
