"""The simulator's HTTP side: routes, the Bearer check, and every answer in the vendor's shapes.

    POST /v2/video/generations, /v2/generate/video/<vendor>/generation   create (Bearer key)
    GET  the same paths ?generation_id=...                                fetch (Bearer key)
    POST /v1/chat/completions, /chat/completions                          chat (Bearer key)
    POST /v1/images/generations, /images/generations                      image (Bearer key)
    GET  /v1/models, /models, /api/v1/models                              the model list (no key)
    GET  /videos/<key>.mp4, /signed/<key>%2Fclip%7Ev1.mp4?...             a clip, with Range support
    GET  /images/<key>.png (.jpg, .webp)                                  a still an image answer links to
    GET  /redirect/<hops>?to=...                                          a hop of Fault.redirects
    GET  /health

Each request is logged (`State.requests`) before it is answered, then meets
the fault queued for its endpoint, if any (faults.py), then the answer.

A chat completion is a demo's: a fixed rewrite (the user's text and one sentence
of camera and light, which speaks of "the picture" when an image part came), with
`system_fingerprint` "simulator" and an id starting "chatcmpl-sim-" for the UI to
label it by, OpenAI's `usage` token counts (about four characters a token, 85 a
picture) and the vendor's `meta.usage` at the simulator's own token rates.

An image answer is drawn at once (_stills.py): the pictures asked for, at the
size asked, in the vendor's shape (`data: [{url}]` or `[{b64_json}]`), with the
seed drawn with where the model takes one (a seed left blank is drawn at random
and reported), and `meta.usage` at the simulator's own rate per megapixel.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from .. import catalog, rewrite
from ..api import CHAT_PATH, CREDITS_PER_USD
from ._jobs import Job, clip_seconds
from ._state import RequestLog, State
from ._stills import EXTENSIONS, delivery, picture_count, still_format, still_size
from .faults import Fault
from .prices import etag_matches

log = logging.getLogger(__name__)

# The vendor serves the same list on all three.
MODELS_PATHS = ("/v1/models", "/models", "/api/v1/models")
OUT_OF_CREDITS_MESSAGE = "You've run out of credits. Please top up your balance to continue."
# A plain refusal, which says nothing of credits: the API has answered one for one model while another worked.
REFUSED_MESSAGE = "Forbidden resource"
# The chat endpoint, on the path OpenAI's clients use with a base URL ending /v1 and on the one the vendor also lists.
CHAT_PATHS = (CHAT_PATH, "/chat/completions")
# The simulator's own chat rates, in dollars per million tokens (input, output): no vendor's.
CHAT_USD_PER_MILLION = (0.5, 1.5)
CHAT_FINGERPRINT = rewrite.SIMULATOR_FINGERPRINT
CHAT_CAMERA = "Slow dolly-in at eye level, soft natural light, gentle motion throughout."
CHAT_CAMERA_PICTURE = (
    "Starting from the picture, the camera slowly pushes in as the scene in the picture comes to life, in soft natural light."
)
# The images endpoint, on the path the vendor documents and on the one its files also list.
IMAGES_PATHS = (catalog.IMAGES_ENDPOINT, "/images/generations")
# The simulator's own image rate, in dollars per megapixel drawn: no vendor's.
IMAGE_USD_PER_MEGAPIXEL = 0.003
# OpenAI's images API's code for a prompt its safety system refused (Fault.moderated).
MODERATION_CODE = "moderation_blocked"
_MIME = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
_STILL_PATH = re.compile(r"^/images/([0-9a-f]{20}\.(?:png|jpg|webp))$")
_CHARS_PER_TOKEN = 4
_TOKENS_PER_PICTURE = 85  # what OpenAI counts for a picture at low detail
_CHAT_ROLES = ("system", "developer", "user", "assistant", "tool")
_VIDEO_PATH = re.compile(r"^/videos/([0-9a-f]{20})\.mp4$")
_REDIRECT_PATH = re.compile(r"^/redirect/(\d+)$")


class Server(ThreadingHTTPServer):
    """Serves one `State` on (host, port), and can cut the connections it keeps alive."""

    daemon_threads = True
    request_queue_size = 1024  # the poller opens hundreds of connections at once

    def __init__(self, address: tuple[str, int], *, state: State) -> None:
        super().__init__(address, Handler)
        self.state = state
        self.host = address[0]
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address):  # socketserver's signature
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """A stopped server must not go on answering on kept-alive connections, as a real restart would not."""
        with self._open_lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._open.clear()


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body waits
    # for the client's delayed ACK, a pause on every request (docs/measurements.md).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    @property
    def state(self) -> State:
        return self.server.state

    # -- routing ---------------------------------------------------------

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        # One handler serves every request of a keep-alive connection: reset per-request state.
        self._body: bytes | None = None
        self._fault_after_create: Fault | None = None
        endpoint = "other"
        video = _VIDEO_PATH.match(parts.path)
        if video and method in ("GET", "HEAD"):
            endpoint = "video"
        elif parts.path.startswith("/signed/") and method in ("GET", "HEAD"):
            endpoint = "video"
        elif _REDIRECT_PATH.match(parts.path) and method in ("GET", "HEAD"):
            endpoint = "redirect"
        elif _is_api_path(parts.path) and method in ("POST", "GET"):
            endpoint = "create" if method == "POST" else "fetch"
        elif parts.path in MODELS_PATHS and method == "GET":
            endpoint = "models"
        elif parts.path in CHAT_PATHS and method == "POST":
            endpoint = "chat"
        elif parts.path in IMAGES_PATHS and method == "POST":
            endpoint = "image"
        elif _STILL_PATH.match(parts.path) and method in ("GET", "HEAD"):
            endpoint = "still"
        gen_id = parse_qs(parts.query).get("generation_id", [""])[0] if endpoint == "fetch" else ""
        self._log = RequestLog(method, endpoint, parts.path, 0, time.time(), gen_id or None, dict(self.headers))
        # Logged before answering: a test that counts right after its response must see this request.
        self.state.requests.append(self._log)

        if parts.path == "/health":
            self._send_json(200, {"status": "ok"})
        elif endpoint == "video" and video is None:
            self._serve_signed(method == "HEAD")
        elif endpoint == "video":
            self._serve_video(video.group(1), method == "HEAD")
        elif endpoint == "redirect":
            self._next_hop(int(_REDIRECT_PATH.match(parts.path).group(1)), parts.query)
        elif endpoint == "create":
            self._api(self._do_create, parts.path)
        elif endpoint == "fetch":
            self._api(self._do_fetch, gen_id)
        elif endpoint == "models":
            self._models(parts.query)
        elif endpoint == "chat":
            self._api(self._do_chat)
        elif endpoint == "image":
            self._api(self._do_image)
        elif endpoint == "still":
            self._serve_still(_STILL_PATH.match(parts.path).group(1), method == "HEAD")
        else:
            self._error(404, f"Cannot {method} {parts.path}")

    def _api(self, action: Callable, *args: Any) -> None:
        """Authenticate, apply latency and any injected fault, then run the action."""
        if self.state.latency:
            time.sleep(self.state.latency)
        auth = self.headers.get("Authorization", "")
        key = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if not key or (self.state.api_keys is not None and key not in self.state.api_keys):
            self._drain()
            self._error(401, "Unauthorized: a valid API key is required in the Authorization header.")
            return
        fault = self.state.faults.take(self._log.endpoint)
        if fault is None:
            action(*args)
        elif self._log.endpoint == "create" and fault.acted:
            self._fault_after_create = fault  # the job is created first: see _do_create
            action(*args)
        else:
            self._drain()
            self._suffer(fault, action, *args)

    def _suffer(self, fault: Fault, action: Callable, *args: Any) -> None:
        """Answer with the fault; a pure delay answers normally, late."""
        if fault.delay:
            time.sleep(fault.delay)
        if fault.only_delays:
            action(*args)
        else:
            self._respond_with(fault)

    # -- endpoints -------------------------------------------------------

    def _do_create(self, path: str) -> None:
        try:
            body = json.loads(self._drain() or b"null")
        except ValueError:
            self._error(400, "Body must be JSON.")
            return
        if not isinstance(body, dict):
            self._error(400, "Body must be a JSON object.")
            return
        model_id = str(body.get("model", ""))
        try:
            model = catalog.get(model_id)
        except catalog.UnknownModelError:
            self._error(400, f"model: expected one of the video models, received {model_id!r}")
            return
        if path != model.endpoint and path not in model.legacy_endpoints:
            self._error(400, f"model: {model_id!r} is not served at {path}")
            return
        checked = catalog.validate(model, {k: v for k, v in body.items() if k != "model"})
        if not checked.ok:
            self._error(400, "; ".join(f"{name}: {text}" for name, text in checked.errors.items()))
            return
        if self.state.credits_exhausted:
            self._out_of_credits()
            return
        if model.id in self.state.refused_models:
            self._error(403, REFUSED_MESSAGE)
            return
        job = self.state.create(model.id, checked.body)
        self._log.generation_id = job.id
        if self._fault_after_create is not None:
            self._suffer(self._fault_after_create, self._answer_create, job)
        else:
            self._answer_create(job)

    def _answer_create(self, job: Job) -> None:
        alt = self.state.spelling == "alternative"
        body = {"generation_id": job.id} if alt else self._job_body(job)
        if self.state.usage_on in ("create", "both"):
            body["meta"] = {"usage": self._usage(job, alt=alt)}
        headers = {"x-inference-id": job.id}
        if self.state.usage_headers:
            credits = self.state.charge(job)
            headers |= {"x-aimlapi-credits-used": str(credits), "x-aimlapi-usd-spent": f"{credits / CREDITS_PER_USD:g}"}
        self._send_json(201 if alt else 200, body, headers)

    def _do_fetch(self, gen_id: str) -> None:
        if not gen_id:
            self._error(400, "generation_id: expected a string, received nothing")
            return
        job = self.state.lookup(gen_id)
        if job is None:
            self._error(404, f"Generation {gen_id} not found")
            return
        if job.model in self.state.refused_models:
            self._error(403, REFUSED_MESSAGE)
            return
        if job.script.not_found_seconds is not None and time.time() < job.created_at + job.script.not_found_seconds:
            self._error(404, "Inference not found")
            return
        self._send_json(200, self._job_body(job))

    def _do_chat(self) -> None:
        """A chat completion: checked as the API would, then the demo's rewrite of the last user message."""
        try:
            body = json.loads(self._drain() or b"null")
        except ValueError:
            self._error(400, "Body must be JSON.")
            return
        if not isinstance(body, dict):
            self._error(400, "Body must be a JSON object.")
            return
        self._log.body = _short_data_urls(body)
        name = body.get("model")
        try:
            model = rewrite.chat_model(name) if isinstance(name, str) else None
        except rewrite.UnknownChatModelError:
            model = None
        if model is None:
            self._error(400, f"model: expected one of the chat models, received {name!r}")
            return
        messages = body.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(isinstance(m, dict) and m.get("role") in _CHAT_ROLES for m in messages)
        ):
            self._error(400, f"messages: expected a non-empty array of messages with a role of {', '.join(_CHAT_ROLES)}")
            return
        if body.get("stream"):
            self._error(400, "stream: the simulator answers with one JSON body")
            return
        texts, pictures = _chat_parts(messages)
        if pictures and not model.vision:
            self._error(400, f"messages: {model.id} does not accept images")
            return
        if self.state.credits_exhausted:
            self._out_of_credits()
            return
        self._send_json(200, self._chat_answer(model.id, body, messages, texts, pictures))

    def _chat_answer(self, model_id: str, body: dict, messages: list, texts: int, pictures: int) -> dict:
        last = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        said = " ".join(_texts_of(last.get("content"))).strip().rstrip(" .")
        camera = CHAT_CAMERA_PICTURE if _pictures_in(last.get("content")) else CHAT_CAMERA
        text = f"{said}. {camera}" if said else camera
        cap = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if isinstance(cap, int | float) and not isinstance(cap, bool) and _tokens(text) > cap:
            text, finish = text[: int(cap) * _CHARS_PER_TOKEN], "length"
        prompt_tokens = _tokens("x" * texts) + _TOKENS_PER_PICTURE * pictures
        completion_tokens = _tokens(text)
        answer: dict[str, Any] = {
            "id": f"chatcmpl-sim-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_id,
            "system_fingerprint": CHAT_FINGERPRINT,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None}, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        if self.state.chat_usage_meta:
            rate_in, rate_out = CHAT_USD_PER_MILLION
            usd = (prompt_tokens * rate_in + completion_tokens * rate_out) / 1_000_000
            answer["meta"] = {"usage": {"credits_used": round(usd * CREDITS_PER_USD), "usd_spent": round(usd, 8)}}
        return answer

    def _do_image(self) -> None:
        """Pictures from an image model: the body checked against the catalog as a create's is, then drawn."""
        try:
            body = json.loads(self._drain() or b"null")
        except ValueError:
            self._error(400, "Body must be JSON.")
            return
        if not isinstance(body, dict):
            self._error(400, "Body must be a JSON object.")
            return
        self._log.body = _short_data_urls(body)
        model_id = str(body.get("model", ""))
        try:
            model = catalog.get_image(model_id)
        except catalog.UnknownModelError:
            self._error(400, f"model: expected one of the image models, received {model_id!r}")
            return
        checked = catalog.validate(model, {k: v for k, v in body.items() if k != "model"})
        if not checked.ok:
            self._error(400, "; ".join(f"{name}: {text}" for name, text in checked.errors.items()))
            return
        if self.state.credits_exhausted:
            self._out_of_credits()
            return
        if model.id in self.state.refused_models:
            self._error(403, REFUSED_MESSAGE)
            return
        answer, credits = self._image_answer(model, checked.body)
        headers = {}
        if self.state.usage_headers:
            headers = {"x-aimlapi-credits-used": str(credits), "x-aimlapi-usd-spent": f"{credits / CREDITS_PER_USD:g}"}
        self._send_json(200, answer, headers)

    def _image_answer(self, model: catalog.Model, body: dict) -> tuple[dict, int]:
        """The answer's body and what it costs, in credits."""
        seed = body.get("seed")
        if not isinstance(seed, int) and any(p.name == "seed" for p in model.params):
            rules = model.param("seed").rules
            low, high = int(rules.get("minimum", 0)), int(rules.get("maximum", 2**31 - 1))
            seed = low + secrets.randbelow(high - low + 1)
        seed = seed if isinstance(seed, int) else None
        size, image_format, count, sent_as = still_size(body), still_format(body), picture_count(body), delivery(body)
        items = []
        for index in range(count):
            path = self.state.stills.draw(
                prompt=str(body.get("prompt") or ""), seed=seed, size=size, image_format=image_format, index=index
            )
            if sent_as == "url":
                items.append({"url": f"{self._base_url()}/images/{path.name}", "b64_json": None})
            else:
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                mime = _MIME[EXTENSIONS[image_format]]
                items.append({"url": None, "b64_json": data} if sent_as == "b64_json" else {"url": f"data:{mime};base64,{data}"})
        answer: dict[str, Any] = {"data": items}
        if seed is not None:
            answer["seed"] = seed
        usd = IMAGE_USD_PER_MEGAPIXEL * size[0] * size[1] / 1_000_000 * count
        credits = round(usd * CREDITS_PER_USD)
        # One answer is both the create and the result here, so every setting but "none" reports the cost on it.
        if self.state.usage_on != "none":
            alt = self.state.spelling == "alternative"
            usage = {"tokens_used": credits} if alt else {"credits_used": credits, "usd_spent": round(usd, 6)}
            answer["meta"] = {"usage": usage}
        return answer, credits

    def _serve_still(self, name: str, head: bool) -> None:
        fault = self.state.faults.take("still")
        if fault is not None and fault.redirect_hops:
            final = fault.redirect_to or f"{self._base_url()}{self.path}"
            self._next_hop(fault.redirect_hops, f"to={quote(final, safe='')}")
        elif fault is not None and (fault.trickle or fault.huge):
            self._send_still(name, head, rate=fault.trickle, claimed=fault.huge or None)
        elif fault is not None:
            self._suffer(fault, self._send_still, name, head)
        else:
            self._send_still(name, head)

    def _send_still(self, name: str, head: bool, rate: float | None = None, claimed: int | None = None) -> None:
        path = self.state.stills.find(name)
        if path is None:
            self._error(404, "No such image")
            return
        data = path.read_bytes()
        kind = _MIME[name.rsplit(".", 1)[1]]
        headers = {"Cache-Control": "public, max-age=3600"}
        if head or (rate is None and claimed is None):
            self._send(200, b"" if head else data, kind, headers, length=len(data))
            return
        length = max(claimed or 0, len(data))
        self._send(200, b"", kind, headers, length=length)
        piece = max(1, int(rate / 20)) if rate else 256 * 1024
        sent = 0
        while sent < length:
            # Past the picture's own bytes, a claimed length is made up with zeros, never held in memory whole.
            chunk = data[sent : sent + piece] if sent < len(data) else b"\0" * min(piece, length - sent)
            try:
                self.wfile.write(chunk)
            except OSError:  # the client gave up, as one with a size cap or a minimum rate should
                self.close_connection = True
                return
            sent += len(chunk)
            if rate:
                time.sleep(len(chunk) / rate)

    def _models(self, query: str) -> None:
        """The model list: no key needed (none is checked, as the vendor's is public)."""
        fault = self.state.faults.take("models")
        if fault is not None:
            self._suffer(fault, self._do_models, query)
        else:
            self._do_models(query)

    def _do_models(self, query: str) -> None:
        asked = parse_qs(query)
        include = {v.strip().lower() for value in asked.get("include", []) for v in value.split(",")}
        pricing = bool(include & {"pricing", "all"}) or asked.get("details", [""])[0] in ("true", "1")
        body, etag = self.state.listing.answer(pricing=pricing)
        if etag_matches(self.headers.get("If-None-Match"), etag):
            self._send(304, b"", "application/json", {"ETag": etag})
        else:
            self._send(200, body, "application/json", {"ETag": etag})

    def _serve_video(self, key: str, head: bool) -> None:
        expired = self.state.links.expired(self.path)
        if expired is not None:
            self._send_xml_error(expired, "AccessDenied", "Request has expired")
            return
        fault = self.state.faults.take("video")
        if fault is not None and fault.redirect_hops:
            final = fault.redirect_to or f"{self._base_url()}{self.path}"
            self._next_hop(fault.redirect_hops, f"to={quote(final, safe='')}")
        elif fault is not None and fault.trickle:
            self._send_video(key, head, rate=fault.trickle)
        elif fault is not None:
            self._suffer(fault, self._send_video, key, head)
        else:
            self._send_video(key, head)

    def _serve_signed(self, head: bool) -> None:
        """A signed link answers only to its exact bytes, as S3 checks a signature over the path it received."""
        key = self.state.links.signed_key(self.path)
        if key is None:
            self._send_xml_error(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
            )
            return
        self._serve_video(key, head)

    def _next_hop(self, hops: int, query: str) -> None:
        """One hop of Fault.redirects: on to the next hop here, or at the last one to where the chain ends."""
        final = parse_qs(query).get("to", [""])[0]
        location = final if hops <= 1 else f"/redirect/{hops - 1}?to={quote(final, safe='')}"
        self._send(302, b"", "text/plain", {"Location": location})

    def _send_xml_error(self, status: int, code: str, message: str) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
        ).encode()
        self._send(status, body, "application/xml")

    def _send_video(self, key: str, head: bool, rate: float | None = None) -> None:
        path = self.state.videos_dir / f"{key}.mp4"
        if not path.is_file():
            self._error(404, "No such video")
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        status = 200
        if "Range" in self.headers:
            parsed = _parse_range(self.headers["Range"], size)
            if parsed is None:
                self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"})
                return
            start, end = parsed
            status = 206
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "public, max-age=3600"}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        with path.open("rb") as f:
            f.seek(start)
            data = f.read(end - start + 1)
        if rate is None or head:
            self._send(status, b"" if head else data, "video/mp4", headers, length=len(data))
            return
        self._send(status, b"", "video/mp4", headers, length=len(data))
        piece = max(1, int(rate / 20))  # twenty writes a second
        for offset in range(0, len(data), piece):
            try:
                self.wfile.write(data[offset : offset + piece])
            except OSError:  # the client gave up, as a downloader with a minimum rate should
                self.close_connection = True
                return
            time.sleep(piece / rate)

    # -- answers ---------------------------------------------------------

    def _job_body(self, job: Job) -> dict:
        """The fetch answer for a job, in the schema's spelling or the alternative one."""
        status = job.status(time.time())
        alt = self.state.spelling == "alternative"
        body: dict[str, Any] = {"id": job.id, "status": status}
        if alt:
            body["status"] = {"queued": "waiting", "generating": "active", "completed": "complete", "error": "failed"}[status]
        if status == "completed":
            if isinstance(job.script.video_url, str):
                body["video"] = {"url": job.script.video_url}
            elif job.script.video_url:
                body["video"] = {"url": self.state.links.issue(job, self._base_url())}
            else:
                body["video"] = None
            if self.state.usage_on in ("fetch", "both"):
                body["meta"] = {"usage": self._usage(job, alt=alt)}
            if alt:
                body["duration"] = clip_seconds(job.body)
        elif status == "error":
            body["error"] = job.script.error if alt else {"name": "GenerationError", "message": job.script.error}
        return body

    def _usage(self, job: Job, *, alt: bool) -> dict:
        credits = self.state.charge(job)
        if alt:  # the older spelling
            return {"tokens_used": credits}
        return {"credits_used": credits, "usd_spent": round(credits / CREDITS_PER_USD, 6)}

    def _respond_with(self, fault: Fault) -> None:
        if fault.drop:
            self._log.status = 0
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif fault.bad_json:
            self._send(200, b'{"id": "truncated', "application/json")
        elif fault.answer_json is not None:
            self._send(200, fault.answer_json.encode(), "application/json")
        elif fault.refusal is not None:
            self._error(
                400,
                fault.refusal,
                extra={"error": {"message": fault.refusal, "type": "image_generation_user_error", "code": MODERATION_CODE}},
            )
        elif fault.huge:
            head, tail = b'{"id": "padded", "status": "queued", "padding": "', b'"}'
            self._send(200, head + b"x" * max(0, fault.huge - len(head) - len(tail)) + tail, "application/json")
        elif fault.unknown_answer:
            self._send_json(
                200, {"id": "", "status": "unknown", "error": {"name": "Error", "message": "invalid params, task_id cannot by empty"}}
            )
        elif fault.credits_body:
            self._out_of_credits()
        elif fault.html_page and fault.status:
            self._send(fault.status, _gateway_page(fault.status), "text/html; charset=UTF-8")
        elif fault.html_page:
            self._send(200, b"<!doctype html><html><body><h1>Sign in</h1></body></html>", "text/html; charset=utf-8")
        else:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            reason = {429: "Too many requests, slow down.", 403: REFUSED_MESSAGE}.get(fault.status, "Internal error")
            self._error(fault.status or 500, reason, extra)

    def _out_of_credits(self) -> None:
        """The vendor's answer when the account has no credits left, as its docs show it (the typo is its own)."""
        parts = urlsplit(self.path)
        self._send_json(
            403,
            {
                "title": "Forbidden",
                "status": 403,
                "message": OUT_OF_CREDITS_MESSAGE,
                "instance": f"{parts.path}?{parts.query}",
                "timestamp": datetime.now(UTC).isoformat(),
                "error": {"name": "ForbiddenException", "message": OUT_OF_CREDITS_MESSAGE, "data": {"kind": "err_insufficent_credits"}},
            },
        )

    def _error(self, status: int, message: str, headers: dict | None = None, *, extra: dict | None = None) -> None:
        """The vendor's error body (and any `extra` fields). Its statusCode has been seen as a string, so send that
        in the alternative spelling."""
        body = {
            "message": message,
            "path": urlsplit(self.path).path,
            "requestId": str(uuid.uuid4()),
            "statusCode": str(status) if self.state.spelling == "alternative" else status,
            "timestamp": datetime.now(UTC).isoformat(),
            **(extra or {}),
        }
        self._send_json(status, body, headers)

    def _send_json(self, status: int, body: Any, headers: dict | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(self, status: int, data: bytes, content_type: str, headers: dict | None = None, length: int | None = None) -> None:
        self._log.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test, or a browser seeking)

    def _drain(self) -> bytes:
        """Read the request body so the connection can be reused."""
        if self._body is None:
            length = int(self.headers.get("Content-Length") or 0)
            self._body = self.rfile.read(length) if length else b""
        return self._body

    def _base_url(self) -> str:
        """Video links use the address the client reached us on, so they survive a restart on another port."""
        host = self.headers.get("Host") or f"{self.server.host}:{self.server.server_address[1]}"
        return f"http://{host}"


def _gateway_page(status: int) -> bytes:
    """Cloudflare's error page in front of the API, in outline: its title names the status."""
    what = {524: "A timeout occurred", 522: "Connection timed out", 520: "Web server is returning an unknown error"}
    title = f"api.aimlapi.com | {status}: {what.get(status, 'Origin error')}"
    return (
        f'<!DOCTYPE html><html lang="en-US"><head><title>{title}</title></head><body>'
        f'<div id="cf-error-details"><h1>{what.get(status, "Origin error")}</h1>'
        f"<span>Error code {status}</span><p>Cloudflare Ray ID: {secrets.token_hex(8)}</p></div></body></html>"
    ).encode()


def _texts_of(content: Any) -> list[str]:
    """The text of a message's content: a string, or the text parts of OpenAI's list of parts."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)]
    return []


def _pictures_in(content: Any) -> int:
    return sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url") if isinstance(content, list) else 0


def _chat_parts(messages: list) -> tuple[int, int]:
    """How many characters of text and how many pictures the messages hold."""
    return sum(len(t) for m in messages for t in _texts_of(m.get("content"))), sum(_pictures_in(m.get("content")) for m in messages)


def _tokens(text: str) -> int:
    return math.ceil(len(text) / _CHARS_PER_TOKEN)


def _short_data_urls(value: Any) -> Any:
    """A copy of a JSON value with each long data URL cut to its type and length, as a job's saved body is."""
    if isinstance(value, str) and value.startswith("data:") and len(value) > 200:
        return f"{value[: value.find(',') + 1]}…({len(value):,} characters)"
    if isinstance(value, list):
        return [_short_data_urls(v) for v in value]
    if isinstance(value, dict):
        return {k: _short_data_urls(v) for k, v in value.items()}
    return value


def _is_api_path(path: str) -> bool:
    return path == catalog.CURRENT_ENDPOINT or path.startswith("/v2/generate/video/")


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not m or (not m.group(1) and not m.group(2)) or size == 0:
        return None
    if not m.group(1):  # suffix range: the last N bytes
        start, end = max(0, size - int(m.group(2))), size - 1
    else:
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return (start, end) if start <= end and start < size else None
