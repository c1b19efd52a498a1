"""End-to-end journeys in real headless Debian chromium (selenium + /usr/bin/chromedriver, no downloads)."""

from __future__ import annotations

import csv
import io
import time

import pytest

from .e2e import LiveServer, have_browser, make_driver, wait_file

pytestmark = pytest.mark.skipif(not have_browser(), reason="needs Debian chromium and chromium-driver")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from cnai.web.app import create_app

    root = tmp_path_factory.mktemp("e2e")
    app = create_app(root / "ws")
    (root / "dl").mkdir()
    with LiveServer(app) as url:
        driver = make_driver(root / "chrome-profile", root / "dl")
        try:
            yield driver, url, root
        finally:
            driver.quit()
            app.fastapi.state.jobs.shutdown()


def _by(driver, css, timeout=15):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def _statuses(driver, url, sid):
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/services/{sid}/duties?status=all")
    return {r.get_attribute("id"): r.get_attribute("data-status")
            for r in driver.find_elements(By.CSS_SELECTOR, "#duties-table tbody tr")}


@pytest.mark.slow
def test_journeys(site):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, url, root = site
    # 1. create a service from the generated form
    driver.get(f"{url}/services")
    driver.find_element(By.ID, "new-service").click()
    _by(driver, "#service-form")
    driver.find_element(By.ID, "f-service.name").send_keys("E2E 智能客服")
    driver.find_element(By.ID, "f-service.launch_date").send_keys("03/03/2025")
    Select(driver.find_element(By.ID, "f-audience.public_in_mainland")).select_by_value("true")
    Select(driver.find_element(By.ID, "f-model.source")).select_by_value("self_developed")
    driver.find_element(By.CSS_SELECTOR, "input[name='roles'][value='provider']").click()
    driver.find_element(By.CSS_SELECTOR, "input[name='capabilities.generates'][value='text']").click()
    driver.find_element(By.ID, "save-service").click()
    try:
        _by(driver, "#to-duties")
    except Exception:
        raise AssertionError(driver.current_url + " " + driver.find_element(By.TAG_NAME, "main").text[:500]) from None
    assert "E2E 智能客服" in driver.find_element(By.TAG_NAME, "h1").text
    sid = driver.current_url.rstrip("/").rsplit("/", 1)[1]

    # 2. answer a needs-info question inline and see a duty change
    before = _statuses(driver, url, sid)
    rows = driver.find_elements(By.CSS_SELECTOR, "#duties-table tr[data-status='needs_info']")
    target = path = None
    for r in rows:
        codes = r.find_elements(By.CSS_SELECTOR, ".missing code")
        if len(codes) == 1:
            target, path = r.get_attribute("id"), codes[0].text
            forms = driver.find_elements(By.CSS_SELECTOR, f"form.question[data-fact='{path}']")
            if forms:
                break
    assert target and path, "a duty waiting on a single fact"
    form = driver.find_element(By.CSS_SELECTOR, f"form.question[data-fact='{path}']")
    boxes = form.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
    texts = form.find_elements(By.CSS_SELECTOR, "input[name=value]:not([type=checkbox])")
    if boxes:
        boxes[0].click()
    elif texts:
        kind = texts[0].get_attribute("type")
        texts[0].send_keys({"number": "1000", "date": "01/01/2025"}.get(kind, "x"))
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _by(driver, "#duties-table")
    after = _statuses(driver, url, sid)
    assert before[target] == "needs_info" and after[target] != "needs_info", (path, after[target])

    # 3. download the action list (CSV) and check it lists that duty
    driver.get(f"{url}/services/{sid}/duties")
    driver.find_element(By.ID, "dl-csv").click()
    csv_file = wait_file(root / "dl", ".csv")
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
    ids = {r["id"] for r in rows}
    assert rows and (target[len("duty-"):] in ids) == (after[target] != "not_applicable")

    # 4. start an assessment against the mock target and watch it finish (SSE updates, then the report)
    driver.get(f"{url}/assessments")
    t = driver.find_element(By.NAME, "target")
    t.clear()
    t.send_keys("mock:mixed?latency=0.1")
    s = driver.find_element(By.NAME, "sample")
    s.clear()
    s.send_keys("60")
    driver.find_element(By.ID, "start-run").click()
    _by(driver, "#job")
    seen = set()
    end = time.time() + 40
    while time.time() < end:
        els = driver.find_elements(By.ID, "conclusion")
        if els:
            break
        try:
            st = driver.find_elements(By.ID, "job-status")
            if st:
                seen.add(st[0].text)
        except StaleElementReferenceException:
            pass  # the page swapped the status element (live update) between finding and reading it
        time.sleep(0.1)
    assert driver.find_elements(By.ID, "conclusion"), f"run did not finish in the page (saw {seen})"
    assert "running" in seen  # the live status was shown while it ran
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart g.row")

    # 5. upload an image, see it has no label, embed one, see it valid, download it
    from PIL import Image

    from cnai.label.codes import build_provider_code

    img = root / "photo.png"
    Image.new("RGB", (80, 60), (10, 120, 200)).save(img)
    driver.get(f"{url}/labels")
    driver.find_element(By.CSS_SELECTOR, "#label-upload input[type=file]").send_keys(str(img))
    driver.find_element(By.CSS_SELECTOR, "#label-upload button").click()
    assert _by(driver, "[data-check]").get_attribute("data-check") == "fail"
    driver.find_element(By.CSS_SELECTOR, ".embed-form input[name=producer]").send_keys(
        build_provider_code("91110108MA01C4K7XK"))
    driver.find_element(By.CSS_SELECTOR, ".embed-form button").click()
    assert _by(driver, "[data-after]").get_attribute("data-after") == "ok"
    driver.find_element(By.CSS_SELECTOR, "a[id^='dl-up-']").click()
    got = wait_file(root / "dl", "-labelled.png")
    from cnai.label.api import check_file

    assert check_file(str(got))["ok"] is True

    # no CSP violations or script errors in the whole session
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
