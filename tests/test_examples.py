"""The ``>>>`` examples in the public functions' docstrings run and print what they say.

Each function's examples run on their own, in a namespace with torch, math and philoxinit, as a
reader would paste them after ``import math, torch, philoxinit``.
"""

import doctest
import math

import pytest
import torch

import philoxinit

# philoxinit's own functions (torch.nn.init's constant_, eye_, ... and the deprecated aliases are
# torch's code and torch's docs)
DOCUMENTED = [
    "uniform_", "normal_", "trunc_normal_", "random_bits_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_", "variance_scaling_", "lecun_uniform_", "lecun_normal_",
    "calculate_gain", "philox4x32_10",
]  # fmt: skip


def run_examples(fn) -> doctest.TestResults:
    globs = {"torch": torch, "math": math, "philoxinit": philoxinit}
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder(recurse=False).find(fn, fn.__name__, globs=globs):
        runner.run(test)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize("name", DOCUMENTED)
def test_docstring_examples_run(name):
    failed, attempted = run_examples(getattr(philoxinit, name))
    assert attempted > 0, f"{name} has no example"
    assert failed == 0


@pytest.mark.parametrize("name", DOCUMENTED)
def test_docstrings_document_every_parameter(name):
    import inspect

    fn = getattr(philoxinit, name)
    args = fn.__doc__.split("Args:", 1)[1]
    missing = [p for p in inspect.signature(fn).parameters if f"\n        {p}:" not in args]
    assert missing == []


def test_every_public_function_of_philoxinit_is_documented_here():
    own = [
        n for n in philoxinit.init.__all__
        if getattr(getattr(philoxinit, n), "__module__", "").startswith("philoxinit")
        and not (getattr(philoxinit, n).__doc__ or "").lstrip().startswith(n)  # deprecated aliases
    ]  # fmt: skip
    assert sorted(own + ["philox4x32_10"]) == sorted(DOCUMENTED)
