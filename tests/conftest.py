import pytest


@pytest.fixture(params=["compiled", "torch"])
def backend_name(request, monkeypatch):
    """Runs a test once on the compiled kernels and once on the pure-PyTorch fallback."""
    import philoxinit

    if request.param == "torch":
        monkeypatch.setenv("PHILOXINIT_BACKEND", "torch")
    else:
        monkeypatch.delenv("PHILOXINIT_BACKEND", raising=False)
        if philoxinit.backend().name != "compiled":
            pytest.fail(f"compiled backend unavailable: {philoxinit.backend()}")
    return request.param
