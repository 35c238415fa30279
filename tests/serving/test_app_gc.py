"""The service keeps its loaded model out of the cyclic garbage collector's walks: objects
alive when a model is swapped in are frozen (``gc.freeze``), so a full collection during a
request no longer walks the bundle and the libraries (~0.9 s measured on the demo bundle)."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from creditrisk.serving.api.app import create_app
from creditrisk.serving.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")  # starlette 1.x prefers httpx2
    from fastapi.testclient import TestClient


class Loaded:
    """A stand-in bundle: a plain object the collector tracks (it has a ``__dict__``)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.parts = [{"tree": index} for index in range(10)]


@dataclass
class Started:
    client: TestClient
    frozen_before: int


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Started]:
    frozen_before = gc.get_freeze_count()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'svc.db'}", model_uri="/models/1")
    app = create_app(settings, model_loader=Loaded)
    with TestClient(app) as client:
        yield Started(client, frozen_before)


def in_a_generation(target: object) -> bool:
    return any(obj is target for obj in gc.get_objects())


def test_the_loaded_model_is_frozen_after_it_is_swapped_in(started: Started) -> None:
    holder = started.client.app.state.model_holder  # type: ignore[attr-defined]
    bundle = holder.current.bundle
    assert gc.is_tracked(bundle)
    assert gc.get_freeze_count() > started.frozen_before
    assert not in_a_generation(bundle)  # frozen objects are in no generation
    assert not in_a_generation(bundle.parts)


def test_an_object_made_after_the_swap_is_still_collected_normally(started: Started) -> None:
    """Negative control: only what was alive at the swap is frozen; a request's objects stay
    in the generations (and their cycles are collected as before)."""
    later = Loaded("/models/later")
    assert in_a_generation(later)
    assert started.client.get("/healthz").status_code == 200
