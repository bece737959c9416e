"""Keyword arguments renamed for one vocabulary across judgekit: the old
names keep working for now, with a ``DeprecationWarning`` naming the new."""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, TypeVar

from .errors import InputError

F = TypeVar("F", bound=Callable[..., Any])


def renamed(**old_to_new: str) -> Callable[[F], F]:
    """``@renamed(n_boot="n_bootstrap")``: accept ``n_boot=`` as
    ``n_bootstrap=``, warning once per call site."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise InputError(f"{fn.__name__}: give {new}= only ({old}= is its old name)")
                    warnings.warn(f"{fn.__name__}: {old}= is renamed {new}=", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap
