"""The random fills themselves (uniform_, normal_, trunc_normal_, random_bits_) and the preamble
every random function shares: a ``__torch_function__`` hand-off where torch.nn.init makes one, the
``philoxinit::fill_`` op while torch.compile traces (_ops.py), else the core fill (_fill.py).

Public through philoxinit.init; see its docstring for the keyword-only extras.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import Tensor
from torch.overrides import handle_torch_function, has_torch_function_variadic

from . import _ops
from ._fill import DISTRIBUTIONS

# ---- the preamble every random function shares ----------------------------------------------


def hand_off(public: Callable, tensor: Tensor, args: tuple, seed, stream, offset, global_shape, global_offset):
    """Hand the call to a ``__torch_function__`` override (a tensor subclass or a mode), as
    torch.nn.init does: ``args`` are the public function's positional arguments after the tensor."""
    return handle_torch_function(
        public, (tensor,), tensor, *args, seed=seed, stream=stream, offset=offset,
        global_shape=global_shape, global_offset=global_offset,
    )  # fmt: skip


def random_fill(public, called, tensor, params, generator, seed, stream, offset, global_shape, global_offset):
    """Fill ``tensor`` with the distribution of ``public`` (uniform_, normal_ or trunc_normal_) and
    its ``params``: through a ``__torch_function__`` override if there is one, else :func:`run_fill`.
    ``called``: the public function the user called (errors name it)."""
    if has_torch_function_variadic(tensor):
        return hand_off(public, tensor, params + (generator,), seed, stream, offset, global_shape, global_offset)
    return run_fill(
        public.__name__, called, tensor, params, generator, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


def run_fill(fn, called, tensor, params, generator, seed, stream, offset, global_shape, global_offset):
    """One ``philoxinit::fill_`` op while torch.compile traces (_ops.py); else the eager fill."""
    if torch.compiler.is_compiling():
        return _ops.traced_fill(
            fn, called, tensor, params, generator, seed, stream, offset, global_shape, global_offset
        )
    return DISTRIBUTIONS[fn](called, tensor, params, generator, seed, stream, offset, global_shape, global_offset)


# ---- distributions ------------------------------------------------------------------------------


def uniform_(
    tensor: Tensor,
    a: float = 0.0,
    b: float = 1.0,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input Tensor with values drawn from the uniform distribution :math:`\mathcal{U}(a, b)`.

    Each element reads its own 32-bit Philox word :math:`x` (two for float64) and gets

    .. math::
        v = a + u \, (b - a), \qquad u = \lfloor x / 2^8 \rfloor \cdot 2^{-24} \in [0, 1)

    in float32 (float64: :math:`u` from 53 bits); a value that rounds up to :math:`b` becomes
    :math:`a`. float16 and bfloat16 round the float32 value. Complex tensors draw each component
    from :math:`\mathcal{U}(a, b)`. The exact rule is docs/contract.md, section 2.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        a: the lower bound of the uniform distribution
        b: the upper bound of the uniform distribution
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of (default: None, the
            tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = torch.empty(2, 3)
        >>> philoxinit.uniform_(w, -1.0, 1.0, seed=0)
        tensor([[-0.2019,  0.7610,  0.4714],
                [ 0.2110,  0.9445, -0.2758]])
        >>> torch.equal(w, philoxinit.uniform_(torch.empty(2, 3), -1.0, 1.0, seed=0))  # same key, same values
        True
    """
    return random_fill(
        uniform_, "uniform_", tensor, (a, b), generator, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input Tensor with values drawn from the normal distribution :math:`\mathcal{N}(\text{mean}, \text{std}^2)`.

    Box-Muller on pairs of the element's Philox words :math:`(x_1, x_2)`:

    .. math::
        v = \text{mean} + \text{std} \cdot \sqrt{-2 \ln u_1} \, \cos(2 \pi u_2)
        \quad (\sin \text{ for the pair's second element})

    with :math:`u_1 \in (0, 1]`, :math:`u_2 \in [0, 1)` from :math:`x_1, x_2`, computed from basic
    IEEE operations only (docs/contract.md, section 3). Complex tensors get
    :math:`\text{std} / \sqrt{2}` per component, as in torch.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        mean: the mean of the normal distribution
        std: the standard deviation of the normal distribution
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of (default: None, the
            tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> full = philoxinit.normal_(torch.empty(4, 3), 0.0, 0.02, seed=7)
        >>> shard = philoxinit.normal_(torch.empty(2, 3), 0.0, 0.02, seed=7,
        ...                            global_shape=(4, 3), global_offset=(2, 0))
        >>> torch.equal(shard, full[2:])  # a box of the whole gets the whole's values
        True
    """
    return random_fill(
        normal_, "normal_", tensor, (mean, std), generator, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Optional[torch.Generator] = None,
    *,
    seed: Optional[int] = None,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill the input Tensor with values drawn from a truncated normal distribution.

    The values follow :math:`\mathcal{N}(\text{mean}, \text{std}^2)` restricted to :math:`[a, b]`,
    drawn in one pass by the inverse CDF over the interval's probability range (no resampling):

    .. math::
        v = \text{mean} + \text{std} \cdot \Phi^{-1}\big(\Phi(\alpha) + u \, (\Phi(\beta) - \Phi(\alpha))\big),
        \qquad \alpha = \frac{a - \text{mean}}{\text{std}}, \quad \beta = \frac{b - \text{mean}}{\text{std}}

    with :math:`u \in (0, 1]` from the element's Philox word, the interval reflected so that its
    mass lies in the lower tail (docs/contract.md, section 4). Every stored value has
    ``round(a) <= v <= round(b)`` in the tensor's dtype; bounds deep in one tail are exact too.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        mean: the mean of the normal distribution
        std: the standard deviation of the normal distribution
        a: the minimum cutoff value
        b: the maximum cutoff value
        generator: the torch Generator the Philox key is drawn from when ``seed`` is None
            (default: None, torch's default CPU generator)
        seed: the Philox key, an int in 0..2**64-1 (default: None, drawn from ``generator``)
        stream: the Philox stream, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of (default: None, the
            tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> w = philoxinit.trunc_normal_(torch.empty(256, 256), std=0.02, a=-0.04, b=0.04, seed=3)
        >>> bool((w >= -0.04).all() and (w <= 0.04).all())
        True
    """
    return random_fill(
        trunc_normal_, "trunc_normal_", tensor, (mean, std, a, b), generator, seed, stream, offset,
        global_shape, global_offset,
    )  # fmt: skip


def random_bits_(
    tensor: Tensor,
    *,
    seed: int,
    stream: int = 0,
    offset: int = 0,
    global_shape: Optional[Sequence[int]] = None,
    global_offset: Optional[Sequence[int]] = None,
) -> Tensor:
    r"""Fill an int32 or uint32 tensor with the raw Philox words (bit patterns).

    The element with global row-major index :math:`i` gets word :math:`i \bmod 4` of

    .. math::
        \text{Philox4x32-10}\big(\text{key} = K,\ \text{counter} = (O + \lfloor i / 4 \rfloor,\ S)\big)

    (each 64-bit number split in two 32-bit words, low first): cuRAND's ``Philox4_32_10`` stream
    with seed :math:`K`, subsequence :math:`S` and offset :math:`4 O + i` (docs/contract.md,
    section 1). Every other distribution is a transform of these words.

    Args:
        tensor: an int32 or uint32 `torch.Tensor`
        seed: the Philox key K, an int in 0..2**64-1 (required)
        stream: the Philox stream S, an int in 0..2**64-1 (default: 0)
        offset: the first Philox block O, an int in 0..2**64-1 (default: 0)
        global_shape: the shape of the whole tensor ``tensor`` is a box of (default: None, the
            tensor is the whole)
        global_offset: where the box starts in the whole tensor, one index per dim (default: the
            origin; needs ``global_shape``)

    Examples:
        >>> bits = philoxinit.random_bits_(torch.empty(4, dtype=torch.int32), seed=0)
        >>> words = philoxinit.philox4x32_10((0, 0, 0, 0), (0, 0))  # block 0 of stream 0
        >>> [x & 0xFFFFFFFF for x in bits.tolist()] == list(words)
        True
    """
    return run_fill(  # no __torch_function__ hand-off: random_bits_ is not one of torch's
        "random_bits_", "random_bits_", tensor, (), None, seed, stream, offset, global_shape,
        global_offset,
    )  # fmt: skip
