"""Code generation, owned by the ledger (it knows every code a lock holds)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import secrets
from typing import TYPE_CHECKING

from ..providers.models import Capabilities, Lock

if TYPE_CHECKING:
    from .ledger import CodeLedger

# Generated TTLock codes: 6 digits (the cloud allows 4-9); fixed-length clouds
# (Tuya) use their only length.
GENERATED_LENGTH = 6
_TRIES = 1000


class NoFreeCodeError(Exception):
    """No unused code of that length could be found."""


def generated_length(capabilities: Iterable[Capabilities]) -> int | None:
    """One length that fits every lock (``None`` when their ranges do not meet)."""
    caps = list(capabilities)
    low = max(c.code_min_length for c in caps)
    high = min(c.code_max_length for c in caps)
    if low > high:
        return None
    return min(max(GENERATED_LENGTH, low), high)


def generate_code(length: int, taken: set[str], *, leading_zero: bool = True) -> str:
    """A random code of ``length`` digits, none of ``taken``, not all one digit;
    not starting with 0 unless ``leading_zero`` (the gateway service turns
    codes into numbers)."""
    for _ in range(_TRIES):
        first = secrets.choice("0123456789" if leading_zero else "123456789")
        code = first + "".join(secrets.choice("0123456789") for _ in range(length - 1))
        if code not in taken and len(set(code)) > 1:
            return code
    raise NoFreeCodeError


def codes_for(locks: Sequence[tuple[CodeLedger, Lock]]) -> list[str]:
    """Generated digits for each lock: one code for all when their lengths
    allow (a guest gets one code for the front and the back door), else one per
    lock; never digits any of the locks has (the ledger's codes and the last
    listing). ``NoFreeCodeError`` when none is left.
    """
    taken: set[str] = set()
    for ledger, lock in locks:
        taken |= ledger.taken_digits(lock.lock_id)
    shared = generated_length(lock.capabilities for _, lock in locks)
    zero = all(lock.capabilities.code_leading_zero for _, lock in locks)
    if shared is not None:
        code = generate_code(shared, taken, leading_zero=zero)
        return [code] * len(locks)
    codes = []
    for _, lock in locks:
        own = generated_length([lock.capabilities])
        assert own is not None
        codes.append(generate_code(own, taken, leading_zero=zero))
        taken.add(codes[-1])
    return codes
