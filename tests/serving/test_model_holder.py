"""The model holder: a request keeps the bundle it started with, swaps are atomic, a moved
alias is picked up by the poller or an admin call, a failed load keeps the old bundle, and
no model means 503 rather than a crash."""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import APIRouter

from creditrisk.serving.api.app import create_app
from creditrisk.serving.api.dependencies import ModelDep
from creditrisk.serving.api_keys import generate_api_key
from creditrisk.serving.errors import ModelLoadError, ModelNotReady
from creditrisk.serving.model_holder import LoadedModel, ModelHolder, ModelLoader, ModelRef
from creditrisk.serving.settings import SeededApiKey, Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")  # starlette 1.x prefers httpx2
    from fastapi.testclient import TestClient

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FakeBundle:
    version: str


def load_fake(uri: str) -> FakeBundle:
    """``fake://v7`` -> a bundle that knows it is v7."""
    return FakeBundle(version=uri.rsplit("/", 1)[-1])


class MovableAlias:
    """A registry alias the test can move: resolves to fake://<version>."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.calls = 0

    def __call__(self) -> ModelRef:
        self.calls += 1
        return ModelRef(uri=f"fake://{self.version}", version=self.version)


def make_holder(alias: MovableAlias, loader: ModelLoader = load_fake) -> ModelHolder:
    return ModelHolder(loader=loader, clock=lambda: NOW, resolver=alias)


def loaded(version: str) -> LoadedModel:
    return LoadedModel(FakeBundle(version), ModelRef(f"fake://{version}", version), NOW)


def test_swap_replaces_the_bundle_and_returns_the_previous_one() -> None:
    seen: list[str] = []
    holder = ModelHolder(
        loader=load_fake, clock=lambda: NOW, on_swap=lambda m: seen.append(m.version)
    )
    assert holder.current is None
    assert holder.swap(loaded("1")) is None
    held_by_a_request = holder.current
    previous = holder.swap(loaded("2"))
    assert previous is held_by_a_request
    assert held_by_a_request is not None
    assert held_by_a_request.bundle.version == "1"
    assert holder.current is not None
    assert holder.current.version == "2"
    assert seen == ["1", "2"]


def test_readers_never_see_a_bundle_paired_with_another_version() -> None:
    """Many threads read while one swaps 500 times: bundle and version always agree."""
    holder = make_holder(MovableAlias("0"))
    holder.swap(loaded("0"))
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            current = holder.current
            assert current is not None
            if current.bundle.version != current.ref.version:
                errors.append(f"{current.bundle.version} vs {current.ref.version}")

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for version in range(1, 501):
        holder.swap(loaded(str(version)))
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert holder.current is not None
    assert holder.current.version == "500"


def test_refresh_loads_only_when_the_alias_moved_unless_forced() -> None:
    alias = MovableAlias("1")
    loads: list[str] = []

    def loader(uri: str) -> FakeBundle:
        loads.append(uri)
        return load_fake(uri)

    holder = make_holder(alias, loader)
    first = holder.refresh()
    assert (first.previous_version, first.current_version, first.changed) == (None, "1", True)
    assert not holder.refresh().changed
    alias.version = "2"
    moved = holder.refresh()
    assert (moved.previous_version, moved.current_version, moved.changed) == ("1", "2", True)
    assert holder.refresh(force=True).changed
    assert loads == ["fake://1", "fake://2", "fake://2"]


def test_a_failed_load_keeps_serving_the_old_bundle() -> None:
    alias = MovableAlias("1")

    def loader(uri: str) -> FakeBundle:
        if uri.endswith("broken"):
            raise OSError("artifact store unreachable")
        return load_fake(uri)

    holder = make_holder(alias, loader)
    holder.refresh()
    alias.version = "broken"
    with pytest.raises(ModelLoadError, match="still serving version 1"):
        holder.refresh()
    assert holder.current is not None
    assert holder.current.version == "1"


def test_an_unreachable_registry_keeps_serving_the_old_bundle() -> None:
    alias = MovableAlias("1")
    holder = make_holder(alias)
    holder.refresh()

    def registry_down() -> ModelRef:
        raise ConnectionError("mlflow at 10.0.0.3 refused")

    holder._resolver = registry_down
    with pytest.raises(ModelLoadError, match="registry; still serving version 1"):
        holder.refresh()
    assert holder.current is not None
    assert holder.current.version == "1"


def test_no_loader_or_no_model_configured_is_model_not_ready() -> None:
    with pytest.raises(ModelNotReady):
        ModelHolder(loader=None, clock=lambda: NOW, static_ref=ModelRef("x", "x")).refresh()
    with pytest.raises(ModelNotReady):
        ModelHolder(loader=load_fake, clock=lambda: NOW).refresh()


def test_concurrent_refreshes_never_load_twice_at_once() -> None:
    alias = MovableAlias("1")
    active = 0
    peak = 0
    lock = threading.Lock()

    def slow_loader(uri: str) -> FakeBundle:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.01)
        with lock:
            active -= 1
        return load_fake(uri)

    holder = make_holder(alias, slow_loader)
    threads = [threading.Thread(target=lambda: holder.refresh(force=True)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 1


def test_static_path_is_loaded_once_with_its_path_as_version(tmp_path: Path) -> None:
    holder = ModelHolder(
        loader=load_fake, clock=lambda: NOW, static_ref=ModelRef("/models/v3", "/models/v3")
    )
    assert not holder.polls_registry
    holder.refresh()
    assert holder.current is not None
    assert (holder.current.version, holder.current.bundle.version) == ("/models/v3", "v3")
    assert not holder.refresh().changed


def model_router() -> APIRouter:
    router = APIRouter()

    @router.get("/test/model")
    async def which_model(model: ModelDep) -> dict[str, str]:
        return {"version": model.version}

    return router


@pytest.fixture
def admin_and_reader() -> tuple[str, str, tuple[SeededApiKey, ...]]:
    admin = generate_api_key(label="ops", scopes=["admin"], created_at=NOW)
    reader = generate_api_key(label="bi", scopes=["read"], created_at=NOW)
    seeds = tuple(
        SeededApiKey(key_id=k.record.key_id, key_hash=k.record.key_hash, scopes=k.record.scopes)
        for k in (admin, reader)
    )
    return admin.token, reader.token, seeds


def test_poller_picks_up_a_moved_alias(tmp_path: Path) -> None:
    alias = MovableAlias("1")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'svc.db'}", reload_poll_seconds=0.02)
    app = create_app(settings, model_loader=load_fake, version_resolver=alias,
                     extra_routers=[model_router()])
    with TestClient(app) as client:
        assert client.get("/test/model").json() == {"version": "1"}
        alias.version = "2"
        deadline = time.monotonic() + 5
        while client.get("/test/model").json()["version"] != "2":
            assert time.monotonic() < deadline, "poller did not swap within 5 s"
            time.sleep(0.01)
        metrics = client.get("/metrics").text
        assert 'creditrisk_model_info{model_uri="fake://2",model_version="2"} 1.0' in metrics
        assert 'model_version="1"' not in metrics


def test_admin_reload_swaps_now_and_needs_the_admin_scope(
    tmp_path: Path, admin_and_reader: tuple[str, str, tuple[SeededApiKey, ...]]
) -> None:
    admin, reader, seeds = admin_and_reader
    alias = MovableAlias("1")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'svc.db'}", reload_poll_seconds=0,
                        api_keys=seeds)
    app = create_app(settings, model_loader=load_fake, version_resolver=alias,
                     extra_routers=[model_router()])
    with TestClient(app) as client:
        alias.version = "2"
        assert client.post("/v1/admin/reload", headers={"X-API-Key": reader}).status_code == 403
        assert client.get("/test/model").json() == {"version": "1"}  # no poller: still 1
        response = client.post("/v1/admin/reload", headers={"X-API-Key": admin})
        assert response.status_code == 200
        assert response.json() == {"previous_version": "1", "current_version": "2",
                                   "changed": True}
        assert client.get("/test/model").json() == {"version": "2"}
        again = client.post("/v1/admin/reload", headers={"X-API-Key": admin}).json()
        assert again["changed"] is False
        forced = client.post("/v1/admin/reload?force=true", headers={"X-API-Key": admin}).json()
        assert forced["changed"] is True


def test_admin_reload_of_a_broken_bundle_is_503_and_keeps_serving(
    tmp_path: Path, admin_and_reader: tuple[str, str, tuple[SeededApiKey, ...]]
) -> None:
    admin, _, seeds = admin_and_reader
    alias = MovableAlias("1")

    def loader(uri: str) -> FakeBundle:
        if uri.endswith("broken"):
            raise OSError("/secret/path/model.pkl: no such file")
        return load_fake(uri)

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'svc.db'}", reload_poll_seconds=0,
                        api_keys=seeds)
    app = create_app(settings, model_loader=loader, version_resolver=alias,
                     extra_routers=[model_router()])
    with TestClient(app) as client:
        alias.version = "broken"
        response = client.post("/v1/admin/reload", headers={"X-API-Key": admin})
        assert response.status_code == 503
        assert response.json()["error"] == "model_load_failed"
        assert "/secret/path" not in response.text
        assert client.get("/test/model").json() == {"version": "1"}


def test_model_dependency_is_503_when_no_model_is_loaded(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'svc.db'}")  # no model_uri
    app = create_app(settings, model_loader=load_fake, extra_routers=[model_router()])
    with TestClient(app) as client:
        response = client.get("/test/model")
        assert response.status_code == 503
        assert response.json()["error"] == "model_not_ready"
        assert response.headers["retry-after"] == "5"
        assert client.get("/readyz").status_code == 503


def test_start_up_survives_a_failing_first_load(tmp_path: Path) -> None:
    def broken(uri: str) -> FakeBundle:
        raise OSError("registry down")

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'svc.db'}", model_uri="/m")
    app = create_app(settings, model_loader=broken, extra_routers=[model_router()])
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").json()["model"] == "missing"
        assert client.get("/test/model").status_code == 503
