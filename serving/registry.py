"""Where the served bundle comes from: the MLflow registry or a local path.

This is the one module of ``serving`` that reads MLflow. It gives the model holder its two
callables (see :mod:`serving.model_holder`):

* a **loader** ``load(uri_or_path) -> ServedBundle`` for ``models:/NAME/VERSION`` (pinned),
  ``models:/NAME@ALIAS`` (resolved to its version first), an MLflow model directory (with an
  ``MLmodel`` file) or a pickled bundle file (``bundle.pkl``);
* a **version resolver** for the alias: ``models:/creditrisk@champion`` ->
  ``ModelRef("models:/creditrisk/7", "7")``, so the holder loads the pinned version and swaps
  when the alias moves. A local path gets a resolver too: its version is a digest of the
  bundle file, so a replaced file is picked up like a moved alias.

The training metrics of the version's run are read once, when the bundle is loaded, and
travel with it in :class:`ServedBundle` (``GET /v1/model`` never calls MLflow).

A bundle registered before the layers moved under the ``creditrisk`` namespace pickles
classes as ``models.pyfunc.CreditRiskPyfunc``, ``models.bundle.CreditRiskBundle``...; loading
it is refused with :class:`~creditrisk.serving.errors.IncompatibleBundle`, whose message names
the retraining command, instead of a ``ModuleNotFoundError`` traceback.

MLflow is imported inside the functions that use it: importing this module (for
:class:`ServedBundle`) stays cheap.
"""

from __future__ import annotations

import hashlib
import pickletools
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creditrisk.models.bundle import CreditRiskBundle
from creditrisk.serving.errors import IncompatibleBundle, ModelNotReady
from creditrisk.serving.model_holder import LoadedModel, ModelRef, VersionResolver

REGISTRY_SCHEME = "models:/"
_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[A-Za-z0-9_\-]+)$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>[0-9]+)$")
MLMODEL_FILE = "MLmodel"
BUNDLE_FILE_IN_MODEL = Path("artifacts") / "bundle.pkl"
PYTHON_MODEL_FILE = "python_model.pkl"
LOCAL_VERSION_PREFIX = "local-"
PRE_NAMESPACE_PACKAGES = frozenset(
    {"features", "ledger", "migrations", "models", "serving", "synthetic", "training"}
)
"""Top-level names the layers had before they installed as ``creditrisk.<layer>``."""


_STRING_OPCODES = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
     "BINSTRING", "STRING"}
)
_MEMO_OPCODES = frozenset({"MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"})
_GET_OPCODES = frozenset({"GET", "BINGET", "LONG_BINGET"})


def pickled_modules(data: bytes) -> set[str]:
    """The modules whose classes or functions a pickle refers to, read from its opcodes
    without running it (``GLOBAL``/``INST`` arguments and the module string before each
    ``STACK_GLOBAL``)."""
    modules: set[str] = set()
    memo: dict[int, str | None] = {}
    values: list[str | None] = []  # what the last value-pushing opcodes pushed
    for opcode, arg, _position in pickletools.genops(data):
        name = opcode.name
        if name in ("GLOBAL", "INST"):
            modules.add(str(arg).split(" ")[0])
        elif name in _STRING_OPCODES:
            values.append(arg if isinstance(arg, str) else None)
        elif name in _GET_OPCODES:
            values.append(memo.get(arg) if isinstance(arg, int) else None)
        elif name in _MEMO_OPCODES:
            index = arg if isinstance(arg, int) else len(memo)  # MEMOIZE: the next slot
            memo[index] = values[-1] if values and values[-1] is not None else None
            continue
        elif name == "STACK_GLOBAL":
            if len(values) >= 2 and values[-2] is not None:
                modules.add(values[-2])
            values.append(None)
        else:
            values.append(None)
        del values[:-2]
    return modules


def refuse_pre_namespace_pickle(path: Path, *, source: str) -> None:
    """Raise :class:`IncompatibleBundle` when the pickle at ``path`` refers to a module of
    the old layout (``models.pyfunc``...), whatever ``sys.path`` would make of it."""
    with path.open("rb") as fh:
        data = fh.read()
    for module in sorted(pickled_modules(data)):
        if module.split(".")[0] in PRE_NAMESPACE_PACKAGES:
            raise IncompatibleBundle(source, module)


@contextmanager
def refusing_pre_namespace_bundles(source: str) -> Iterator[None]:
    """Turn the ``ModuleNotFoundError`` of unpickling an old-layout bundle (``models.…``)
    into :class:`IncompatibleBundle` naming the retraining command (a second guard behind
    :func:`refuse_pre_namespace_pickle`)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing.split(".")[0] in PRE_NAMESPACE_PACKAGES:
            raise IncompatibleBundle(source, missing) from exc
        raise


class ModelUriError(ValueError):
    """A model URI that is neither ``models:/NAME@ALIAS``, ``models:/NAME/VERSION`` nor a path
    to an existing bundle; the message names the URI."""

    def __init__(self, uri: str, problem: str) -> None:
        super().__init__(f"model URI {uri!r}: {problem}")
        self.uri = uri


@dataclass(frozen=True, slots=True)
class ServedBundle:
    """A bundle as the service serves it: the scoring object plus where it came from."""

    bundle: CreditRiskBundle
    model_name: str
    model_version: str
    source_uri: str
    run_id: str | None = None
    training_metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RegistryUri:
    """A parsed ``models:/`` URI: the registered name and either an alias or a version."""

    name: str
    alias: str | None = None
    version: str | None = None

    @property
    def pinned(self) -> str:
        if self.version is None:
            raise ModelUriError(f"models:/{self.name}@{self.alias}", "not pinned to a version")
        return f"{REGISTRY_SCHEME}{self.name}/{self.version}"


def parse_model_uri(uri: str) -> RegistryUri | None:
    """The registry parts of a ``models:/`` URI; None for anything else (a local path)."""
    if not uri.startswith(REGISTRY_SCHEME):
        return None
    alias = _ALIAS_URI.fullmatch(uri)
    if alias:
        return RegistryUri(name=alias["name"], alias=alias["alias"])
    version = _VERSION_URI.fullmatch(uri)
    if version:
        return RegistryUri(name=version["name"], version=version["version"])
    raise ModelUriError(uri, "expected models:/NAME@ALIAS or models:/NAME/VERSION")


def served_bundle(model: LoadedModel) -> ServedBundle:
    """The :class:`ServedBundle` a handler scores with (the holder stores what the loader
    returned; anything else means the service was wired with a foreign loader)."""
    served = model.bundle
    if not isinstance(served, ServedBundle):
        raise ModelNotReady(
            f"the loaded model is a {type(served).__name__}, not a credit-risk bundle"
        )
    return served


def bundle_file(path: Path) -> Path:
    """The pickled bundle inside ``path`` (an MLflow model directory) or ``path`` itself."""
    if path.is_dir():
        candidate = path / BUNDLE_FILE_IN_MODEL
        if not candidate.is_file():
            raise ModelUriError(str(path), f"no {BUNDLE_FILE_IN_MODEL} in this model directory")
        return candidate
    if not path.is_file():
        raise ModelUriError(str(path), "no such file or directory")
    return path


def local_version(path: str | Path) -> str:
    """Version label of a local bundle: ``local-`` + the first 12 hex of its SHA-256."""
    digest = hashlib.sha256()
    with bundle_file(Path(path)).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return LOCAL_VERSION_PREFIX + digest.hexdigest()[:12]


class ModelRegistry:
    """Loads bundles and resolves aliases against one tracking/registry store."""

    def __init__(self, tracking_uri: str, *, registry_uri: str | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri or tracking_uri

    def _client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)

    # --- resolving ------------------------------------------------------------------
    def resolve(self, uri: str) -> ModelRef:
        """Where ``uri`` points now, pinned: an alias becomes its current version."""
        parsed = parse_model_uri(uri)
        if parsed is None:
            return ModelRef(uri=uri, version=local_version(uri))
        if parsed.alias is not None:
            version = self._client().get_model_version_by_alias(parsed.name, parsed.alias)
            parsed = RegistryUri(name=parsed.name, version=str(version.version))
        assert parsed.version is not None
        return ModelRef(uri=parsed.pinned, version=parsed.version)

    def resolver(self, uri: str) -> VersionResolver:
        """The holder's resolver for ``uri`` (re-resolved at every poll)."""
        parse_model_uri(uri)  # a malformed URI fails now, at start-up, not at the first poll

        def resolve_now() -> ModelRef:
            return self.resolve(uri)

        return resolve_now

    # --- loading --------------------------------------------------------------------
    def load(self, uri_or_path: str) -> ServedBundle:
        """The bundle behind a registry URI (alias or version) or a local path, with its
        per-bundle serving tables built (the first request after a load does not pay them)."""
        parsed = parse_model_uri(uri_or_path)
        if parsed is None:
            served = self._load_local(Path(uri_or_path))
        elif parsed.alias is not None:
            return self.load(self.resolve(uri_or_path).uri)
        else:
            assert parsed.version is not None
            served = self._load_version(parsed.name, parsed.version)
        served.bundle.prepare_for_serving()
        return served

    def _load_version(self, name: str, version: str) -> ServedBundle:
        import mlflow.artifacts

        client = self._client()
        model_version = client.get_model_version(name, version)
        download_uri = client.get_model_version_download_uri(name, version)
        with tempfile.TemporaryDirectory(prefix="creditrisk-model-") as scratch:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=download_uri, dst_path=scratch, tracking_uri=self.tracking_uri
            )
            with refusing_pre_namespace_bundles(f"{REGISTRY_SCHEME}{name}/{version}"):
                bundle = _load_pyfunc_bundle(Path(local))  # fully in memory: scratch can go
        run_id = model_version.run_id or None
        return ServedBundle(
            bundle=bundle,
            model_name=name,
            model_version=str(version),
            source_uri=f"{REGISTRY_SCHEME}{name}/{version}",
            run_id=run_id,
            training_metrics=self.training_metrics(run_id) if run_id else {},
        )

    def _load_local(self, path: Path) -> ServedBundle:
        file = bundle_file(path)
        if path.is_dir() and (path / MLMODEL_FILE).is_file():
            bundle = _load_pyfunc_bundle(path)
        else:
            from creditrisk.models.pyfunc import load_bundle

            refuse_pre_namespace_pickle(file, source=str(path))
            with refusing_pre_namespace_bundles(str(path)):
                bundle = load_bundle(file)
        name = str(bundle.metadata.get("model_name") or path.stem or "bundle")
        return ServedBundle(
            bundle=bundle,
            model_name=name,
            model_version=local_version(path),
            source_uri=str(path),
        )

    def training_metrics(self, run_id: str) -> dict[str, float]:
        """The metrics logged in the training run (last value of each key)."""
        run = self._client().get_run(run_id)
        return {key: float(value) for key, value in sorted(run.data.metrics.items())}


def _load_pyfunc_bundle(model_dir: Path) -> CreditRiskBundle:
    """Load an MLflow pyfunc directory and take the bundle out of its python model, so the
    service scores with exactly the object ``mlflow models serve`` would."""
    import mlflow.pyfunc

    from creditrisk.models.pyfunc import CreditRiskPyfunc

    for pickled in (model_dir / PYTHON_MODEL_FILE, model_dir / BUNDLE_FILE_IN_MODEL):
        if pickled.is_file():
            refuse_pre_namespace_pickle(pickled, source=str(model_dir))
    with refusing_pre_namespace_bundles(str(model_dir)):
        python_model = mlflow.pyfunc.load_model(str(model_dir)).unwrap_python_model()
    if not isinstance(python_model, CreditRiskPyfunc) or python_model.bundle is None:
        raise ModelUriError(str(model_dir), "is not a creditrisk bundle (CreditRiskPyfunc)")
    return python_model.bundle
