"""Seedance 2.0 video generation in Jupyter.

``%load_ext seedance_jupyter`` adds the ``%%seedance`` magic. Importing the
package is cheap: requests, the widgets and the emulator load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import SeedanceError
from .webhooks import verify_webhook_signature

if TYPE_CHECKING:
    from .jobs.client import Client
    from .jobs.handle import Job
    from .kernel.session import KernelSession

__version__ = "0.1.0"
__all__ = [
    "Client",
    "Job",
    "SeedanceError",
    "__version__",
    "current_session",
    "form",
    "load_ipython_extension",
    "unload_ipython_extension",
    "verify_webhook_signature",
]


def __getattr__(name: str) -> Any:
    """Load the client lazily so ``%load_ext`` does not pay for ``requests``."""
    if name == "Client":
        from .jobs.client import Client

        return Client
    if name == "Job":
        from .jobs.handle import Job

        return Job
    raise AttributeError(f"module 'seedance_jupyter' has no attribute {name!r}")


def current_session() -> KernelSession:
    """The loaded extension's session: its client, ledger, poller and backend."""
    from IPython import get_ipython

    from . import messages
    from .kernel.magics import loaded_magics

    magics = loaded_magics(get_ipython())
    if magics is None:
        raise SeedanceError(messages.LOAD_EXTENSION_FIRST)
    return magics.session


def form(**defaults: Any) -> Any:
    """The submission form of this kernel's session; it displays as the widget.

    It loads the extension first if no ``%load_ext`` did (a Voilà app's one
    cell may be ``seedance_jupyter.form()``). ``defaults`` preset the controls:
    prompt, model, duration, aspect_ratio, resolution, media_urls, webhook_url,
    metadata.
    """
    from IPython import get_ipython

    from .kernel.form import SeedanceForm
    from .kernel.magics import loaded_magics

    shell = get_ipython()
    if shell is not None and loaded_magics(shell) is None:
        # As %load_ext does it, so a later %load_ext or %unload_ext knows of it.
        shell.extension_manager.load_extension(__name__)
    return SeedanceForm(current_session(), **defaults)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where Jupyter finds the prebuilt lab extension (named as in ``package.json``)."""
    return [{"src": "labextension", "dest": "seedance-jupyter"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """The server extension; imported only here, so ``%load_ext`` never loads the server."""
    from .server.app import SeedanceServerApp

    return [{"module": "seedance_jupyter.server", "app": SeedanceServerApp}]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (called by ``%load_ext seedance_jupyter``)."""
    from .kernel.magics import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .kernel.magics import unload

    unload(ipython)
