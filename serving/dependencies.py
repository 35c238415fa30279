"""What a handler can ask for, as ``Annotated`` dependencies (the handler author's toolbox).

    @router.post("/v1/applications")
    def score_application(
        body: ApplicationIn,
        model: ModelDep,           # LoadedModel: .bundle, .version, .ref.uri
        caller: ScoreCaller,       # ApiKeyIdentity: .key_id, .label, .scopes
        decisions: DecisionLogDep, # .record(DecisionRecord) -> decision_id
        db: DbDep,                 # sqlalchemy Engine (the ledger and the service tables)
        settings: SettingsDep,
    ) -> ApplicationOut: ...

All of them are ``async def`` functions reading ``app.state`` (no thread hop); ``ModelDep``
answers 503 ``model_not_ready`` when no bundle is loaded. Each request resolves ``ModelDep``
once, so it keeps the bundle it started with even if a swap happens meanwhile.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from creditrisk.serving.auth import ApiKeyIdentity, ApiScope, require_scope
from creditrisk.serving.decisions import DecisionLog, get_decision_log
from creditrisk.serving.errors import ModelNotReady
from creditrisk.serving.model_holder import LoadedModel, ModelHolder
from creditrisk.serving.settings import Settings

__all__ = [
    "AdminCaller",
    "ApiScope",
    "DbDep",
    "DecisionLogDep",
    "ModelDep",
    "ReadCaller",
    "ScoreCaller",
    "SettingsDep",
    "require_scope",
]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_model(request: Request) -> LoadedModel:
    """The bundle serving this request; 503 with a clear message when none is loaded."""
    holder: ModelHolder = request.app.state.model_holder
    current = holder.current
    if current is None:
        raise ModelNotReady("no model is loaded yet (see /readyz); retry in a few seconds")
    return current


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Engine, Depends(get_engine)]
ModelDep = Annotated[LoadedModel, Depends(get_model)]
DecisionLogDep = Annotated[DecisionLog, Depends(get_decision_log)]
ScoreCaller = Annotated[ApiKeyIdentity, Depends(require_scope("score"))]
ReadCaller = Annotated[ApiKeyIdentity, Depends(require_scope("read"))]
AdminCaller = Annotated[ApiKeyIdentity, Depends(require_scope("admin"))]
