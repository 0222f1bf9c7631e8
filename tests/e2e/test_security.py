"""Secrets stay secret, user and server text stays text, and the app listens on localhost only."""

from __future__ import annotations

import io
import ipaddress
import json
import tomllib

import psutil
import pytest
from playwright.sync_api import expect

from devtools.app_server import ROOT, AppServer
from devtools.browser import rerun, wait_until_idle
from tests.e2e.browser import export_csv, generate, open_app, simple_model, wait_for_videos
from videogen.simulator import Fault, JobScript

pytestmark = pytest.mark.e2e

LEAKY_KEY = "sk-live-LEAKCHECK-7f3a9c2e1b5d4e60"
HOSTILE_PROMPTS = ["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", ":red[red] $x^2$ **bold** <script>alert(3)</script>"]
HOSTILE_ERROR = "<b>refused</b><script>alert(2)</script><img src=y onerror=alert(4)>"


def everything_under(folder) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_the_key_never_appears_anywhere(e2e_sim, page, tmp_path):
    e2e_sim.api_keys = {LEAKY_KEY}
    server = AppServer(
        {"AIMLAPI_API_KEY": LEAKY_KEY, "AIMLAPI_BASE_URL": e2e_sim.url, "PLAYGROUND_TYPICAL_SECONDS": "2"}, tmp_path / "data"
    ).start()
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    html: list[str] = []
    downloads: list[bytes] = []
    try:
        open_app(page, server.url)
        generate(page, "A leak check")
        wait_for_videos(page, 1)
        html.append(page.content())
        e2e_sim.faults.inject("create", Fault.http(503))
        generate(page, "A failing create")
        e2e_sim.faults.inject("create", Fault.http(400))
        generate(page, "A refused create")
        html.append(page.content())
        with rerun(page):
            page.get_by_role("link", name="History").click()
        html.append(page.content())
        downloads.append(json.dumps(export_csv(page)).encode())
        with page.expect_download() as download:
            page.get_by_role("button", name="Export JSON").click()
        downloads.append(download.value.path().read_bytes())
    finally:
        server.stop()
    key = LEAKY_KEY.encode()
    assert key not in everything_under(server.data_dir), "the data directory holds the key"
    assert LEAKY_KEY not in server.output(), "the app's log holds the key"
    assert all(LEAKY_KEY not in h for h in html), "a page holds the key"
    assert all(LEAKY_KEY not in u for u in urls + [r.path for r in e2e_sim.requests]), "a URL holds the key"
    assert all(key not in d for d in downloads), "an export holds the key"
    assert LEAKY_KEY[-4:] in html[0]  # what may be shown: the last four characters


def test_a_key_pasted_in_the_sidebar_is_not_kept_in_the_page(e2e_sim, page, tmp_path):
    e2e_sim.api_keys = {LEAKY_KEY}
    server = AppServer({"AIMLAPI_BASE_URL": e2e_sim.url, "PLAYGROUND_TYPICAL_SECONDS": "2"}, tmp_path / "data").start()
    try:
        open_app(page, server.url)
        expect(page.get_by_text("Demo mode").first).to_be_visible()
        field = page.get_by_label("API key", exact=True)
        field.fill(LEAKY_KEY)
        with rerun(page):
            field.press("Enter")
        page.get_by_text("Live API").wait_for()
        generate(page, "Made with a pasted key")
        wait_for_videos(page, 1)
        assert LEAKY_KEY not in page.content()
        assert e2e_sim.count("create") == 1
    finally:
        server.stop()
    assert LEAKY_KEY.encode() not in everything_under(server.data_dir)
    assert LEAKY_KEY not in server.output()


def test_hostile_prompts_and_server_messages_stay_literal_text(app_server, e2e_sim, page):
    open_app(page, app_server.url)
    for prompt in HOSTILE_PROMPTS:
        generate(page, prompt)
    e2e_sim.faults.script(JobScript(error=HOSTILE_ERROR))
    generate(page, "Fails with an HTML message")
    wait_for_videos(page, len(HOSTILE_PROMPTS))
    page.get_by_text("The generation failed.").wait_for(timeout=45_000)
    # An injected handler would fire when its image fails to load: once every image has loaded or failed,
    # and the runs that drew them are over, any alert would have been raised.
    wait_until_idle(page)
    page.wait_for_function("() => [...document.images].every(image => image.complete)")

    for prompt in HOSTILE_PROMPTS:
        expect(page.get_by_text(prompt, exact=True).first).to_be_visible()
    expect(page.get_by_text(f"GenerationError: {HOSTILE_ERROR}", exact=True)).to_be_visible()
    assert page.dialogs == []
    assert page.locator("img[src='x'], img[src='y']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("script:text('alert')").count() == 0
    assert page.locator("b:text('refused')").count() == 0
    # The toasts that announced them are text too.
    assert page.locator("[data-testid='stToast'] a, [data-testid='stToast'] img").count() == 0


def shows_picture(body: bytes, picture) -> bool:
    """Whether `body` is `picture`, re-encoded or not: Streamlit may convert an image before serving it."""
    from PIL import Image, ImageChops, ImageStat, UnidentifiedImageError

    try:
        served = Image.open(io.BytesIO(body)).convert("RGB")
    except (UnidentifiedImageError, OSError):
        return False
    if served.width * picture.height != served.height * picture.width:
        return False
    served = served.resize(picture.size)
    return max(ImageStat.Stat(ImageChops.difference(served, picture)).mean) < 24


def test_a_local_path_typed_as_an_image_link_is_never_served(app_server, page, tmp_path):
    """st.image reads and serves a local file when its text names one. Every image, video and audio address
    in the page is fetched as the browser would: none returns the files named, as they are or re-encoded."""
    from PIL import Image, PngImagePlugin

    marker = "SECRET-7d1e40c2-not-for-the-page"
    picture = Image.new("RGB", (96, 64))  # flat quadrants: still recognisable after a JPEG re-encoding
    for (x, y), color in zip([(0, 0), (48, 0), (0, 32), (48, 32)], [(230, 40, 40), (40, 200, 60), (40, 80, 230), (240, 220, 40)]):
        picture.paste(color, (x, y, x + 48, y + 32))
    info = PngImagePlugin.PngInfo()
    info.add_text("note", marker)
    secret = tmp_path / "secret.png"
    picture.save(secret, pnginfo=info)
    database = app_server.data_dir / "history.sqlite3"
    contents = (secret.read_bytes(), b"SQLite format 3\x00", b"root:x:0:0", marker.encode())

    model = simple_model("image-to-video", "image_url")
    open_app(page, f"{app_server.url}/?model={model}")
    field = page.locator(".st-key-media-image_url")
    box = field.get_by_label("or an https link")
    fetched = []
    for typed in (str(secret), str(database), "/etc/passwd", f"file://{secret}", f"{secret.parent}/../{secret.parent.name}/secret.png"):
        box.fill(typed)
        with rerun(page):
            box.press("Enter")
        field.get_by_text("That is a file path, not a link").wait_for()
        expect(field.locator("[data-testid='stImage']")).to_have_count(0)
        sources = page.eval_on_selector_all("img, video, audio, source", "els => els.map(e => e.currentSrc || e.src).filter(Boolean)")
        for source in sources:
            if source.startswith(app_server.url):  # what this server serves (the page's own media)
                body = page.request.get(source).body()
                fetched.append(source)
                assert not any(content in body for content in contents), (typed, source)
                assert not shows_picture(body, picture), (typed, source)
    assert marker not in page.content()
    # The same box still shows a real link: handed to the browser as it is, never read by the server.
    box.fill("https://cdn.example.com/cat.png")
    with rerun(page):
        box.press("Enter")
    expect(field.locator("[data-testid='stImage'] img")).to_have_attribute("src", "https://cdn.example.com/cat.png")


def test_the_app_listens_on_localhost_only(app_server):
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"
    process = psutil.Process(app_server.process.pid)
    listening = [c for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening
    for conn in listening:
        assert ipaddress.ip_address(conn.laddr.ip).is_loopback, conn.laddr
