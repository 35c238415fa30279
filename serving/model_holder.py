"""Holds the model bundle being served and replaces it atomically when a new one is promoted.

``ModelHolder.current`` is one immutable ``LoadedModel`` (bundle object + where it came from
+ its version). A request takes that reference once (``ModelDep``) and uses it to the end,
so a swap never changes the model under a request in flight: the old bundle lives on until
its last request drops it. ``swap`` replaces the reference under a lock; loading the new
bundle happens before, outside the lock, while the old one keeps serving.

What "the model" is comes from two injected callables, so this module knows nothing of
MLflow or of the bundle's type:

- ``loader(uri_or_path) -> bundle``: loads a bundle (e.g. ``mlflow.pyfunc.load_model``);
- ``resolver() -> ModelRef``: where the registry alias points *now*, as a pinned URI and a
  version (``ModelRef("models:/creditrisk/7", "7")`` for ``models:/creditrisk@champion``).
  Pinning matters: loading the alias itself could race with the alias moving again.

Without a resolver the holder serves the fixed ``static_ref`` (a local path) and never polls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import anyio
import anyio.to_thread

from creditrisk.serving.errors import ModelLoadError, ModelNotReady, ModelUnavailable

logger = logging.getLogger("creditrisk.model")

ModelLoader = Callable[[str], Any]


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Where a bundle is loaded from (a pinned registry URI or a path) and its version label."""

    uri: str
    version: str


VersionResolver = Callable[[], ModelRef]


class ReloadCounter(Protocol):
    """Whatever counts refresh outcomes (the service's metrics): changed, unchanged, failed."""

    def count_reload(self, outcome: str) -> None: ...


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A bundle in memory together with the reference it was loaded from."""

    bundle: Any
    ref: ModelRef
    loaded_at: datetime

    @property
    def version(self) -> str:
        return self.ref.version


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    """What a refresh did: ``changed`` is True when a new bundle was swapped in."""

    previous_version: str | None
    current_version: str | None
    changed: bool


class ModelHolder:
    """The served bundle, swapped atomically; see the module docstring."""

    def __init__(
        self,
        *,
        loader: ModelLoader | None,
        clock: Callable[[], datetime],
        resolver: VersionResolver | None = None,
        static_ref: ModelRef | None = None,
        on_swap: Callable[[LoadedModel], None] | None = None,
    ) -> None:
        self._loader = loader
        self._resolver = resolver
        self._static_ref = static_ref
        self._clock = clock
        self._on_swap = on_swap
        self._current: LoadedModel | None = None
        self._swap_lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    @property
    def current(self) -> LoadedModel | None:
        """The bundle to use for a request starting now (None before the first load)."""
        return self._current

    @property
    def polls_registry(self) -> bool:
        return self._resolver is not None

    def swap(self, new: LoadedModel) -> LoadedModel | None:
        """Serve ``new`` from now on; returns the bundle it replaced."""
        with self._swap_lock:
            previous, self._current = self._current, new
            if self._on_swap is not None:
                self._on_swap(new)
        logger.info(
            "serving model version %s from %s (was %s)",
            new.ref.version,
            new.ref.uri,
            previous.ref.version if previous else "none",
        )
        return previous

    def load_from(self, uri_or_path: str, *, version: str | None = None) -> LoadedModel:
        """Load a bundle with the injected loader and swap it in (blocking)."""
        if self._loader is None:
            raise ModelNotReady("no model loader is configured for this service")
        ref = ModelRef(uri=uri_or_path, version=version or uri_or_path)
        bundle = self._loader(uri_or_path)
        loaded = LoadedModel(bundle=bundle, ref=ref, loaded_at=self._clock())
        self.swap(loaded)
        return loaded

    def wanted_ref(self) -> ModelRef | None:
        """What should be served now: the resolver's answer, else the static reference."""
        if self._resolver is not None:
            return self._resolver()
        return self._static_ref

    def refresh(self, *, force: bool = False) -> RefreshOutcome:
        """Load and swap when the wanted reference differs from the served one (or ``force``).

        Blocking (resolver and loader do I/O): call it from a worker thread. Concurrent
        refreshes are serialised, so the poller and an admin call never load twice at once.
        On a load failure the current bundle keeps serving and ``ModelLoadError`` is raised
        (or the loader's own :class:`ModelUnavailable`, which says why).
        """
        with self._refresh_lock:
            current = self._current
            previous_version = current.ref.version if current else None
            try:
                wanted = self.wanted_ref()
            except Exception as exc:
                logger.exception("resolving the model alias failed")
                raise ModelLoadError("the model registry", previous_version) from exc
            if wanted is None:
                raise ModelNotReady("no model is configured (set CREDITRISK_MODEL_URI)")
            if not force and current is not None and current.ref == wanted:
                return RefreshOutcome(previous_version, previous_version, changed=False)
            try:
                loaded = self.load_from(wanted.uri, version=wanted.version)
            except ModelUnavailable:  # says itself why (no loader, a pre-namespace bundle...)
                raise
            except Exception as exc:
                logger.exception("loading model version %s failed", wanted.version)
                raise ModelLoadError(repr(wanted.uri), previous_version) from exc
            return RefreshOutcome(previous_version, loaded.ref.version, changed=True)


async def refresh_in_thread(
    holder: ModelHolder, metrics: ReloadCounter | None, *, force: bool = False
) -> RefreshOutcome:
    """``holder.refresh`` off the event loop, counted in the reload metric."""
    try:
        outcome = await anyio.to_thread.run_sync(
            lambda: holder.refresh(force=force), abandon_on_cancel=True
        )
    except Exception:
        if metrics is not None:
            metrics.count_reload("failed")
        raise
    if metrics is not None:
        metrics.count_reload("changed" if outcome.changed else "unchanged")
    return outcome


async def poll_registry(
    holder: ModelHolder, metrics: ReloadCounter | None, *, interval_seconds: float
) -> None:
    """Forever: every ``interval_seconds`` re-resolve the alias and swap when it moved.

    Failures are logged and retried at the next tick; the served bundle stays as it is.
    """
    while True:
        await anyio.sleep(interval_seconds)
        try:
            await refresh_in_thread(holder, metrics)
        except Exception:
            logger.warning("model refresh failed; will retry in %.1fs", interval_seconds)
