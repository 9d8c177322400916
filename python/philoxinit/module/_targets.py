"""The tensors of a module: each parameter and buffer once (tied ones share a target), with its slots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import torch.nn as nn
from torch import Tensor


@dataclass
class _Target:
    name: str  # fully qualified name (the first one, for tied tensors)
    tensor: Tensor
    is_param: bool
    owner: str  # "Linear 'blocks.0.fc'"
    slots: list = field(default_factory=list)  # (module, attribute name)

    def set(self, value: Tensor) -> None:
        for mod, attr in self.slots:
            (mod._parameters if self.is_param else mod._buffers)[attr] = value
        self.tensor = value


def _owner(mod_name: str, mod: nn.Module) -> str:
    return f"{type(mod).__name__} '{mod_name}'" if mod_name else f"{type(mod).__name__} (the root module)"


def _targets(module: nn.Module) -> list[_Target]:
    by_id: dict[int, _Target] = {}
    seen_slots = set()
    for mod_name, mod in module.named_modules(remove_duplicate=False):
        for is_param, table in ((True, mod._parameters), (False, mod._buffers)):
            for attr, t in table.items():
                if t is None or (id(mod), attr) in seen_slots:
                    continue
                seen_slots.add((id(mod), attr))
                tg = by_id.get(id(t))
                if tg is None:
                    fqn = f"{mod_name}.{attr}" if mod_name else attr
                    if isinstance(t, nn.parameter.UninitializedTensorMixin):
                        raise TypeError(
                            f"philoxinit: {_owner(mod_name, mod)} has an uninitialized lazy tensor "
                            f"'{fqn}'; run a forward pass (or give it a shape) before initializing"
                        )
                    tg = by_id[id(t)] = _Target(fqn, t, is_param, _owner(mod_name, mod))
                tg.slots.append((mod, attr))
    return list(by_id.values())


def _post_order(module: nn.Module, prefix: str = "") -> Iterator[tuple[str, nn.Module]]:
    """(name, submodule) as ``Module.apply`` visits them: children first, then the module."""
    for name, child in module._modules.items():
        if child is not None:
            yield from _post_order(child, f"{prefix}.{name}" if prefix else name)
    yield prefix, module


def _kind(tg) -> str:
    return "parameter" if tg.is_param else "buffer"
