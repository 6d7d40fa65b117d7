"""Run blocking handler code in a worker thread.

The service layer and the store are synchronous. Litestar's own `sync_to_thread=True`
breaks when two such handlers share a path (seen with Litestar 2.25: the GET handler
of a path that also has a POST handler returned an un-awaited coroutine), so
handlers are written as plain functions and wrapped here instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread

F = TypeVar("F", bound=Callable[..., Any])


def in_thread(function: F) -> F:
    """Make `function` an async handler that runs it in anyio's worker thread pool.

    `functools.wraps` keeps the signature and annotations, which Litestar reads to
    build the handler's parameters and the OpenAPI schema.
    """

    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))

    return wrapper  # type: ignore[return-value]
