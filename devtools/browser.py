"""Headless Chromium on a Streamlit app, for the browser tests and the bench: when the script's runs are done.

Chromium is Debian's /usr/bin/chromium (or $CHROMIUM): Playwright's own browser download is not used.

The app element's `data-test-script-state` says whether a run is going on, but a page that has only just
asked for one still reads "notRunning" until the server's answer arrives, and some widgets send their value
a moment after the action that set it (Streamlit's own e2e helpers sleep for those). Reading the attribute
right after an action can therefore see the previous run. So every page of a context from `new_context`
counts, from its first script on, the reruns it asks the server for (the RerunScript messages on its
WebSocket, less the timed ones of `st.fragment(run_every=...)`) and notes each change of the attribute:
a request is answered by the first change after it was sent (its run starting or, when a run was already
going on, that run ending; a run restarted for it never reads "notRunning" in between). `rerun` waits,
after its block's action, until a request has been sent since the block began (or since the document
began, when the action loaded a new one), every request has been answered, and the script is not running.

What it cannot see is a request that crosses the end of a run on the wire, which it takes as answered by
that run: a window of one loopback message. Assertions on what the run shows use Playwright's `expect`,
which waits for it in any case.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEFAULT_TIMEOUT_MS = 30_000

# Installed before any of the page's own scripts, in every document of the context.
# BackMsg and its ClientState are protobuf messages: BackMsg.rerun_script is field 11, and
# ClientState.is_auto_rerun field 6 (streamlit/proto/BackMsg.proto, ClientState.proto).
SCRIPT_RUNS = r"""
(() => {
  const ATTRIBUTE = "data-test-script-state";
  const runs = { requests: 0, answered: 0, document: Math.random(), events: [] };
  // The last few requests and changes, for the message of a wait that timed out.
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

  function rerunRequest(data) {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
      : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
    const rerun = bytes && fields(bytes).get(11);
    return rerun instanceof Uint8Array ? fields(rerun) : null;
  }

  function note(records) {
    records.forEach((record, index) => {
      const next = records.slice(index + 1).find(later => later.target === record.target);
      const value = next ? next.oldValue : record.target.getAttribute(ATTRIBUTE);
      if (value !== record.oldValue) {
        runs.answered = runs.requests;
        log({ from: record.oldValue, to: value });
      }
    });
  }

  const observer = new MutationObserver(note);
  observer.observe(document, { subtree: true, attributes: true, attributeOldValue: true, attributeFilter: [ATTRIBUTE] });

  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try {
      // A change the page made before this request is not its answer, even if the observer has not been told yet.
      note(observer.takeRecords());
      const request = rerunRequest(data);
      if (request) {
        const auto = Boolean(request.get(6)), fragment = request.has(5);
        if (!auto) runs.requests += 1;
        log({ sent: auto ? "timed fragment rerun" : fragment ? "fragment rerun" : "rerun", requests: runs.requests });
      }
    } catch (error) {
      log({ error: String(error) });  // counting must never keep a message from the server
    }
    return send.call(this, data);
  };

  runs.state = () => {
    note(observer.takeRecords());
    const app = document.querySelector("[data-testid='stApp']");
    return { document: runs.document, requests: runs.requests, answered: runs.answered,
             script: app ? app.getAttribute(ATTRIBUTE) : null, events: runs.events };
  };
  Object.defineProperty(window, "__scriptRuns", { value: runs });
})();
"""

# `after` is a document's id and its count of requests: a new document (the action navigated) starts from none.
_DONE = """after => {
    const {document, requests, answered, script} = window.__scriptRuns.state();
    const asked = document === after.document ? requests > after.requests : requests > 0;
    return asked && answered === requests && script === "notRunning";
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
    condition = """() => { const {requests, answered, script} = window.__scriptRuns.state();
                           return answered === requests && (script === "notRunning" || script === null); }"""
    _wait(page, condition, None, timeout, "the app at rest")


@contextmanager
def rerun(page, timeout: float = DEFAULT_TIMEOUT_MS) -> Iterator[None]:
    """The block's action makes the app rerun: on leaving, that run (and any asked for since) has finished."""
    before = _mark(page)
    yield
    _wait(page, _DONE, before, timeout, "the run the action asked for")
