"""Prices in a real browser: the Generate page shows the request's price in dollars, and follows the duration."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import open_app, screenshot

pytestmark = pytest.mark.e2e


def test_the_price_is_shown_in_dollars_and_follows_the_duration(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    price = page.get_by_text(re.compile(r"vendor price list of \d{4}-\d{2}-\d{2}"))
    expect(price).to_contain_text("$1.95: 5 s × $0.39/s")
    expect(price).to_contain_text("this history: no estimate yet")
    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("A paper boat drifting down a rain-soaked street")
    page.get_by_role("radio", name="8", exact=True).click()
    expect(price).to_contain_text("$3.12: 8 s × $0.39/s")
    # The duration sits outside the form so that its change reaches the server; the prompt being typed stays.
    expect(prompt).to_have_value("A paper boat drifting down a rain-soaked street")
    assert e2e_sim.count("create") == 0
    assert all("Authorization" not in r.headers for r in e2e_sim.requests if r.endpoint == "models")
    screenshot(page, "generate-price")


def test_costs_show_in_dollars_on_cards_and_the_sidebar_and_the_budget_refuses_in_both(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    budget = page.get_by_label("Budget ($)", exact=True).and_(page.get_by_test_id("stNumberInputField"))
    budget.fill("3")
    budget.press("Enter")
    page.get_by_label("Prompt", exact=True).fill("A lantern festival over a river")
    page.get_by_role("button", name="Generate").click()
    # The create answer's cost, at once: on the card, and counted against the budget in the sidebar.
    card = page.locator("[class*='st-key-card-']").first
    expect(card).to_contain_text("3,900,000 credits ($1.95)", timeout=30_000)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("3,900,000 credits ($1.95) of 6,000,000 credits ($3.00) spent")
    # What is left ($1.05) does not pay for 8 s ($3.12): refused with both figures, nothing sent.
    page.get_by_role("radio", name="8", exact=True).click()
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_test_id("stAlert").filter(has_text="Nothing was sent")).to_contain_text(
        "6,240,000 credits ($3.12) and 2,100,000 credits ($1.05)"
    )
    assert e2e_sim.count("create") == 1
    screenshot(page, "budget-dollars")
