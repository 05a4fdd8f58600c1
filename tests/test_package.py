"""The package's public surface: every name in ``relulearn.__all__`` exists and is documented."""

import relulearn as rl


def test_every_public_name_resolves_and_has_a_docstring():
    missing = [n for n in rl.__all__ if not hasattr(rl, n)]
    assert not missing
    undocumented = [
        n
        for n in rl.__all__
        if callable(getattr(rl, n)) and not (getattr(rl, n).__doc__ or "").strip()
    ]
    assert not undocumented


def test_star_import_gives_the_public_names():
    ns = {}
    exec("from relulearn import *", ns)  # noqa: S102 - the star import itself is tested
    assert {"recover_exact", "recover_symmetric", "planted_network", "sample"} <= set(
        ns
    )
    assert not any(n.startswith("_") and n != "__version__" for n in rl.__all__)
