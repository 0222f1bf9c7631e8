"""Improve prompt through the connection: every call the server may have charged for is recorded with its cost,
counts in spend and the budget, and a spent budget asks nothing."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from videogen import catalog, media, spend
from videogen.api import CREDITS_PER_USD
from videogen.rewrite import RewriteError
from videogen.simulator import Fault
from videogen.spend import Budget

FOX = "a fox in snow"
I2V = "kling-video/v1.6/standard/image-to-video"


def test_a_rewrite_is_recorded_with_its_cost_and_counts_in_spend(sim, conn):
    before = conn.store.spending(conn.server, conn.account, "ana")
    result, call = conn.improve_prompt(FOX, video_model="veo2", kind="text-to-video", owner="ana")
    assert result.text.startswith(FOX) and result.demo and result.cost_usd > 0
    (kept,) = conn.store.chat_calls(conn.server, conn.account, "ana")
    assert kept == call
    assert (kept.prompt, kept.answer, kept.chat_model, kept.usd, kept.accepted) == (FOX, result.text, "gpt-4o-mini", result.cost_usd, False)
    after = conn.store.spending(conn.server, conn.account, "ana")
    assert after.chat == pytest.approx(result.cost_usd * CREDITS_PER_USD)
    assert after.total - before.total == pytest.approx(result.cost_usd * CREDITS_PER_USD)
    assert conn.store.spending(conn.server, conn.account, "ben").chat == 0  # one person's calls are theirs
    conn.store.accept_chat_call(call.id)
    assert conn.store.chat_calls(conn.server, conn.account)[0].accepted


def test_a_failure_that_may_have_been_charged_is_recorded_without_an_answer(sim, conn):
    sim.faults.inject("chat", Fault.http(500), times=5)
    with pytest.raises(RewriteError, match="charged"):
        conn.improve_prompt(FOX, video_model="veo2", kind="text-to-video")
    (call,) = conn.store.chat_calls(conn.server, conn.account)
    assert call.answer == "" and call.prompt == FOX


def test_a_refusal_before_sending_records_nothing(sim, conn):
    with pytest.raises(RewriteError, match="no prompt"):
        conn.improve_prompt("   ", video_model="veo2", kind="text-to-video")
    assert conn.store.chat_calls(conn.server, conn.account) == [] and sim.count("chat") == 0


def test_a_spent_budget_asks_nothing(sim, conn):
    _, call = conn.improve_prompt(FOX, video_model="veo2", kind="text-to-video")
    spent = conn.store.spending(conn.server, conn.account).total
    with pytest.raises(spend.OverBudgetError, match="Improving the prompt|spent"):
        conn.improve_prompt(FOX, video_model="veo2", kind="text-to-video", budget=Budget(limit=spent))
    assert sim.count("chat") == 1
    result, _ = conn.improve_prompt(FOX, video_model="veo2", kind="text-to-video", budget=Budget(limit=spent * 10))
    assert result.text


def test_an_uploaded_start_image_goes_along_as_a_data_url(sim, conn):
    out = io.BytesIO()
    Image.new("RGB", (320, 180), (200, 40, 40)).save(out, "PNG")
    upload = media.save_image(out.getvalue(), catalog.get(I2V).param("image_url"), conn.store.data_dir)
    result, _ = conn.improve_prompt("the car drives off", video_model=I2V, kind="image-to-video", image=upload.reference)
    assert result.with_image
    (sent,) = [r for r in sim.requests if r.endpoint == "chat"]
    parts = sent.body["messages"][1]["content"]
    assert parts[0] == {"type": "text", "text": "the car drives off"}
    assert parts[1]["image_url"]["url"].startswith("data:image/")
