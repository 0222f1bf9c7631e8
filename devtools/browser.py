"""Headless Chromium on a Streamlit app, for the browser tests and the bench: when the script's runs are done.

Chromium is Debian's /usr/bin/chromium (or $CHROMIUM): Playwright's own browser download is not used.

The app element's `data-test-script-state` says whether a run is going on, but it is React's rendering of the
server's messages, not the messages: a page that has only just asked for a run still reads "notRunning" until
the answer arrives, and a busy browser can take a run's start and its end in one render, so the attribute
never changes at all. So every page of a context from `new_context` reads its WebSocket instead. It counts,
from its first script on, the reruns it asks for (the RerunScript messages it sends, less the timed ones of
`st.fragment(run_every=...)`), and hears each run the server starts (`new_session`) and ends
(`script_finished`). A request is answered by the first run that starts after it was sent; a full rerun only
by a run of the whole script, not by a fragment's run that was already on its way. `rerun` waits, after its
block's action, until a request has been sent since the block began (or since the document began, when the
action loaded a new one), every request has been answered, the last run has ended, a frame has been painted
since, and the attribute reads "notRunning".

What it cannot tell apart is a fragment's own rerun and a timed run of another fragment that started just
after it: the window of one loopback message. Assertions on what the run shows use Playwright's `expect`,
which waits for it in any case.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEFAULT_TIMEOUT_MS = 30_000

# Installed before any of the page's own scripts, in every document of the context. The messages are
# protobuf (streamlit/proto): BackMsg.rerun_script is field 11, and its ClientState's fragment_id field 5
# and is_auto_rerun field 6; ForwardMsg.new_session is field 4, script_finished field 6, and metadata
# field 2, whose run (field 6) lists the fragments a run is for in field 2.
SCRIPT_RUNS = r"""
(() => {
  const ATTRIBUTE = "data-test-script-state";
  const runs = { requests: 0, answered: 0, fullAsked: 0, running: false, finishes: 0, painted: 0,
                 document: Math.random(), events: [] };
  // The last few requests and runs, for the message of a wait that timed out.
  const log = event => {
    runs.events.push({ at: Math.round(performance.now()), ...event });
    runs.events.splice(0, runs.events.length - 12);
  };

  function fields(bytes) {
    const found = new Map();
    let i = 0;
    const varint = () => {
      let value = 0, shift = 0, byte;
      do { byte = bytes[i++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80 && i < bytes.length);
      return value;
    };
    while (i < bytes.length) {
      const tag = varint(), wire = tag % 8, field = Math.floor(tag / 8);
      if (wire === 0) found.set(field, varint());
      else if (wire === 2) { const length = varint(); found.set(field, bytes.subarray(i, i + length)); i += length; }
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else break;
    }
    return found;
  }

  const asBytes = data => data instanceof ArrayBuffer ? new Uint8Array(data)
    : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
  const inner = (message, field) => { const value = message.get(field); return value instanceof Uint8Array ? fields(value) : null; };

  function sent(data) {
    const bytes = asBytes(data);
    const request = bytes && inner(fields(bytes), 11);
    if (!request) return;
    const auto = Boolean(request.get(6)), fragment = request.has(5);
    if (!auto) {
      runs.requests += 1;
      if (!fragment) runs.fullAsked = runs.requests;
    }
    log({ sent: auto ? "timed fragment rerun" : fragment ? "fragment rerun" : "rerun", requests: runs.requests });
  }

  function heard(data) {
    const bytes = asBytes(data);
    if (!bytes) return;
    const message = fields(bytes);
    if (message.has(4)) {
      const meta = inner(message, 2), run = meta && inner(meta, 6);
      const fragments = Boolean(run && run.has(2));
      runs.running = true;
      // A fragment's run cannot be the answer to a rerun of the whole script.
      if (!fragments || runs.fullAsked <= runs.answered) runs.answered = runs.requests;
      log({ started: fragments ? "fragment run" : "run", answered: runs.answered });
    } else if (message.has(6)) {
      runs.running = false;
      const finish = ++runs.finishes;
      // The page has rendered what the run sent once a frame has been painted after its end.
      // A page in a background tab paints no frames, so it is taken as rendered a moment later instead.
      const rendered = () => { runs.painted = Math.max(runs.painted, finish); };
      requestAnimationFrame(() => setTimeout(rendered));
      if (document.hidden) setTimeout(rendered, 100);
      log({ finished: message.get(6) });
    }
  }

  const listening = new WeakSet();
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try {
      if (!listening.has(this)) {
        listening.add(this);
        this.addEventListener("message", event => {
          try { heard(event.data); } catch (error) { log({ error: String(error) }); }
        });
      }
      sent(data);
    } catch (error) {
      log({ error: String(error) });  // counting must never keep a message from the server
    }
    return send.call(this, data);
  };

  runs.state = () => {
    const app = document.querySelector("[data-testid='stApp']");
    return { document: runs.document, requests: runs.requests, answered: runs.answered, running: runs.running,
             rendered: runs.painted === runs.finishes, script: app ? app.getAttribute(ATTRIBUTE) : null,
             events: runs.events };
  };
  Object.defineProperty(window, "__scriptRuns", { value: runs });
})();
"""

# `after` is a document's id and its count of requests: a new document (the action navigated) starts from none.
_DONE = """after => {
    const {document, requests, answered, running, rendered, script} = window.__scriptRuns.state();
    const asked = document === after.document ? requests > after.requests : requests > 0;
    return asked && answered === requests && !running && rendered && script === "notRunning";
}"""


def launch(playwright, **kw):
    """Chromium, headless, as the tests and the bench run it; `args` adds to the standard flags."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *kw.pop("args", ())], **kw)


def new_context(browser, **kw):
    """A browser context whose pages count the script runs they ask for (see the module's docstring)."""
    context = browser.new_context(**kw)
    context.add_init_script(SCRIPT_RUNS)
    return context


def _mark(page) -> dict:
    return page.evaluate("() => { const {document, requests} = window.__scriptRuns.state(); return {document, requests}; }")


def _wait(page, condition: str, arg, timeout: float, what: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function(condition, arg=arg, timeout=timeout)
    except PlaywrightTimeoutError:
        state = page.evaluate("() => window.__scriptRuns.state()")
        raise PlaywrightTimeoutError(f"{what}: not within {timeout / 1000:.0f} s; the page's script runs: {state}") from None


def wait_for_first_run(page, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    """After a page (re)load: the document's first run, the one it asks for when it connects, has finished."""
    _wait(page, _DONE, {"document": None, "requests": 0}, timeout, "the page's first run")


def wait_until_idle(page, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    """Until no rerun the page asked for is outstanding and the script is not running (a page with no app is idle)."""
    condition = """() => { const {requests, answered, running, rendered, script} = window.__scriptRuns.state();
                           return answered === requests && !running && rendered
                                  && (script === "notRunning" || script === null); }"""
    _wait(page, condition, None, timeout, "the app at rest")


@contextmanager
def rerun(page, timeout: float = DEFAULT_TIMEOUT_MS) -> Iterator[None]:
    """The block's action makes the app rerun: on leaving, that run (and any asked for since) has finished."""
    before = _mark(page)
    yield
    _wait(page, _DONE, before, timeout, "the run the action asked for")
