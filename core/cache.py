"""A Redis cache that fails open: when Redis is unreachable or frozen, reads miss and writes are dropped.

The cache holds only what can be recomputed (rate-limit counters, throttle histories, RFM breakpoints),
so an outage must not turn into errors: rate limits and throttles let requests through (and say so in the
log) instead of answering 500. After a failure the cache is bypassed for `RETRY_AFTER` seconds, so each
request pays the (short) socket timeout at most once per interval and per process instead of on every call.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("rapport.cache")

RETRY_AFTER = 5.0
T = TypeVar("T")
# Per Redis address and shared by the threads of a process (Django keeps one cache object per thread).
_down_until: dict[str, float] = {}
_lock = threading.Lock()


class FailOpenRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._address = str(server)

    def _guard(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        if time.monotonic() < _down_until.get(self._address, 0.0):
            return fallback
        try:
            return call()
        except (RedisError, OSError) as exc:
            with _lock:
                _down_until[self._address] = time.monotonic() + RETRY_AFTER
            logger.warning(
                "Cache unavailable (%s: %s): %s bypassed for %.0f s; rate limits and throttles let requests through",
                type(exc).__name__,
                exc,
                operation,
                RETRY_AFTER,
            )
            return fallback

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard("add", lambda: super(FailOpenRedisCache, self).add(key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guard("get", lambda: super(FailOpenRedisCache, self).get(key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._guard("set", lambda: super(FailOpenRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guard("touch", lambda: super(FailOpenRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guard("delete", lambda: super(FailOpenRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._guard("get_many", lambda: super(FailOpenRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guard("has_key", lambda: super(FailOpenRedisCache, self).has_key(key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        # None, not an exception: django-ratelimit then applies RATELIMIT_FAIL_OPEN.
        return self._guard("incr", lambda: super(FailOpenRedisCache, self).incr(key, delta, version), None)

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return self._guard(
            "set_many", lambda: super(FailOpenRedisCache, self).set_many(data, timeout, version), list(data)
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._guard("delete_many", lambda: super(FailOpenRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> bool:
        return self._guard("clear", lambda: super(FailOpenRedisCache, self).clear(), False)
