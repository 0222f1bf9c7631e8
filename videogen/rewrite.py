"""Improve prompt: a chat model of the same API rewrites a video prompt for one video model and kind.

    result = rewrite(client, prompt="a fox in snow", video_model="veo2", kind="text-to-video")
    result.text, result.cost_usd, result.too_long

For image to video, the start image (a data URL, or an https link) goes along in OpenAI's vision shape, a
user message whose content holds a text part and an `image_url` part, so the chat model writes about the
picture it is shown. Only a chat model that sees pictures (`ChatModel.vision`) is sent one: with any
other, `rewrite` refuses before sending anything rather than switching models, as the person chose that
model and its price.

The chat models and their facts come from `chat_models.json`, built by `scripts/build_chat_models.py` from the
vendor's OpenAPI files. Their prices are mostly unpublished, so the cost is read from the answer first (the
vendor's `meta.usage`: `usd_spent`, or `credits_used` at 2,000,000 credits to the dollar), then worked out
from the answer's token counts where both needed prices are known, and is otherwise None ("no price known").

Every way a rewrite can fail once it is asked for raises `RewriteError`, whose `reason` is one sentence for
the person. Mistakes of the caller (an unknown model, a kind other than the two, an image that is no image)
raise ValueError or KeyError instead.

An answer from the project's simulator carries `system_fingerprint` "simulator": `Rewrite.demo` says so,
for the UI to label the text as a demo's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from . import catalog
from .api import (
    CREDITS_PER_USD,
    ApiError,
    AuthenticationError,
    Client,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
)

CHAT_MODELS_PATH = Path(__file__).with_name("chat_models.json")

#: The kinds a prompt can be improved for.
Kind = Literal["text-to-video", "image-to-video"]
KINDS: tuple[Kind, ...] = get_args(Kind)

#: Cheap, quick, and it sees pictures: the model "Improve prompt" uses unless another is chosen.
DEFAULT_CHAT_MODEL = "gpt-4o-mini"
#: Seconds to wait for the answer; a vision model reading a large picture can take a while.
DEFAULT_TIMEOUT = 60.0
#: The `system_fingerprint` of the simulator's answers (videogen/simulator/_handler.py).
SIMULATOR_FINGERPRINT = "simulator"

PER_MILLION = 1_000_000
# The answer's cap in tokens, a guard on its cost: room for `max_chars` (a token is about four characters
# of English) and for the thinking some models do before they answer, which counts against it.
_MIN_ANSWER_TOKENS = 1024
_IMAGE_START = re.compile(r"^(?:data:image/[\w.+-]+(?:;[\w-]+=[\w.-]+)*;base64,|https://)", re.I)

CostSource = Literal["answer", "tokens"]


class UnknownChatModelError(KeyError):
    def __str__(self) -> str:
        return f"Unknown chat model {self.args[0]!r}."


@dataclass(frozen=True)
class ChatModel:
    """A chat model of the API, as "Improve prompt" needs to know it."""

    id: str  # the name sent as `model`
    name: str
    vendor: str = ""
    aliases: tuple[str, ...] = ()
    vision: bool = False  # its user messages take `image_url` parts
    input_usd_per_million: float | None = None  # None: no price known
    output_usd_per_million: float | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    @property
    def label(self) -> str:
        """As a picker shows it: "GPT-4o mini · OpenAI · sees pictures"."""
        return " · ".join(part for part in (self.name, self.vendor, "sees pictures" if self.vision else "") if part)

    def cost(self, usage: Usage) -> float | None:
        """Dollars for these tokens at this model's prices; None when a price the tokens need is unknown."""
        usd = 0.0
        for tokens, price in ((usage.prompt_tokens, self.input_usd_per_million), (usage.completion_tokens, self.output_usd_per_million)):
            if not tokens:
                continue
            if price is None:
                return None
            usd += tokens * price / PER_MILLION
        return usd


@dataclass(frozen=True)
class Usage:
    """The answer's token counts (OpenAI's `usage`)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> Usage | None:
        usage = answer.get("usage")
        if not isinstance(usage, Mapping):
            return None
        prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
        if prompt is None and completion is None:
            return None
        return cls(prompt or 0, completion or 0)


@dataclass(frozen=True)
class Rewrite:
    """A rewritten prompt, what it cost, and whether the video model takes it as it is."""

    text: str
    chat_model: str  # the id the request named
    video_model: str
    kind: Kind
    limit: int  # the video model's prompt limit, in characters
    max_chars: int  # what the chat model was asked to stay within (at most `limit`)
    with_image: bool = False  # the start image went along
    usage: Usage | None = None
    cost_usd: float | None = None  # None: no price known
    cost_source: CostSource | None = None  # the answer's own figure, or its tokens at the model's prices
    finish_reason: str | None = None  # "length": the answer was cut at its token cap
    demo: bool = False  # answered by the simulator, not a chat model

    @property
    def length(self) -> int:
        return len(self.text)

    @property
    def too_long(self) -> bool:
        """Longer than the video model's prompt limit: a create with it would be refused."""
        return self.length > self.limit


class RewriteError(Exception):
    """A rewrite that produced no prompt. `reason` is one sentence for the person.

    `cause` is the API error behind it, if one was. `may_be_charged`: the request reached the server, so it
    may have cost something (`cost_usd`, when the answer said what). `retryable`: asking again may work.
    """

    def __init__(
        self,
        reason: str,
        *,
        cause: ApiError | None = None,
        may_be_charged: bool = False,
        retryable: bool = False,
        cost_usd: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause
        self.may_be_charged = may_be_charged
        self.retryable = retryable
        self.cost_usd = cost_usd

    def __str__(self) -> str:
        return self.reason


# -- the chat models ---------------------------------------------------------------------------------------


@cache
def chat_models() -> dict[str, ChatModel]:
    """Every chat model "Improve prompt" knows, by id, in the order of chat_models.json."""
    raw = json.loads(CHAT_MODELS_PATH.read_text(encoding="utf-8"))["models"]
    return {
        model_id: ChatModel(
            id=model_id,
            name=entry["name"],
            vendor=entry.get("vendor", ""),
            aliases=tuple(entry.get("aliases", ())),
            vision=bool(entry.get("vision")),
            input_usd_per_million=entry.get("input_usd_per_million"),
            output_usd_per_million=entry.get("output_usd_per_million"),
        )
        for model_id, entry in raw.items()
    }


def chat_model(name: str) -> ChatModel:
    """The chat model by its id or any name it answers to."""
    for model in chat_models().values():
        if name in model.names:
            return model
    raise UnknownChatModelError(name)


# -- the request --------------------------------------------------------------------------------------------


def prompt_limit(video_model: catalog.Model) -> int:
    """The video model's prompt limit in characters: its published one, or the project's cap."""
    try:
        limit = video_model.param("prompt").max_length
    except KeyError:
        raise ValueError(f"{video_model.id} takes no prompt") from None
    return limit or catalog.UNPUBLISHED_PROMPT_LIMIT


def system_prompt(video_model: catalog.Model, kind: Kind, *, max_chars: int, with_image: bool) -> str:
    """What the chat model is told before it reads the person's prompt."""
    lines = [
        f"You improve prompts for {video_model.name or video_model.id}, a {kind.replace('-', ' ')} video model.",
        "Rewrite the person's prompt so that the model makes the video they have in mind.",
        "Keep their intent: the same subject, action, setting and mood, and any words they insist on; add nothing that contradicts it.",
        "Describe it as a shot: the camera's framing, angle and movement, how the subject and the scene move, the light and the pace, "
        "in plain present-tense prose.",
    ]
    if kind == "image-to-video" and with_image:
        lines.append(
            "The video starts from the attached picture: keep what it shows and describe how it comes to life, not a different scene."
        )
    elif kind == "image-to-video":
        lines.append(
            "The video starts from a picture you cannot see: describe the motion and the camera rather than what the picture shows."
        )
    lines.append(f"Stay within {max_chars} characters.")
    lines.append("Return only the rewritten prompt: no title, no quotes, no notes, no markdown.")
    return "\n".join(lines)


def chat_body(
    model: ChatModel, video_model: catalog.Model, kind: Kind, *, prompt: str, max_chars: int, image: str | None = None
) -> dict[str, Any]:
    """The chat request: the system prompt, then the person's prompt (and the picture, as OpenAI's vision shape)."""
    user: str | list[dict[str, Any]] = prompt
    if image is not None:
        user = [{"type": "text", "text": prompt}, {"type": "image_url", "image_url": {"url": image}}]
    return {
        "model": model.id,
        "messages": [
            {"role": "system", "content": system_prompt(video_model, kind, max_chars=max_chars, with_image=image is not None)},
            {"role": "user", "content": user},
        ],
        "max_tokens": max(_MIN_ANSWER_TOKENS, math.ceil(max_chars / 2)),
    }


def rewrite(
    client: Client,
    *,
    prompt: str,
    video_model: str,
    kind: Kind,
    chat_model: str | ChatModel = DEFAULT_CHAT_MODEL,
    image: str | None = None,
    max_chars: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Rewrite:
    """Ask the chat model for a better prompt for `video_model`. One request, never repeated: it is paid for.

    `image` is the start image of an image-to-video prompt, as a data URL (or an https link); `max_chars`
    what the answer should stay within, at most (and by default) the video model's prompt limit.
    Raises RewriteError for anything that leaves no prompt to show.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, received {kind!r}")
    model = catalog.get(video_model)
    chat = chat_model if isinstance(chat_model, ChatModel) else _chat_model_named(chat_model)
    limit = prompt_limit(model)
    if max_chars is not None and max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    target = limit if max_chars is None else min(max_chars, limit)
    if image is not None:
        if kind != "image-to-video":
            raise ValueError("an image goes with an image-to-video prompt only")
        if not isinstance(image, str) or not _IMAGE_START.match(image):
            raise ValueError("image: expected a data URL of an image (data:image/...;base64,...) or an https link")
        if not chat.vision:
            seeing = chat_models().get(DEFAULT_CHAT_MODEL)
            instead = f", such as {seeing.name}," if seeing is not None and seeing.vision else ""
            raise RewriteError(
                f"{chat.name} cannot see pictures: choose a chat model that can{instead} or improve the prompt without the picture."
            )
    if not prompt or not prompt.strip():
        raise RewriteError("There is no prompt to improve yet: write one first.")

    body = chat_body(chat, model, kind, prompt=prompt.strip(), max_chars=target, image=image)
    try:
        answer = client.chat(body, read_timeout=timeout)
    except ApiError as exc:
        raise _failed(exc, chat) from exc

    usage = Usage.from_answer(answer)
    cost, source = _cost(answer, chat, usage)
    text, finish = _read_text(answer, chat, cost)
    return Rewrite(
        text=text,
        chat_model=chat.id,
        video_model=model.id,
        kind=kind,
        limit=limit,
        max_chars=target,
        with_image=image is not None,
        usage=usage,
        cost_usd=cost,
        cost_source=source,
        finish_reason=finish,
        demo=answer.get("system_fingerprint") == SIMULATOR_FINGERPRINT,
    )


def _chat_model_named(name: str) -> ChatModel:
    try:
        return chat_model(name)
    except UnknownChatModelError:
        raise ValueError(f"chat_model: {name!r} is not one of {', '.join(chat_models())}") from None


# -- the answer ---------------------------------------------------------------------------------------------


def _failed(exc: ApiError, chat: ChatModel) -> RewriteError:
    """The API error as one sentence: the client's own words where they are written for a person."""
    kw = {"cause": exc, "retryable": exc.retryable}
    if isinstance(exc, OutcomeUnknownError):
        return RewriteError(exc.message, may_be_charged=True, **kw)
    if isinstance(exc, NetworkError):
        return RewriteError(exc.message, **kw)
    if isinstance(exc, RateLimitError):
        wait = f" (the server asks for {exc.retry_after:g} s)" if exc.retry_after else ""
        return RewriteError(f"The API is taking too many requests just now: try again in a moment{wait}.", **kw)
    if isinstance(exc, AuthenticationError):
        return RewriteError(f"The API refused the key: {exc.message}", **kw)
    if isinstance(exc, PermissionDeniedError) and exc.out_of_credits:
        return RewriteError(f"The account is out of credits: {exc.message}", **kw)
    if isinstance(exc, PermissionDeniedError):
        return RewriteError(f"The API refused {chat.name} on this key: {exc.message}", **kw)
    if isinstance(exc, InvalidRequestError):
        return RewriteError(f"The API refused the request: {exc.message}", **kw)
    if isinstance(exc, NotFoundError):
        return RewriteError(f"The API does not know {chat.name} or its endpoint: {exc.message}", **kw)
    if isinstance(exc, MalformedResponseError):
        return RewriteError(f"The API's answer could not be read: {exc.message}", may_be_charged=True, **kw)
    return RewriteError(f"The API failed: {exc}", **kw)


def _read_text(answer: Mapping[str, Any], chat: ChatModel, cost: float | None) -> tuple[str, str | None]:
    """The rewritten prompt from the first choice, cleaned (see `clean`), and why the model stopped."""

    def failed(reason: str) -> RewriteError:
        return RewriteError(reason, may_be_charged=True, retryable=True, cost_usd=cost)

    choices = answer.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, Mapping) else None
    if not isinstance(message, Mapping):
        raise failed(f"{chat.name} sent no answer.")
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal.strip():
        raise RewriteError(f"{chat.name} declined to rewrite the prompt: {refusal.strip()}", may_be_charged=True, cost_usd=cost)
    finish = first.get("finish_reason") if isinstance(first.get("finish_reason"), str) else None
    text = clean(_content_text(message.get("content")))
    if text:
        return text, finish
    if finish == "content_filter":
        raise failed(f"{chat.name}'s content filter held its answer back.")
    if finish == "length":
        raise failed(f"{chat.name} used up its answer's length before it wrote a prompt.")
    raise failed(f"{chat.name}'s answer was empty.")


def _content_text(content: Any) -> str:
    """A message's content: a string, or OpenAI's list of parts, of which the text ones count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, Mapping) and p.get("type") == "text" and isinstance(p.get("text"), str))
    return ""


_FENCED = re.compile(r"^(`{3,}|~{3,})[\w+-]*[ \t]*\n?(.*?)\n?\1$", re.S)
_LABEL = re.compile(r"^(?:\*\*|__)?(?:(?:rewritten|improved|new|revised|enhanced) )?prompt\s*:\s*(?:\*\*|__)?\s*", re.I)
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb", "\u201e": "\u201c", "`": "`"}


def clean(text: str) -> str:
    """The prompt inside an answer's wrapping: a markdown fence, a "Prompt:" label, a pair of quotes.

    Quotes are taken off only when they wrap the whole text and appear nowhere inside it: `"Run," she says, "now"`
    keeps its own.
    """
    text = text.strip()
    while True:
        before = text
        if fenced := _FENCED.match(text):
            text = fenced[2].strip()
        text = _LABEL.sub("", text, count=1).strip()
        if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1] and text[0] not in text[1:-1] and text[-1] not in text[1:-1]:
            text = text[1:-1].strip()
        if text == before:
            return text


def _cost(answer: Mapping[str, Any], chat: ChatModel, usage: Usage | None) -> tuple[float | None, CostSource | None]:
    """The answer's own figure (`meta.usage`), else its tokens at the model's prices, else nothing known."""
    meta = answer.get("meta")
    spent = meta.get("usage") if isinstance(meta, Mapping) else None
    if isinstance(spent, Mapping):
        usd = _amount(spent.get("usd_spent"))
        credits = _amount(spent.get("credits_used"))
        if usd is not None:
            return usd, "answer"
        if credits is not None:
            return credits / CREDITS_PER_USD, "answer"
    if usage is not None:
        usd = chat.cost(usage)
        if usd is not None:
            return usd, "tokens"
    return None, None


def _amount(value: Any) -> float | None:
    """A non-negative finite number, from a number or its text."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _count(value: Any) -> int | None:
    number = _amount(value)
    return None if number is None else int(number)
