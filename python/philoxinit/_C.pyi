"""Types of philoxinit's compiled extension (csrc/bindings.cpp and the register_* functions it calls).

The extension takes raw pointers and plain numbers, never torch objects: a request is the tuple
``Request.as_tuple(tensor)`` builds (python/philoxinit/_request.py, csrc/request_tuple.h)."""

from typing import Optional, TypedDict

Dims = list[int]
ParamTuple = tuple[float, float, float, float, float, float, float, float]
# (data_ptr, dtype code, distribution code, sizes, strides, global strides, global offset, key,
#  stream, offset, parameters)
RequestTuple = tuple[int, int, int, Dims, Dims, Dims, int, int, int, int, ParamTuple]

class CudaDevice(TypedDict):
    index: int
    supported: bool
    error: Optional[str]

class CudaInfo(TypedDict):
    compiled: bool
    architectures: list[str]
    runtime_version: int
    driver_version: int
    device_count: int
    error: Optional[str]
    devices: list[CudaDevice]

class EmulatedLaunches(TypedDict):
    launches: int
    items: int
    vector_stores: int
    element_stores: int
    elements_written: int
    misaligned: int

cuda_compiled: bool
_cuda_table_capacity: tuple[int, int, int]

def philox4x32_10(counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, int, int, int]: ...
def fill_cpu(requests: list[RequestTuple], threads: int = 1) -> None: ...
def cpu_isas() -> list[str]: ...
def cpu_isa() -> str: ...
def set_isa(name: str) -> None: ...
def cuda_available() -> bool: ...
def cuda_device_supported(device: int) -> bool: ...
def cuda_info() -> CudaInfo: ...

# only where cuda_compiled is True
def fill_cuda(requests: list[RequestTuple], device: int, stream: int) -> None: ...
def _cuda_emulate_fill(requests: list[RequestTuple], grid: int, block: int) -> EmulatedLaunches: ...
