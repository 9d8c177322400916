"""Philox4x32-10 itself, one block at a time: the bit generator every fill is built on."""

from __future__ import annotations

from typing import Iterable

import torch

from . import _backend, _fallback


def philox4x32_10(counter: Iterable[int], key: Iterable[int]) -> tuple[int, int, int, int]:
    r"""Philox4x32-10 (Salmon et al., 2011) of one counter under one key.

    Ten rounds of

    .. math::
        (c_0, c_1, c_2, c_3) \leftarrow (\text{hi}(M_1 c_2) \oplus c_1 \oplus k_0,\ \text{lo}(M_1 c_2),\
        \text{hi}(M_0 c_0) \oplus c_3 \oplus k_1,\ \text{lo}(M_0 c_0))

    with :math:`M_0 = \text{0xD2511F53}`, :math:`M_1 = \text{0xCD9E8D57}`, the key bumped by
    :math:`(\text{0x9E3779B9}, \text{0xBB67AE85})` after each round, all arithmetic mod
    :math:`2^{32}` (Random123's ``philox4x32``, cuRAND's ``Philox4_32_10``). docs/contract.md,
    section 1, says which counter and key each element of a fill reads.

    Args:
        counter: four ints in 0..2**32-1
        key: two ints in 0..2**32-1

    Returns:
        the four output words, a tuple of ints

    Examples:
        >>> [hex(w) for w in philoxinit.philox4x32_10((0, 0, 0, 0), (0, 0))]  # Random123's known answer
        ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    counter, key = tuple(counter), tuple(key)
    if len(counter) != 4 or len(key) != 2:
        raise ValueError("philox4x32_10 takes a counter of 4 words and a key of 2 words")
    for w in counter + key:
        if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 0xFFFFFFFF:
            raise ValueError(f"Philox words are ints in 0..2**32-1, got {w!r}")
    if _backend._C is not None:
        return _backend._C.philox4x32_10(counter, key)
    words = [torch.tensor([w], dtype=torch.int64) for w in counter]
    return tuple(int(w) for w in _fallback.philox(*words, key[0] | (key[1] << 32)))
