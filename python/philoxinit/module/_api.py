"""The public functions: init_module, materialize, deferred_init."""

from __future__ import annotations

import warnings
from typing import Callable, Optional, Union

import torch
import torch.nn as nn

from .._keys import check_u64, resolve_key
from ._plan import _plan, _resolve
from ._record import _Event, _record_swapped, _Recorder, _recording, _run_fn, _run_resets, _storage_key
from ._replay import _replay
from ._state import STATE
from ._targets import _targets


def _key_of(seed, generator) -> int:
    if seed is not None:
        check_u64("seed", seed)
    return resolve_key(seed, generator)


def _check_module(module, what: str) -> None:
    if not isinstance(module, nn.Module):
        raise TypeError(f"philoxinit.{what} takes an nn.Module, got {type(module).__name__}")


def _record_all(module: nn.Module, targets: list, recorded: Optional[list], fn, root_fn, reset_parameters: bool):
    """Events of the init code, in the order it runs: the constructor (deferred_init) or every
    submodule's reset_parameters(), then fn on every submodule, then root_fn on the root."""
    bodies = []
    if recorded is not None:
        keys = {_storage_key(tg.tensor): (tg, tg.tensor) for tg in targets if tg.tensor.is_meta}
        keys.pop(None, None)
        events = list(recorded)
    else:
        events, keys = [], {}
        if reset_parameters:
            bodies.append(_run_resets(module))
    if fn is not None:
        bodies.append(_run_fn(module, fn))
    if root_fn is not None:
        bodies.append(_run_fn(module, root_fn, root_only=True))
    for body in bodies:
        more, more_keys = _record_swapped(targets, body)
        events = _merge(events, more)
        keys.update(more_keys)
    return events, keys


def init_module(
    module: nn.Module,
    fn: Optional[Callable[[nn.Module], None]] = None,
    *,
    root_fn: Optional[Callable[[nn.Module], None]] = None,
    reset_parameters: bool = True,
    seed: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> nn.Module:
    """Re-initialize every parameter and buffer of ``module`` in place by its own scheme.

    Records ``reset_parameters()`` (or ``_reset_parameters()``) of every submodule in post-order
    (unless ``reset_parameters=False``), then ``fn(submodule)`` for every submodule as
    ``Module.apply(fn)`` does, then ``root_fn(module)`` once (a model-level init routine such as
    ``lambda m: m.init_weights()``), without touching memory; then writes the result with batched
    fills. A later whole-tensor write replaces an earlier one. The key is ``seed`` (or drawn once from
    ``generator``, else torch's default generator); each tensor's stream is :func:`stream_of` its
    name. A parameter no recorded code writes is an error that names it; buffers no recorded code
    writes keep their values. Returns ``module``.
    """
    _check_module(module, "init_module")
    targets = _targets(module)
    events, keys = _record_all(module, targets, None, fn, root_fn, reset_parameters)
    lists = _plan(_resolve(events, keys), targets, lambda tg: not tg.is_param and not tg.tensor.is_meta, "init_module")
    device = targets[0].tensor.device if targets else torch.device("cpu")
    _replay(lists, targets, _key_of(seed, generator), device)
    return module


def _merge(first: list[_Event], second: list[_Event]) -> list[_Event]:
    n = max((ev.seq for ev in first), default=-1) + 1
    for ev in second:
        ev.seq += n
    return first + second


def materialize(
    module: nn.Module,
    device: Union[str, torch.device, int] = "cpu",
    fn: Optional[Callable[[nn.Module], None]] = None,
    *,
    root_fn: Optional[Callable[[nn.Module], None]] = None,
    reset_parameters: bool = True,
    seed: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> nn.Module:
    """Turn a meta-device ``module`` into a real one on ``device``, initialized by its own scheme.

    For a module built by :func:`deferred_init`, the init its constructor ran is replayed; otherwise
    ``reset_parameters()`` / ``_reset_parameters()`` of every submodule (skipped with
    ``reset_parameters=False``, for models whose own init routine supersedes it). Then ``fn`` on
    every submodule and ``root_fn`` once on ``module``, as in :func:`init_module`. Init code may
    compute tensors and assign them (``self.cache = precompute(...)``) or write them through
    temporaries (``torch.cat``, ``copy_``, slice assignment): what it computes is replayed on
    ``device``. Each meta tensor is allocated once on ``device`` and written in place; tensors already
    real are moved and keep their values; parameters shared on the meta model stay shared, and a
    :class:`TiedWeightsWarning` says when a model's config declares ties it does not have. Every meta
    tensor must be written by recorded code, or this raises (naming them) before allocating anything:
    it never returns uninitialized memory. Returns ``module``.
    """
    _check_module(module, "materialize")
    device = torch.device(device)
    if device.type == "meta":
        raise ValueError("philoxinit.materialize: device must be a real device, not meta")
    _warn_untied(module)
    targets = _targets(module)
    events, keys = _record_all(module, targets, STATE.deferred.get(module), fn, root_fn, reset_parameters)
    lists = _plan(_resolve(events, keys), targets, lambda tg: not tg.tensor.is_meta, "materialize")
    key = _key_of(seed, generator)
    old = [(tg, tg.tensor) for tg in targets]
    try:
        for tg, t in old:
            if t.is_meta:
                new = torch.empty_like(t, device=device)
            else:
                new = t.detach().to(device)
            if tg.is_param:
                p = nn.Parameter(new, requires_grad=t.requires_grad)
                p.__dict__.update({k: v for k, v in getattr(t, "__dict__", {}).items()})
                new = p
            tg.set(new)
        _replay(lists, targets, key, device)
    except BaseException:
        for tg, t in old:
            tg.set(t)
        raise
    STATE.deferred.pop(module, None)
    return module


class TiedWeightsWarning(UserWarning):
    """A model's config says two parameters are one, but the module holds two."""


def _warn_untied(module: nn.Module) -> None:
    """Warn where a transformers-style model declares tied weights that are separate tensors (e.g.
    after accelerate's init_empty_weights()): materialize would write them independently."""
    config = getattr(module, "config", None)
    if getattr(config, "tie_word_embeddings", False) is not True:
        return  # the model classes list the ties they support; the config says whether they apply
    pairs = []
    tied = getattr(module, "_tied_weights_keys", None)
    if isinstance(tied, dict):  # {"lm_head.weight": "model.embed_tokens.weight"}
        pairs += [(a, b) for a, b in tied.items() if isinstance(a, str) and isinstance(b, str)]
    try:
        out, inp = module.get_output_embeddings(), module.get_input_embeddings()
    except Exception:
        out = inp = None
    if isinstance(out, nn.Module) and isinstance(inp, nn.Module):
        names = {id(m): n for n, m in module.named_modules(remove_duplicate=False)}
        if id(out) in names and id(inp) in names:
            pairs.append((_join(names[id(out)], "weight"), _join(names[id(inp)], "weight")))
    for a, b in dict.fromkeys(pairs):
        try:
            pa, pb = module.get_parameter(a), module.get_parameter(b)
        except AttributeError:
            continue
        if pa is not pb:
            warnings.warn(
                f"philoxinit.materialize: {type(module).__name__}'s config ties '{a}' to '{b}', but they "
                "are two separate parameters here (accelerate's init_empty_weights() unties them), so "
                "they get independent values; call model.tie_weights() before materialize to share one",
                TiedWeightsWarning,
                stacklevel=3,
            )


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def deferred_init(fn: Callable[..., nn.Module], *args, **kwargs) -> nn.Module:
    """Build ``fn(*args, **kwargs)`` on the meta device, recording the init its constructor performs.

    ``materialize`` then replays it (the last whole-tensor write of each tensor, then partial writes
    and other in-place ops in order): recognized fills on philoxinit's kernels (timm's
    ``trunc_normal_``, ``trunc_normal_tf_``, ``variance_scaling_`` and ``lecun_normal_`` included),
    tensors the constructor computes (``nn.Parameter(1e-5 * torch.ones(n))``, rotary frequency
    buffers, ``torch.randn(...) * 0.02``) recomputed on the target device, any other op with torch.
    """
    rec = _Recorder()
    rec.context = f"the constructor {getattr(fn, '__qualname__', fn)}(...)"
    with torch.device("meta"), _recording(rec):
        module = fn(*args, **kwargs)
    _check_module(module, "deferred_init")
    STATE.deferred[module] = rec.events
    return module
