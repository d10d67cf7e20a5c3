"""A person in headless Chromium signs in to the running demo and approves its consent page."""

import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from demo_helpers import PASSWORD, USERNAME, WEB_CLIENT
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


INSTALL_HINT = "install them with `apt-get install -y chromium chromium-driver` (Debian and Ubuntu)"


def chromium_paths():
    """``(browser, driver)``; fails the test, never skips it, when either is missing."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    pytest.fail(
        "this test needs Chromium and chromedriver on PATH (tox installs them when it runs as root with "
        f"apt-get, see toxfile.py): {INSTALL_HINT}",
        pytrace=False,
    )


@pytest.fixture
def chromium(request):
    browser, driver = chromium_paths()
    options = Options()
    options.binary_location = browser
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    # An explicit driver path keeps Selenium Manager from looking for (and downloading) a driver.
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    request.addfinalizer(session.quit)
    return session


def wait_for(chromium, locator):
    return WebDriverWait(chromium, 15).until(expected_conditions.presence_of_element_located(locator))


def test_sign_in_and_approve_the_consent_page(chromium, demo_server):
    # The demo's web app starts the flow; the authorization endpoint sends an anonymous user to sign in.
    chromium.get(demo_server.url("/try/"))
    wait_for(chromium, (By.ID, "id_username")).send_keys(USERNAME)
    chromium.find_element(By.ID, "id_password").send_keys(PASSWORD)
    chromium.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    wait_for(chromium, (By.NAME, "allow")).click()

    code = wait_for(chromium, (By.ID, "code")).text
    callback = urlsplit(chromium.current_url)
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == demo_server.url("/callback/")
    assert parse_qs(callback.query)["code"] == [code]

    # The code is genuine: the token endpoint takes it with the verifier the web app kept.
    response = requests.post(
        demo_server.url("/o/token/"),
        auth=WEB_CLIENT,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": chromium.find_element(By.ID, "code-verifier").text,
            "redirect_uri": chromium.find_element(By.ID, "redirect-uri").text,
        },
    )
    assert response.status_code == 200, response.text
    assert "id_token" in response.json()
