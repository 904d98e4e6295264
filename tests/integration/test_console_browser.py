"""The moderator console in a real headless browser, on the real pipeline and broker.

A worker, the executor and the console run against the local stack. An emergency and an
advert are posted; a moderator signs in (Debian's chromium, driven by selenium through
chromedriver), sees the emergency at the top of the queue, opens the advert's case, sees the
evidence highlighted, rejects the hide, and the test then reads the ``reviews`` record and the
enforcement stage's ``unhide_post`` action from the broker, and the executor's result for it.

Screenshots of the queue and the case go to the run directory, or to the directory named by
MODSTREAM_CONSOLE_SCREENSHOTS (``docs/img`` refreshes the ones docs/console.md shows).
Needs chromium and chromium-driver (deploy/console/install-browser.sh, run by ``make test``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from schemas.action import Action, ActionResult, Decision
from schemas.review import Review
from streams import topics as specs
from streams.enforce import config as enforce_config
from streams.enforce.working_hours import is_monitoring
from streams.policy.loader import load_policy
from workers.console.auth import hash_password
from workers.dev.local_run import LocalPipeline
from workers.settings import DEFAULT_POLICY, REPO_ROOT

from .envelopes import facebook

PASSWORD = "browser-test-password"
EMERGENCY_TEXT = "I want to end it all tonight, I can't do this anymore"
ADVERT_TEXT = "Lip fillers from £80, book now at Glam Aesthetics Pontypridd"


def _browser_binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail(
            "chromium and chromium-driver are missing: run deploy/console/install-browser.sh"
        )
    return chromium, driver


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = _browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",  # tests run as root in CI
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1400",
    ):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture
async def running() -> AsyncIterator[tuple[LocalPipeline, str]]:
    # The console reads each case's comment from comments.assessed, which the worker writes
    # only when asked to.
    run = LocalPipeline(extra_env={"MODSTREAM_EMIT_ASSESSED": "true"})
    await run.create_topics()
    users = [{"name": "morgan", "role": "moderator", "password_hash": hash_password(PASSWORD)}]
    try:
        run.start_worker()
        run.start_executor()
        port = run.start_console(orjson.dumps(users).decode())
        await run.wait_ready()
        await run.wait_listening(port, "console")
        yield run, f"http://127.0.0.1:{port}"
    finally:
        await run.close()


def _screenshot_dir(run: LocalPipeline) -> Path:
    chosen = os.environ.get("MODSTREAM_CONSOLE_SCREENSHOTS", "")
    target = (REPO_ROOT / chosen) if chosen else run.rundir
    target.mkdir(parents=True, exist_ok=True)
    return target


def _wait(chrome: webdriver.Chrome, seconds: float = 20.0) -> WebDriverWait[webdriver.Chrome]:
    return WebDriverWait(chrome, seconds)


def _queue_rows(chrome: webdriver.Chrome, base: str, want: int, timeout_s: float) -> list[str]:
    """Reload the queue until ``want`` cases show (the pipeline decides in the background)."""
    deadline = time.monotonic() + timeout_s
    lanes: list[str] = []
    while time.monotonic() < deadline:
        chrome.get(f"{base}/queue")
        rows = chrome.find_elements(By.CSS_SELECTOR, "tr.case-row")
        lanes = [str(r.get_attribute("data-lane")) for r in rows]
        if len(lanes) >= want:
            return lanes
        time.sleep(1.0)
    raise AssertionError(f"queue shows {lanes} after {timeout_s}s")


def _accept_confirm(chrome: webdriver.Chrome) -> None:
    try:
        _wait(chrome, 5).until(ec.alert_is_present())
        chrome.switch_to.alert.accept()
    except (TimeoutException, NoAlertPresentException):
        pass  # the script is progressive enhancement: without it there is no dialog


async def test_moderator_rejects_a_hide_in_the_browser_and_enforcement_undoes_it(
    running: tuple[LocalPipeline, str], browser: webdriver.Chrome
) -> None:
    run, base = running
    now = int(time.time() * 1000)
    await run.produce(
        specs.RAW.name,
        [
            facebook("70001", "Rhys Evans", 1, EMERGENCY_TEXT, now - 20 * 60_000),
            facebook("70002", "Glam Aesthetics", 2, ADVERT_TEXT, now - 5 * 60_000),
        ],
    )
    shots = _screenshot_dir(run)
    chrome = browser

    # Sign in: every page sends a stranger here first.
    chrome.get(f"{base}/queue")
    _wait(chrome).until(ec.presence_of_element_located((By.ID, "login-form")))
    chrome.find_element(By.ID, "name").send_keys("morgan")
    chrome.find_element(By.ID, "password").send_keys(PASSWORD)
    chrome.find_element(By.ID, "sign-in").click()
    _wait(chrome).until(ec.presence_of_element_located((By.ID, "filters")))
    cookie = chrome.get_cookie("modstream_console")
    assert cookie is not None and cookie["httpOnly"] and cookie["secure"]
    assert cookie["sameSite"] == "Strict"

    # The queue, emergency on top; red when it has waited over 15 minutes in monitoring hours.
    lanes = await asyncio.to_thread(_queue_rows, chrome, base, 2, 150.0)
    assert lanes[0] == "emergency", lanes
    assert "automatic" in lanes, lanes
    top = chrome.find_elements(By.CSS_SELECTOR, "tr.case-row")[0]
    monitoring = enforce_config.from_policy(load_policy(DEFAULT_POLICY)).monitoring
    red = "red" in str(top.get_attribute("class")).split()
    assert red == is_monitoring(int(time.time() * 1000), monitoring)
    chrome.save_screenshot(str(shots / "console-queue.png"))

    # The advert's case: its evidence highlighted in the text.
    advert = chrome.find_element(By.CSS_SELECTOR, "tr.case-row[data-lane='automatic'] a.open")
    advert.click()
    marks = _wait(chrome).until(
        ec.presence_of_all_elements_located((By.CSS_SELECTOR, "#comment-text mark.finding"))
    )
    assert any(m.text for m in marks)
    text = chrome.find_element(By.ID, "comment-text").text
    assert text == ADVERT_TEXT
    hide_row = chrome.find_element(By.CSS_SELECTOR, "#actions tr[data-kind='hide_post']")
    assert "hide_post" in hide_row.text
    chrome.save_screenshot(str(shots / "console-case.png"))

    # Reject the hide (only the hide: the posting limit stays).
    form = chrome.find_element(By.ID, "form-reject")
    for box in form.find_elements(By.CSS_SELECTOR, "input[name='action']"):
        label = box.find_element(By.XPATH, "..").text
        if ("hide_post" in label) != box.is_selected():
            box.click()
    form.find_element(By.NAME, "reason").send_keys("a local business, not spam: leave it up")
    form.find_element(By.ID, "submit-reject").click()
    _accept_confirm(chrome)
    _wait(chrome).until(ec.presence_of_element_located((By.ID, "recorded")))

    # The review on the broker, and what enforcement made of it.
    def done(got: dict[str, list[tuple[bytes | None, bytes]]]) -> bool:
        undo = [Action.from_bytes(v) for _, v in got[specs.ACTIONS.name]]
        performed = [ActionResult.from_bytes(v) for _, v in got[specs.ACTION_RESULTS.name]]
        unhides = {a.action_id for a in undo if a.kind == "unhide_post"}
        return bool(got[specs.REVIEWS.name]) and any(r.action_id in unhides for r in performed)

    got = await run.collect(
        [specs.REVIEWS.name, specs.ACTIONS.name, specs.ACTION_RESULTS.name, specs.DECISIONS.name],
        until=done,
        timeout_s=90,
    )
    (review,) = [Review.from_bytes(v) for _, v in got[specs.REVIEWS.name]]
    assert (review.verb, review.reviewer, review.role) == ("reject", "morgan", "moderator")
    assert [a.kind for a in review.actions] == ["hide_post"]
    hidden = review.actions[0]
    actions = [Action.from_bytes(v) for _, v in got[specs.ACTIONS.name]]
    (unhide,) = [a for a in actions if a.kind == "unhide_post"]
    assert (unhide.target_author, unhide.target_comment) == (
        hidden.target_author,
        hidden.target_comment,
    )
    assert not [a for a in actions if a.kind == "lift_posting_limit"]
    decisions = [Decision.from_bytes(v) for _, v in got[specs.DECISIONS.name]]
    (by_review,) = [d for d in decisions if d.trigger == "review"]
    assert by_review.action_ids == (unhide.action_id,)
    assert by_review.source.split("[")[0].endswith(specs.REVIEWS.name)
    results = [ActionResult.from_bytes(v) for _, v in got[specs.ACTION_RESULTS.name]]
    assert any(r.action_id == unhide.action_id and r.outcome == "done" for r in results)

    # The case page now shows the person's decision and the undo's executor state.
    chrome.refresh()
    _wait(chrome, 30).until(
        ec.text_to_be_present_in_element((By.ID, "reviews"), "a local business, not spam")
    )
    access = (run.rundir / "console-access.log").read_text()
    assert '"user":"morgan"' in access and "facebook:" not in access
