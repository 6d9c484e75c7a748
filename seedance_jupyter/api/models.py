"""The models resource: ``GET /models``, and the catalogue cached from it."""

from __future__ import annotations

import logging
import threading

from .. import messages
from ..catalog import Catalog, ModelInfo
from ..errors import MalformedResponseError, SeedanceError
from .transport import Transport

__all__ = ["Models"]

_log = logging.getLogger("seedance_jupyter")


class Models:
    """The live catalogue, read once per client and kept."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()

    def list(self) -> list[ModelInfo]:
        """``GET /models``, parsed; refreshes the cached catalogue."""
        payload = self._transport.request("GET", "/models", idempotent=True, auth=False)
        data = payload.get("data")
        if not isinstance(data, list) or not data:
            raise MalformedResponseError(
                messages.MALFORMED_RESPONSE.format(detail="models: data is not a list")
            )
        models = [ModelInfo.from_api(entry) for entry in data]
        with self._lock:
            self._catalog = Catalog(models, live=True)
        return models

    def catalog(self) -> Catalog:
        """The live catalogue, or the documented one when ``/models`` cannot be read."""
        with self._lock:
            cached = self._catalog
        if cached is not None:
            return cached
        try:
            self.list()
        except SeedanceError as exc:
            _log.warning("using the documented model catalogue: %s", exc)
            with self._lock:
                self._catalog = self._catalog or Catalog.documented()
        with self._lock:
            assert self._catalog is not None
            return self._catalog
