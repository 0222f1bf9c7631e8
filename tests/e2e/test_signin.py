"""Sign-in in a real browser, against a real OpenID Connect provider on loopback (oidc-provider-mock).

Two people sign in to one app and each pastes their own key in the sidebar.
What each makes is theirs, kept under the provider's issuer and subject (never
the e-mail, which is only shown, marked when the provider has not verified it);
each sees only their own generations by default, the team's with the sidebar
switch, and neither can delete the other's.
Without [auth] nothing changes: every other end-to-end test runs so.
"""

from __future__ import annotations

import re
import secrets

import pytest
import requests
from oidc_provider_mock import run_server_in_thread
from playwright.sync_api import expect

from devtools.app_server import AppServer
from devtools.browser import new_context, rerun, wait_for_first_run
from tests.e2e.browser import E2E_JOB_SECONDS, open_app, screenshot, tick_history_row
from videogen.store import Store

pytestmark = pytest.mark.e2e

ANA, BEN = "ana@example.com", "ben@example.com"
# Subjects that are not the addresses: what the app keeps is the subject, whatever the e-mail says.
SUBJECTS = {ANA: "ana-5f1c", BEN: "ben-93a0"}
KEYS = {ANA: "sk-ana-0123456789abcdef", BEN: "sk-ben-fedcba9876543210"}


@pytest.fixture
def provider():
    with run_server_in_thread(port=0) as server:
        url = f"http://localhost:{server.server_port}"
        # Ana's provider has verified her address; Ben's sends his without saying so.
        for who, claims in ((ANA, {"email": ANA, "email_verified": True}), (BEN, {"email": BEN})):
            requests.put(f"{url}/users/{SUBJECTS[who]}", json=claims, timeout=10).raise_for_status()
        yield url


@pytest.fixture
def team_app(e2e_sim, provider, tmp_path):
    server = AppServer(
        # No key configured: each person pastes their own.
        {"AIMLAPI_BASE_URL": e2e_sim.url, "PLAYGROUND_TYPICAL_SECONDS": str(E2E_JOB_SECONDS)},
        tmp_path / "data",
        args=("--secrets.files", str(tmp_path / "secrets.toml")),
    )
    (tmp_path / "secrets.toml").write_text(f"""
[auth]
redirect_uri = "http://localhost:{server.port}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "video-playground"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""")
    yield server.start()
    server.stop()


def sign_in(page, app_url: str, who: str) -> None:
    open_app(page, app_url)
    expect(page.get_by_role("heading", name="History")).to_have_count(0)  # nothing before sign-in
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"localhost:\d+/oauth2/authorize"))
    page.get_by_placeholder("sub").fill(SUBJECTS[who])
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(app_url)))
    wait_for_first_run(page)
    page.locator("[data-testid='stSidebar']").get_by_text(who).wait_for()  # the e-mail is what is shown
    page.get_by_label("API key", exact=True).fill(KEYS[who])
    with rerun(page):
        page.get_by_label("API key", exact=True).press("Enter")
    page.locator("[data-testid='stSidebar']").get_by_text("Live API").wait_for()


def generate(page, prompt: str) -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    with rerun(page):
        page.get_by_role("button", name="Generate").click()
    page.locator("[data-testid='stVideo']").first.wait_for(timeout=60_000)


def history(page) -> str:
    with rerun(page):
        page.get_by_role("link", name="History").click()
    return page.get_by_text(re.compile(r"^Showing \d+ of \d+ generations$")).inner_text()


def test_two_people_each_see_their_own_and_cannot_delete_each_others(team_app, e2e_sim, provider, browser):
    ana = new_context(browser, viewport={"width": 1280, "height": 1000}).new_page()
    ben = new_context(browser, viewport={"width": 1280, "height": 1000}).new_page()
    sign_in(ana, team_app.url, ANA)
    generate(ana, "Ana's lighthouse at dusk")
    sign_in(ben, team_app.url, BEN)
    sidebar = ben.locator("[data-testid='stSidebar']")
    sidebar.get_by_text(f"{BEN} (unverified)").first.wait_for()  # his provider did not say it checked it
    expect(ana.locator("[data-testid='stSidebar']").get_by_text("unverified")).to_have_count(0)
    expect(ben.locator("[data-testid='stVideo']")).to_have_count(0)  # Ana's card is not on Ben's Generate page
    # Nothing of his own yet: History says so and where the team's are, with no empty table.
    with rerun(ben):
        ben.get_by_test_id("stSidebarNavItems").get_by_role("link", name="History").click()
    ben.get_by_text("Nothing of yours yet. The team has made 1 generation").wait_for()
    expect(ben.locator("[data-testid='stDataFrame']")).to_have_count(0)
    with rerun(ben):
        ben.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Generate").click()
    generate(ben, "Ben's harbour at dawn")

    # What each made with their pasted key is theirs, under the provider's issuer and subject; neither key
    # is on either page.
    owners = {r.prompt: r.owner for r in Store(team_app.data_dir).records()}
    assert owners == {"Ana's lighthouse at dusk": f"{provider}#{SUBJECTS[ANA]}", "Ben's harbour at dawn": f"{provider}#{SUBJECTS[BEN]}"}
    assert {job.body["prompt"] for job in e2e_sim.jobs.values()} == set(owners)
    for page in (ana, ben):
        assert not any(key in page.content() for key in KEYS.values())

    assert history(ben) == "Showing 1 of 1 generations"
    with rerun(ben):
        ben.get_by_text("Show the team's generations").click()
    expect(ben.get_by_text(re.compile(r"^Showing \d+ of \d+ generations$"))).to_have_text("Showing 2 of 2 generations")
    # Ana's is the older row, the second: select it. The table is a canvas, so click its checkbox.
    tick_history_row(ben, 1, selected=1)
    detail = ben.locator(".st-key-history-detail")
    detail.get_by_text("Ana's lighthouse").first.wait_for()
    expect(ben.get_by_role("button", name="Delete")).to_be_disabled()
    screenshot(ben, "team-history")

    assert history(ana) == "Showing 1 of 1 generations"
    tick_history_row(ana, 0, selected=1)
    expect(ana.get_by_role("button", name="Delete")).to_be_enabled()  # her own
    # Signing out ends the session at the provider too (its confirmation page), then comes back signed out.
    ana.get_by_role("button", name="Sign out").click()
    ana.wait_for_url(re.compile(r"/oauth2/end_session"))
    ana.get_by_role("button", name="End session").click()
    ana.wait_for_url(re.compile(re.escape(team_app.url)))
    wait_for_first_run(ana)
    ana.get_by_role("button", name="Sign in").wait_for()
    # A link to someone else's generation, in your own view, says whose it is and how to see it.
    (ana_id,) = [r.id for r in Store(team_app.data_dir).records() if r.owner == f"{provider}#{SUBJECTS[ANA]}"]
    open_app(ben, f"{team_app.url}/history?gen={ana_id}")
    ben.get_by_text(f"That link is to a generation made by {ANA}").wait_for()  # her name, not her identity
    for page in (ana, ben):
        page.context.close()
