"""A stand-in for a kernel comm, for ipywidgets 8 (the ``comm`` package) and 7 (ipykernel's).

As ipywidgets' own tests do, widgets then record what they would send instead of
needing a kernel, under either version.
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import pytest

__all__ = ["install_dummy_comm"]


class _Recording:
    """What both versions' dummies add: the messages sent and whether it was closed."""

    messages: list[Any]
    closed: bool

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_msg(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        self.messages.append(data)

    def close(self, *args: Any, **kwargs: Any) -> None:
        self.closed = True


def install_dummy_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every widget created from now on use a recording dummy comm."""
    if ipywidgets.__version__.startswith("7."):
        from ipykernel.comm import Comm

        class KernelDummyComm(_Recording, Comm):  # type: ignore[misc]
            kernel = "Truthy"  # as ipywidgets 7's own tests: widgets send only with a kernel

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.messages = []
                self.closed = False

        monkeypatch.setattr("ipywidgets.widgets.widget.Comm", KernelDummyComm)
        return

    import comm

    class DummyComm(_Recording):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.comm_id = "comm-" + str(id(self))
            self.kernel = "Truthy"
            self.messages = []
            self.closed = False

    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: DummyComm())
