from __future__ import annotations

import pytest

from videogen.api import Answer, Status, error_text


@pytest.mark.parametrize(
    "raw, status",
    [
        ("queued", Status.QUEUED),
        ("waiting", Status.QUEUED),
        ("generating", Status.GENERATING),
        ("active", Status.GENERATING),
        ("dreaming", Status.GENERATING),
        ("completed", Status.COMPLETED),
        ("complete", Status.COMPLETED),
        ("COMPLETED", Status.COMPLETED),
        ("error", Status.FAILED),
        ("failed", Status.FAILED),
        ("something-new", Status.GENERATING),
        ("", Status.GENERATING),
        (None, Status.GENERATING),
    ],
)
def test_status_mapping(raw, status):
    assert Status.from_api(raw) is status


def test_unknown_statuses_are_pending():
    assert Status.from_api("teleporting").is_pending


def test_full_body():
    g = Answer.from_body(
        {
            "id": "abc:veo2",
            "status": "completed",
            "video": {"url": "https://cdn/x.mp4?sig=1"},
            "error": None,
            "meta": {"usage": {"credits_used": 120000}},
        }
    )
    assert (g.id, g.status, g.video_url, g.error, g.credits_used) == ("abc:veo2", Status.COMPLETED, "https://cdn/x.mp4?sig=1", None, 120000)


def test_minimal_and_alternative_bodies():
    g = Answer.from_body({"generation_id": "abc:veo2"})
    assert g.id == "abc:veo2" and g.status is Status.QUEUED
    g = Answer.from_body({"id": "x", "status": "complete", "video": None, "meta": {"usage": {"tokens_used": 5}}})
    assert g.video_url is None and g.credits_used == 5
    assert Answer.from_body({"id": "x", "status": "completed", "meta": {"usage": {"usd_spent": 0.5}}}).credits_used == 1_000_000
    assert Answer.from_body({"id": "x", "status": "queued", "meta": None, "video": {}}).video_url is None
    assert Answer.from_body({"status": "queued"}, fallback_id="known").id == "known"


def test_no_id_is_an_error():
    with pytest.raises(ValueError):
        Answer.from_body({"status": "queued"})
    with pytest.raises(ValueError):
        Answer.from_body({"id": 12})


@pytest.mark.parametrize(
    "error, text",
    [
        (None, None),
        ("", None),
        ({}, None),
        ("plain words", "plain words"),
        ({"name": "Moderation", "message": "refused"}, "Moderation: refused"),
        ({"name": "Error", "message": "Error: boom"}, "Error: boom"),
        ({"detail": [{"loc": ["body", "duration"], "msg": "must be 5-8", "type": "value_error"}]}, "duration: must be 5-8"),
        ({"message": ["prompt should not be empty", "duration must be int"]}, "prompt should not be empty; duration must be int"),
        ({"error": {"message": "nested"}}, "nested"),
        ({"name": "OnlyName"}, "OnlyName"),
    ],
)
def test_error_text_reads_every_shape(error, text):
    assert error_text(error) == text


def test_failed_without_message():
    g = Answer.from_body({"id": "x", "status": "error"})
    assert g.status is Status.FAILED and g.error is None
