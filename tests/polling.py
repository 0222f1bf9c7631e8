"""A poller tuned for jobs of well under a second, and generations created on the simulator and recorded."""

from __future__ import annotations

from tests.helpers import fast_schedule
from videogen.polling import Poller

SERVER = "simulator"
BODY = {"model": "veo2", "prompt": "a paper boat on a river", "duration": 5, "aspect_ratio": "16:9"}


def make_poller(store, client, **kw):
    options = dict(server=SERVER, schedule_for=fast_schedule, backoff_base=0.1, backoff_cap=0.5, idle_interval=0.1, not_found_window=0.5)
    options.update(kw)
    return Poller(store, client, **options)


def submit(client, store, body=BODY):
    generation = client.create(body)
    store.add(generation, request={**body, "enhance_prompt": True}, server=SERVER)
    return generation.id
