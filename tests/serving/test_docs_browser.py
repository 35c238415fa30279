"""``/docs`` in a real headless Chromium, offline: it renders, Authorize takes an API key, and
one request executed from the page succeeds.

The browser cannot reach any host but 127.0.0.1 (every other name resolves to nothing), and
Chromium's own network log of the page is checked: no request goes anywhere but the service.
``/redoc`` is loaded the same way. Needs Debian's ``chromium`` and ``chromium-driver``
(``.ci/run`` installs them when it can); skipped with the reason when they are missing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from creditrisk.serving.api.entrypoint import build_service, limit_lightgbm_threads
from creditrisk.serving.api_keys import IssuedApiKey, generate_api_key
from creditrisk.serving.settings import SeededApiKey, Settings
from tests.serving.bundle_fixture import SERVICE_TODAY, ServingWorld
from tests.serving.server import running_server

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NOW = datetime(SERVICE_TODAY.year, SERVICE_TODAY.month, SERVICE_TODAY.day, 12, tzinfo=UTC)
WAIT_S = 30
LOCAL_HOSTS = {"127.0.0.1"}

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "no headless browser: install Debian's chromium and chromium-driver "
        "(apt-get install chromium chromium-driver) to run the /docs browser test",
        allow_module_level=True,
    )

from selenium.webdriver.common.by import By  # noqa: E402  (only once a browser exists)
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def read_key() -> IssuedApiKey:
    return generate_api_key(label="docs", scopes=("read",), created_at=NOW)


@pytest.fixture(scope="module")
def base_url(
    serving_world: ServingWorld, serving_ledger_url: str, read_key: IssuedApiKey
) -> Iterator[str]:
    seed = SeededApiKey(key_id=read_key.record.key_id, key_hash=read_key.record.key_hash,
                        scopes=read_key.record.scopes)
    settings = Settings(
        database_url=serving_ledger_url,
        model_uri=serving_world.model_uri,
        tracking_uri=serving_world.tracking_uri,
        api_keys=(seed,),
        reload_poll_seconds=0,
        access_log=False,
    )
    limit_lightgbm_threads()
    with running_server(build_service(settings, clock=lambda: NOW)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        # offline: every host name but the loopback address resolves to nothing
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--no-proxy-server",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver: WebDriver) -> tuple[list[str], list[str]]:
    """The URLs the page asked for since the last call (Chromium's DevTools network log):
    those sent, and those the page's Content-Security-Policy blocked inside the browser."""
    urls: dict[str, str] = {}
    blocked: set[str] = set()
    for entry in driver.get_log("performance"):
        message: dict[str, Any] = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls[params["requestId"]] = str(params["request"]["url"])
        elif message.get("method") == "Network.loadingFailed" and params.get(
            "blockedReason"
        ) == "csp":
            blocked.add(params["requestId"])
    sent = [url for request_id, url in urls.items() if request_id not in blocked]
    return sent, [urls[request_id] for request_id in blocked if request_id in urls]


def assert_all_local(urls: list[str]) -> None:
    remote = [
        url for url in urls
        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
        and urlsplit(url).hostname not in LOCAL_HOSTS
    ]
    assert remote == [], f"the page asked remote hosts: {remote}"


def wait_for(driver: WebDriver, css: str) -> WebElement:
    element: WebElement = WebDriverWait(driver, WAIT_S).until(
        expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, css))
    )
    return element


def test_docs_render_offline_authorize_and_execute_one_request(
    browser: WebDriver, base_url: str, read_key: IssuedApiKey
) -> None:
    browser.get(f"{base_url}/docs")
    wait_for(browser, "#operations-model-model_info_v1_model_get .opblock-summary")
    assert "creditrisk" in browser.find_element(By.CSS_SELECTOR, ".info .title").text

    wait_for(browser, "button.authorize").click()
    containers = WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".modal-ux .auth-container")
    )
    header_scheme = next(c for c in containers if "ApiKeyHeader" in c.text)
    header_scheme.find_element(By.CSS_SELECTOR, "input").send_keys(read_key.token)
    header_scheme.find_element(By.CSS_SELECTOR, "button.authorize").click()
    wait_for(browser, ".modal-ux button.btn-done").click()

    wait_for(browser, "#operations-model-model_info_v1_model_get .opblock-summary").click()
    wait_for(browser, "#operations-model-model_info_v1_model_get .try-out__btn").click()
    wait_for(browser, "#operations-model-model_info_v1_model_get button.execute").click()
    status = WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR,
            "#operations-model-model_info_v1_model_get .live-responses-table "
            ".response .response-col_status",
        )
    )[0]
    body = browser.find_element(
        By.CSS_SELECTOR,
        "#operations-model-model_info_v1_model_get .live-responses-table .microlight",
    ).text
    assert status.text.strip().startswith("200"), body
    assert '"model_version"' in body

    urls, blocked = requested_urls(browser)
    assert any(url.endswith("/docs-assets/swagger-ui-bundle.js") for url in urls), urls
    assert any(url.endswith("/v1/model") for url in urls), urls
    assert_all_local(urls)
    assert blocked == []


def test_redoc_renders_offline(browser: WebDriver, base_url: str) -> None:
    browser.get(f"{base_url}/redoc")
    WebDriverWait(browser, WAIT_S).until(
        lambda d: "Score" in d.find_element(By.TAG_NAME, "body").text
        or len(d.find_elements(By.CSS_SELECTOR, "[data-section-id]")) > 5
    )
    urls, blocked = requested_urls(browser)
    assert any(url.endswith("/docs-assets/redoc.standalone.js") for url in urls), urls
    assert_all_local(urls)
    # ReDoc's bundle hard-codes a remote logo; the page's policy stops it in the browser
    assert blocked in ([], ["https://cdn.redoc.ly/redoc/logo-mini.svg"]), blocked
