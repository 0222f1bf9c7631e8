"""Settings from the environment: each variable's name, its default, and how a bad value reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from videogen import settings
from videogen.settings import Money


def test_key_and_base_url_from_environment():
    assert settings.api_key({"AIMLAPI_API_KEY": "a", "AIML_API_KEY": "b"}) == "a"
    assert settings.api_key({"AIML_API_KEY": " b "}) == "b"
    assert settings.api_key({}) is None
    assert settings.base_url({}) == "https://api.aimlapi.com"
    assert settings.base_url({"AIMLAPI_BASE_URL": "http://127.0.0.1:9"}) == "http://127.0.0.1:9"


def test_a_blank_key_is_no_key_and_the_second_name_is_read_after_it():
    assert settings.api_key({"AIMLAPI_API_KEY": "  ", "AIML_API_KEY": "b"}) == "b"
    assert settings.base_url({"AIMLAPI_BASE_URL": " "}) == settings.DEFAULT_BASE_URL


def test_data_dir_and_database_url():
    assert settings.data_dir({}) == Path("data")
    assert settings.data_dir({"PLAYGROUND_DATA_DIR": " /srv/videos "}) == Path("/srv/videos")
    assert settings.database_url({}) == ""
    assert settings.database_url({"DATABASE_URL": " postgresql://db/videos\n"}) == "postgresql://db/videos"


@pytest.mark.parametrize(("value", "seconds"), [("30", 30.0), ("0", 0.1), ("-5", 0.1), ("soon", 10.0), ("", 10.0)])
def test_demo_seconds_have_a_floor_and_a_default(value, seconds):
    assert settings.demo_seconds({"PLAYGROUND_DEMO_SECONDS": value}) == seconds


def test_typical_seconds_are_the_catalogs_unless_set():
    assert settings.typical_seconds({}) is None
    assert settings.typical_seconds({"PLAYGROUND_TYPICAL_SECONDS": "2.5"}) == 2.5
    assert settings.typical_seconds({"PLAYGROUND_TYPICAL_SECONDS": "fast"}) is None


@pytest.mark.parametrize(
    ("env", "money"),
    [
        ({}, None),
        ({"PLAYGROUND_BUDGET_USD": "5"}, Money(5.0, "usd")),
        ({"PLAYGROUND_BUDGET_CREDITS": "900"}, Money(900.0, "credits")),
        # Credits are read first; a sum that is not a number leaves the other spelling to decide.
        ({"PLAYGROUND_BUDGET_CREDITS": "900", "PLAYGROUND_BUDGET_USD": "5"}, Money(900.0, "credits")),
        ({"PLAYGROUND_BUDGET_CREDITS": "lots", "PLAYGROUND_BUDGET_USD": "5"}, Money(5.0, "usd")),
        ({"PLAYGROUND_BUDGET_USD": "-3"}, Money(0.0, "usd")),
        ({"PLAYGROUND_BUDGET_USD": " "}, None),
    ],
)
def test_a_sum_of_money_in_credits_or_dollars(env, money):
    assert settings.budget(env) == money


def test_each_sum_has_its_own_variables():
    env = {"PLAYGROUND_PERSON_BUDGET_USD": "1", "PLAYGROUND_UNPRICED_CEILING_CREDITS": "40"}
    assert settings.budget(env) is None
    assert settings.person_budget(env) == Money(1.0, "usd")
    assert settings.unpriced_ceiling(env) == Money(40.0, "credits")


def test_the_ca_bundle_is_read_under_requests_name_then_curls():
    assert settings.ca_bundle({}) is None
    assert settings.ca_bundle({"CURL_CA_BUNDLE": "/etc/curl.pem"}) == "/etc/curl.pem"
    assert settings.ca_bundle({"REQUESTS_CA_BUNDLE": "/etc/r.pem", "CURL_CA_BUNDLE": "/etc/curl.pem"}) == "/etc/r.pem"


def test_layers_take_each_name_from_the_first_that_sets_it():
    secrets = {"AIMLAPI_BASE_URL": "https://secret.example", "DATABASE_URL": "  ", "PLAYGROUND_BUDGET_USD": 5}
    env = {"AIMLAPI_BASE_URL": "https://env.example", "DATABASE_URL": "postgresql://env/db"}
    assert settings.base_url(settings.Layers(secrets, env)) == "https://secret.example"
    assert settings.base_url(settings.Layers(env, secrets)) == "https://env.example"
    assert settings.database_url(settings.Layers(secrets, env)) == "postgresql://env/db"  # blanks set nothing
    assert settings.budget(settings.Layers(env, secrets)) == Money(5.0, "usd")  # a number from TOML is read as text
    assert dict(settings.Layers(secrets, env)) == {**env, "AIMLAPI_BASE_URL": "https://secret.example", "PLAYGROUND_BUDGET_USD": 5}


def test_the_environment_is_laid_over_or_under_another_source(monkeypatch):
    monkeypatch.setenv("AIMLAPI_BASE_URL", "https://env.example")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    other = {"AIMLAPI_BASE_URL": "https://secret.example", "DATABASE_URL": "postgresql://secret/db"}
    assert settings.base_url(settings.environment_first(other)) == "https://env.example"
    assert settings.base_url(settings.environment_last(other)) == "https://secret.example"
    assert settings.database_url(settings.environment_first(other)) == "postgresql://secret/db"


@pytest.mark.parametrize(
    ("value", "on"), [(None, True), ("", True), ("on", True), ("1", True), ("off", False), (" OFF ", False), ("0", False), ("no", False)]
)
def test_recipes_are_written_unless_turned_off(value, on):
    assert settings.recipes({} if value is None else {"PLAYGROUND_RECIPES": value}) is on
