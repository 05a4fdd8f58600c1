"""The opt-in progress bar of the iterative learners (private module)."""

from __future__ import annotations


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, desc: str, enabled: bool):
    """A tqdm bar when ``enabled``, else an object with the same ``update``/``close``
    that does nothing.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"progress must be True or False, got {enabled!r}")
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc)
