"""The service reads what the batch wrote (real uvicorn over HTTP): a customer's grade, PD,
limit and reasons are identical from ``/v1/customers/{id}/risk`` and from the run at the same
as-of and model version; ``/v1/portfolio`` and ``/v1/worklist`` answer from the latest complete
run (naming it) with the figures the live computation gives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from creditrisk.ledger.database import make_engine
from creditrisk.serving import portfolio
from creditrisk.serving.api.entrypoint import build_service, limit_lightgbm_threads
from creditrisk.serving.api_keys import IssuedApiKey, generate_api_key
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring import runner
from creditrisk.serving.rescoring.columns import split_list
from creditrisk.serving.rescoring.store import ScoreRun, read_run_scores
from creditrisk.serving.settings import SeededApiKey, Settings
from creditrisk.serving.worklist import DunningStages, worklist_records
from tests.serving.bundle_fixture import SERVICE_TODAY, ServingWorld
from tests.serving.rescoring.conftest import AS_OF, sqlite_path
from tests.serving.server import running_server

pytestmark = pytest.mark.slow

NOW = datetime(SERVICE_TODAY.year, SERVICE_TODAY.month, SERVICE_TODAY.day, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> IssuedApiKey:
    return generate_api_key(label="bi", scopes=("read",), created_at=NOW)


@pytest.fixture(scope="module")
def rescored(serving_world: ServingWorld, champion: ServedBundle, serving_ledger_url: str,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ScoreRun]:
    path = tmp_path_factory.mktemp("service-reads") / "ledger.db"
    path.write_bytes(sqlite_path(serving_ledger_url).read_bytes())
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    result = runner.rescore(engine, champion, as_of=AS_OF, model_uri=serving_world.model_uri,
                            buckets=2)
    engine.dispose()
    return url, result.run


@pytest.fixture(scope="module")
def http(serving_world: ServingWorld, rescored: tuple[str, ScoreRun], key: IssuedApiKey
         ) -> Iterator[httpx.Client]:
    settings = Settings(
        database_url=rescored[0], model_uri=serving_world.model_uri,
        tracking_uri=serving_world.tracking_uri, access_log=False, reload_poll_seconds=0,
        api_keys=(SeededApiKey(key_id=key.record.key_id, key_hash=key.record.key_hash,
                               scopes=key.record.scopes),),
    )
    limit_lightgbm_threads()
    with running_server(build_service(settings, clock=lambda: NOW)) as url, httpx.Client(
            base_url=url, timeout=120, headers={"Authorization": f"Bearer {key.token}"}
    ) as client:
        yield client


@pytest.fixture(scope="module")
def run_rows(rescored: tuple[str, ScoreRun]) -> pd.DataFrame:
    engine = make_engine(rescored[0])
    rows = read_run_scores(engine, rescored[1])
    engine.dispose()
    return rows.set_index("customer_id")


def test_risk_answers_and_the_run_agree_on_grade_pd_limit_and_reasons(
    http: httpx.Client, run_rows: pd.DataFrame, rescored: tuple[str, ScoreRun]
) -> None:
    picked = [*run_rows.loc[~run_rows["in_default"]].sample(4, random_state=2).index,
              run_rows.index[run_rows["in_default"]][0]]
    for customer_id in picked:
        row = run_rows.loc[customer_id]
        body = http.get(f"/v1/customers/{customer_id}/risk",
                        params={"as_of": AS_OF.isoformat()}).json()
        assert body["model_version"] == row["model_version"] == rescored[1].model_version
        assert body["grade"] == row["grade"]
        assert body["pd_12m"] == row["pd_12m"]
        assert body["recommended_limit"] == row["recommended_limit"]
        assert body["limit_decision"] == row["decision"]
        assert [r["code"] for r in body["reasons"]] == split_list(row["reason_codes"])
        assert [f["feature"] for f in body["top_factors"]] == split_list(row["top_factors"])
        assert body["expected_loss"] == row["expected_loss"]
        assert body["exposure"] == row["exposure"]
        assert body["grade_history"] == [{
            "as_of": AS_OF.isoformat(), "model_name": row["model_name"],
            "model_version": row["model_version"], "grade": row["grade"],
            "pd_12m": row["pd_12m"], "recommended_limit": row["recommended_limit"],
            "decision": row["decision"]}]


def test_portfolio_and_worklist_answer_from_the_latest_run_like_the_live_book(
    http: httpx.Client, rescored: tuple[str, ScoreRun], serving_world: ServingWorld,
    champion: ServedBundle,
) -> None:
    run = rescored[1]
    live = portfolio.score_portfolio(champion, serving_world.ledger, as_of=AS_OF)
    expected = portfolio.summarize_portfolio(live, champion)
    for params in ({"as_of": AS_OF.isoformat()}, {}):  # asked, and the latest run
        body = http.get("/v1/portfolio", params=params).json()
        assert body["run_id"] == run.run_id
        assert body["as_of"] == AS_OF.isoformat()
        assert body["model_version"] == run.model_version
        assert body["customer_count"] == expected.customer_count
        assert body["open_balance"] == pytest.approx(expected.open_balance, abs=0.01 * 1500)
        assert body["customers_in_default"] == expected.customers_in_default
        assert body["dso_days"] == pytest.approx(expected.dso_days, abs=0.1)
        assert [g["customer_count"] for g in body["grade_mix"]] == [
            g.customer_count for g in expected.grade_mix]

    stages = DunningStages()
    live_list = portfolio.collections_worklist(live, stages=stages)
    body = http.get("/v1/worklist", params={"as_of": AS_OF.isoformat(), "limit": 1000}).json()
    assert body["run_id"] == run.run_id
    assert body["customer_count"] == len(live_list.active)
    expected_items = worklist_records(live_list.active)
    assert [i["customer_id"] for i in body["items"]] == [i["customer_id"]
                                                          for i in expected_items]
    for got, want in zip(body["items"], expected_items, strict=True):
        for name, value in want.items():
            expected_value = value.isoformat() if hasattr(value, "isoformat") else value
            assert got[name] == expected_value, (got["customer_id"], name)


def test_an_as_of_without_a_run_is_scored_live(http: httpx.Client) -> None:
    body = http.get("/v1/portfolio", params={"as_of": "2025-03-31"}).json()
    assert body["run_id"] is None
    assert body["as_of"] == "2025-03-31"


def test_the_rescoring_db_path_is_private(rescored: tuple[str, ScoreRun],
                                          serving_ledger_url: str) -> None:
    assert Path(sqlite_path(rescored[0])) != sqlite_path(serving_ledger_url)
