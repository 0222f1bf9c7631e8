"""Downloads of finished videos: partial files apart, every hop checked, links byte for byte, expired links renewed.

Everything goes over loopback HTTP to the simulator (or a TLS server on loopback). Live-mode address checks are
tested on the check itself, and a redirect towards a refused address is followed with a guard on every socket
connect: nothing here ever sends a packet to a non-loopback address.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import TEST_KEY, fast_schedule, wait_until
from videogen.api import Client, Status
from videogen.polling import DownloadError, DownloadLimits, Poller, address_refusal, check_hop, download_video
from videogen.polling import _downloads as videos
from videogen.simulator import Fault, JobScript
from videogen.store import Store

SERVER = "simulator"
BODY = {"model": "veo2", "prompt": "a kite over the dunes", "duration": 5, "aspect_ratio": "16:9"}
ROOT = Path(__file__).resolve().parent.parent


# -- helpers -----------------------------------------------------------------


@pytest.fixture
def connections(monkeypatch):
    """Every socket connect made during the test; any to a non-loopback address is refused, never sent."""
    seen: list[tuple[str, int]] = []
    real = socket.socket.connect

    def connect(self, address):
        seen.append((address[0], address[1]))
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise ConnectionRefusedError(f"test guard: no connection to {address[0]}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def fake_dns(monkeypatch, names: dict[str, list[str]], *, later: dict[str, list[str]] | None = None):
    """Answer `names` from a table (and from `later` once a name was asked once: a rebinding DNS server);
    IP literals and every other name from the real resolver. Returns the names asked, in order."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kw):
        if host not in names:
            return real(host, port, *args, **kw)
        answers = (later or {}).get(host, names[host]) if host in asked else names[host]
        asked.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def make_poller(store, client, **kw):
    options = dict(server=SERVER, schedule_for=fast_schedule, backoff_base=0.1, backoff_cap=0.3, idle_interval=0.1)
    options.update(kw)
    return Poller(store, client, **options)


def submit(client, store, body=BODY):
    generation = client.create(body)
    store.add(generation, request=body, server=SERVER)
    return generation.id


def finished_link(sim, client, script: JobScript | None = None, body=BODY) -> tuple[str, str]:
    if script is not None:
        sim.faults.script(script)
    gen_id = client.create(body).id
    found = {}
    assert wait_until(lambda: (found.update(g=client.fetch(gen_id)) or found["g"].video_url) is not None)
    return gen_id, found["g"].video_url


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def dirs(tmp_path):
    """A data folder laid out as the store lays it out."""
    store = Store(tmp_path / "data")
    yield store.videos_dir, store.partial_dir
    store.close()


# -- 1. partial files apart ----------------------------------------------------


def test_a_download_in_progress_is_written_apart_and_moved_in_when_complete(sim, client, dirs):
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client)
    sim.faults.inject("video", Fault.trickling(100_000))
    done = {}
    worker = threading.Thread(
        target=lambda: done.update(
            path=download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True, limits=DownloadLimits(min_rate=1))
        )
    )
    worker.start()
    try:
        assert wait_until(lambda: any(p.stat().st_size > 0 for p in files(partial_dir)))
        assert files(videos_dir) == []  # nothing half-written where videos are counted, served or zipped
    finally:
        worker.join(60)
    assert files(videos_dir) == [done["path"]] and files(partial_dir) == []
    assert videos.looks_like_video(done["path"].read_bytes()[:12])


def test_a_killed_download_leaves_nothing_in_videos_and_a_sweep_clears_it_once_stale(sim, client, tmp_path):
    data = tmp_path / "data"
    store = Store(data)
    gen_id, url = finished_link(sim, client)
    sim.faults.inject("video", Fault.trickling(20_000))
    script = (
        "import sys; from pathlib import Path; from videogen.polling import DownloadLimits, download_video; "
        "download_video(sys.argv[1], Path(sys.argv[2]), sys.argv[3], partial_dir=Path(sys.argv[4]), allow_local=True, "
        "limits=DownloadLimits(min_rate=1))"
    )
    child = subprocess.Popen([sys.executable, "-c", script, url, str(store.videos_dir), gen_id, str(store.partial_dir)], cwd=ROOT)
    try:
        assert wait_until(lambda: any(p.stat().st_size > 0 for p in files(store.partial_dir)), timeout=30)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert files(store.videos_dir) == []
    [left] = files(store.partial_dir)

    poller = make_poller(store, client, partial_sweep_every=0)
    poller.sweep()
    assert left.exists()  # it could still be a live download of another process
    stale = left.stat().st_mtime - poller.download_limits.stale_after - 1
    os.utime(left, (stale, stale))
    poller.sweep()
    assert files(store.partial_dir) == [] and files(store.videos_dir) == []
    store.close()


def test_a_running_pollers_sweeps_clear_stale_partials_not_only_its_start(client, store):
    poller = make_poller(store, client, partial_sweep_every=0.1).start()
    try:
        assert wait_until(lambda: poller._last_partial_sweep > float("-inf"))
        stale, fresh = store.partial_dir / "download-old.mp4", store.partial_dir / "download-new.mp4"
        stale.write_bytes(b"cut off")
        fresh.write_bytes(b"in progress")
        old = stale.stat().st_mtime - poller.download_limits.stale_after - 1
        os.utime(stale, (old, old))
        assert wait_until(lambda: not stale.exists())
        assert fresh.exists()
    finally:
        poller.stop()


def test_the_partial_sweep_is_rate_limited(client, store, monkeypatch):
    from videogen.polling import _poller as poller_module

    scans = []
    monkeypatch.setattr(poller_module, "remove_stale_partials", lambda folder, **kw: scans.append(folder) or 0)
    poller = make_poller(store, client)
    for _ in range(20):
        poller.sweep()
    assert scans == [store.partial_dir]


# -- 2. every hop checked --------------------------------------------------------


@pytest.mark.parametrize(
    "address, reason",
    [
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address to refuse, not one to bind)
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not a public address"),  # carrier-grade NAT
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_live_mode_refuses_every_address_that_is_not_public(address, reason):
    refusal = address_refusal(address, allow_local=False)
    assert refusal is None if reason is None else reason in refusal


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_is_allowed_only_locally(address):
    assert address_refusal(address, allow_local=True) is None
    assert "loopback" in address_refusal(address, allow_local=False)


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "0.0.0.0", "::ffff:10.0.0.1"])  # noqa: S104
def test_local_mode_still_refuses_what_is_not_loopback(address):
    assert address_refusal(address, allow_local=True) is not None


@pytest.mark.parametrize(
    "url, answers, words",
    [
        ("https://cdn.example/v.mp4", ["10.0.0.1"], "cdn.example (10.0.0.1), a private address"),
        ("https://cdn.example/v.mp4", ["93.184.215.14", "169.254.169.254"], "link-local"),  # one bad answer is enough
        ("https://cdn.example/v.mp4", ["::ffff:127.0.0.1"], "loopback"),
        ("https://cdn.example/v.mp4", ["0.0.0.0"], "unspecified"),  # noqa: S104
        ("https://127.0.0.1/v.mp4", [], "127.0.0.1, a loopback address"),
        ("https://[::1]:8443/v.mp4", [], "loopback"),
        ("https://169.254.169.254/latest/meta-data/", [], "link-local"),
        ("http://cdn.example/v.mp4", ["93.184.215.14"], "not https"),
        ("http://127.0.0.1:8765/v.mp4", [], "not https"),
        ("file:///etc/passwd", [], "not https"),
    ],
)
def test_live_mode_checks_the_resolved_addresses(monkeypatch, connections, url, answers, words):
    fake_dns(monkeypatch, {"cdn.example": answers})
    with pytest.raises(DownloadError, match="refused|not https") as info:
        check_hop(url, allow_local=False)
    assert words in str(info.value) and info.value.permanent
    assert connections == []


def test_a_checked_hop_keeps_the_links_bytes_and_pins_the_address(monkeypatch):
    fake_dns(monkeypatch, {"cdn.example": ["93.184.215.14"]})
    link = "https://cdn.example/v/a%2Fb%7e.mp4?X-Amz-Signature=abc%2Bdef%2b&X-Amz-Expires=600#frag"
    hop = check_hop(link, allow_local=False)
    assert hop.target == "/v/a%2Fb%7e.mp4?X-Amz-Signature=abc%2Bdef%2b&X-Amz-Expires=600"
    assert hop.addresses == ("93.184.215.14",) and hop.host == "cdn.example" and hop.host_header == "cdn.example"
    conn = videos._connection_for(hop, hop.addresses[0], timeout=1.0, ca_certs="ca.pem")
    assert conn.host == "93.184.215.14"  # the socket goes to the address that was checked...
    assert conn.server_hostname == conn.assert_hostname == "cdn.example"  # ...and TLS checks the name
    assert conn.cert_reqs == "CERT_REQUIRED"


def test_dns_rebinding_cannot_move_the_connection(sim, client, dirs, monkeypatch, connections):
    """The name is resolved once, checked, and that address used: a second answer never reaches a socket."""
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client)
    asked = fake_dns(monkeypatch, {"localhost": ["127.0.0.1"]}, later={"localhost": ["10.0.0.1"]})
    url = url.replace("127.0.0.1", "localhost")
    path = download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True)
    assert path.exists() and asked == ["localhost"]
    assert all(host == "127.0.0.1" for host, _ in connections)


@pytest.fixture
def sim_as_public_cdn(sim, monkeypatch):
    """Live mode, with the loopback simulator standing in for a public CDN: its own hops pass, every other is checked."""
    real = videos.check_hop
    origin = urlsplit(sim.url).netloc

    def check(url, *, allow_local, resolve=None, redirected=False):
        if urlsplit(url).netloc == origin:
            return real(url, allow_local=True, resolve=resolve, redirected=redirected)
        return real(url, allow_local=allow_local, resolve=resolve, redirected=redirected)

    monkeypatch.setattr(videos, "check_hop", check)


@pytest.mark.parametrize(
    "to, words",
    [
        ("http://169.254.169.254/latest/meta-data/", "which is not https"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
        ("https://10.0.0.1/v.mp4", "10.0.0.1, a private address"),
        ("https://[::ffff:127.0.0.1]/v.mp4", "loopback"),
        ("https://metadata.example/computeMetadata/v1/", "metadata.example (169.254.169.254), a link-local address"),
    ],
)
@pytest.mark.parametrize("hops", [1, 3])
def test_a_redirect_to_a_refused_address_is_stopped_before_connecting(
    sim, client, dirs, monkeypatch, connections, sim_as_public_cdn, to, words, hops
):
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client)
    fake_dns(monkeypatch, {"metadata.example": ["169.254.169.254"]})
    sim.faults.inject("video", Fault.redirects(hops, to=to))
    connections.clear()
    with pytest.raises(DownloadError, match="redirected to") as info:
        download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=False)
    assert words in str(info.value) and info.value.permanent
    assert sim.count("redirect") == hops - 1
    assert {host for host, _ in connections} == {"127.0.0.1"}  # the simulator's hops only
    assert files(videos_dir) == files(partial_dir) == []


def test_demo_mode_refuses_a_redirect_off_this_machine(sim, client, dirs, connections):
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client)
    sim.faults.inject("video", Fault.redirects(2, to="https://10.0.0.1/v.mp4"))
    with pytest.raises(DownloadError, match="10.0.0.1, a private address"):
        download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True)
    assert {host for host, _ in connections} == {"127.0.0.1"}


def test_up_to_three_redirects_are_followed_and_a_fourth_is_refused(sim, client, dirs):
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client)
    sim.faults.inject("video", Fault.redirects(3))
    assert download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True).exists()
    assert sim.count("redirect") == 2 and sim.count("video") == 2
    sim.faults.inject("video", Fault.redirects(4))
    with pytest.raises(DownloadError, match="more than 3 times") as info:
        download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True)
    assert info.value.permanent and sim.count("redirect") == 2 + 3


def test_a_trickling_server_cannot_hold_a_download(sim, client, dirs):
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client)
    sim.faults.inject("video", Fault.trickling(2_000))
    with pytest.raises(DownloadError, match="too slowly") as info:
        download_video(
            url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True, limits=DownloadLimits(min_rate=50_000, grace=0.3)
        )
    assert not info.value.permanent
    assert files(videos_dir) == files(partial_dir) == []


def test_a_download_past_its_deadline_is_cut_off(sim, client, dirs):
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client)
    sim.faults.inject("video", Fault.trickling(20_000))  # fast enough for the rate, too slow for the deadline
    with pytest.raises(DownloadError, match="did not finish within 0.5 s") as info:
        download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True, limits=DownloadLimits(deadline=0.5, min_rate=1))
    assert not info.value.permanent
    assert files(videos_dir) == files(partial_dir) == []


def test_the_poller_retries_a_download_that_was_too_slow(sim, client, store):
    sim.faults.inject("video", Fault.trickling(2_000))
    gen_id = submit(client, store)
    poller = make_poller(store, client, download_limits=DownloadLimits(min_rate=50_000, grace=0.3)).start()
    try:
        assert wait_until(lambda: store.get(gen_id).video_path is not None, timeout=30)
    finally:
        poller.stop()
    assert store.get(gen_id).video_error is None and sim.count("video") == 2


def test_free_disk_space_is_checked_before_writing(sim, client, dirs, monkeypatch):
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client)
    size = (sim.videos_dir / url.split("/videos/")[1].split("?")[0]).stat().st_size
    usage = namedtuple("usage", "total used free")
    free = {"bytes": size - 1}
    monkeypatch.setattr(videos.shutil, "disk_usage", lambda path: usage(10**12, 0, free["bytes"]))
    limits = DownloadLimits(disk_margin=0)
    with pytest.raises(DownloadError, match="Not enough free disk space") as info:
        download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True, limits=limits)
    assert not info.value.permanent and files(videos_dir) == files(partial_dir) == []
    free["bytes"] = size + 10 * 2**20 - 1  # room for the video, not for the margin
    with pytest.raises(DownloadError, match="margin of 10 MB"):
        download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True, limits=DownloadLimits(disk_margin=10 * 2**20))
    free["bytes"] = size
    assert download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True, limits=limits).exists()


# -- TLS on loopback: the pinned connection still verifies the certificate -----------


def _certificates(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A throwaway CA, and a server certificate it signed for `name`: (CA file, server chain+key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "videogen test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, chain_file = tmp_path / f"ca-{name}.pem", tmp_path / f"server-{name}.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, chain_file


class _VideoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 4096

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_server(tmp_path):
    """A loopback HTTPS server; `start(name)` serves a certificate for `name` and returns (port, CA file)."""
    servers = []

    def start(name: str) -> tuple[int, Path]:
        ca_file, chain = _certificates(tmp_path, name)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _VideoHandler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1], ca_file

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_tls_is_verified_against_the_links_name_on_the_pinned_address(tls_server, dirs, monkeypatch, connections):
    videos_dir, partial_dir = dirs
    fake_dns(monkeypatch, {"localhost": ["127.0.0.1"]})
    port, ca_file = tls_server("localhost")
    url = f"https://localhost:{port}/v.mp4"
    path = download_video(url, videos_dir, "tls:veo2", partial_dir=partial_dir, allow_local=True, ca_certs=str(ca_file))
    assert path.read_bytes() == _VideoHandler.body
    assert connections == [("127.0.0.1", port)]
    # The certificate's issuer is unknown to the default bundle: refused.
    with pytest.raises(DownloadError, match="certificate for localhost could not be verified"):
        download_video(url, videos_dir, "tls2:veo2", partial_dir=partial_dir, allow_local=True)


def test_tls_refuses_a_certificate_for_another_name(tls_server, dirs, monkeypatch):
    videos_dir, partial_dir = dirs
    fake_dns(monkeypatch, {"localhost": ["127.0.0.1"]})
    port, ca_file = tls_server("cdn.example")  # a valid certificate, for a name other than the link's
    with pytest.raises(DownloadError, match="certificate for localhost could not be verified"):
        download_video(
            f"https://localhost:{port}/v.mp4", videos_dir, "tls:veo2", partial_dir=partial_dir, allow_local=True, ca_certs=str(ca_file)
        )
    assert files(videos_dir) == []


# -- 3. links byte for byte, and expired links ----------------------------------------


def test_a_signed_link_is_requested_byte_for_byte(sim, client, dirs):
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client, JobScript(signed_link=True))
    assert "%2F" in url and "%7E" in url and "%2B" in url
    path = download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True)
    assert videos.looks_like_video(path.read_bytes()[:12])
    served = [r for r in sim.requests if r.endpoint == "video"][-1]
    assert served.status == 200 and served.path == urlsplit(url).path
    # The same link decoded or re-quoted, as a URL library may do, breaks its signature.
    for altered in (url.replace("%2F", "/"), url.replace("%7E", "~"), url.replace("%2B", "+")):
        with pytest.raises(DownloadError, match="SignatureDoesNotMatch") as info:
            download_video(altered, videos_dir, gen_id + "x", partial_dir=partial_dir, allow_local=True)
        assert info.value.link_refused


def test_the_poller_keeps_a_signed_link_byte_for_byte(sim, client, store):
    sim.faults.script(JobScript(signed_link=True))
    gen_id = submit(client, store)
    poller = make_poller(store, client).start()
    try:
        assert wait_until(lambda: store.get(gen_id).video_path is not None or store.get(gen_id).video_error is not None)
    finally:
        poller.stop()
    record = store.get(gen_id)
    assert record.video_error is None and "%2F" in record.video_url and "%7E" in record.video_url


def test_an_expired_link_is_refused_with_the_cdns_words(sim, client, dirs):
    videos_dir, partial_dir = dirs
    gen_id, url = finished_link(sim, client, JobScript(expired_links=1))
    with pytest.raises(DownloadError, match="403 \\(AccessDenied: Request has expired\\)") as info:
        download_video(url, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True)
    assert info.value.link_refused and files(videos_dir) == files(partial_dir) == []
    fresh = client.fetch(gen_id).video_url
    assert fresh != url and download_video(fresh, videos_dir, gen_id, partial_dir=partial_dir, allow_local=True).exists()


@pytest.mark.parametrize("status", [403, 404, 200], ids=["403", "404", "xml-body-with-200"])
@pytest.mark.parametrize("signed", [False, True], ids=["plain", "signed"])
def test_the_poller_fetches_a_fresh_link_when_the_cdn_refuses_one(sim, client, store, status, signed):
    sim.faults.script(JobScript(expired_links=1, expired_status=status, signed_link=signed))
    gen_id = submit(client, store)
    poller = make_poller(store, client).start()
    try:
        assert wait_until(lambda: store.get(gen_id).video_path is not None or store.get(gen_id).video_error is not None)
    finally:
        poller.stop()
    record = store.get(gen_id)
    assert record.video_error is None and record.status is Status.COMPLETED and Path(record.video_path).exists()
    videos_served = [r for r in sim.requests if r.endpoint == "video"]
    assert [r.status for r in videos_served] == [status, 200]


def test_a_fresh_link_that_is_refused_too_ends_with_a_clear_error(sim, client, store):
    sim.faults.script(JobScript(expired_links=2))
    gen_id = submit(client, store)
    poller = make_poller(store, client).start()
    try:
        assert wait_until(lambda: store.get(gen_id).video_error is not None)
    finally:
        poller.stop()
    error = store.get(gen_id).video_error
    assert "Request has expired" in error and "fresh link from the server was refused as well" in error
    assert sim.count("video") == 2  # once more, not a loop
    assert store.get(gen_id).video_path is None and files(store.videos_dir) == []


def test_a_poller_for_a_real_server_refuses_local_links(sim, store):
    """Unset, local links are allowed only when the API itself is on loopback."""
    remote = Client(TEST_KEY, base_url="https://api.aimlapi.com")
    try:
        assert make_poller(store, remote).allow_local is False
        assert make_poller(store, Client(TEST_KEY, base_url=sim.url)).allow_local is True
        assert make_poller(store, Client(TEST_KEY, base_url=sim.url), allow_local=False).allow_local is False
    finally:
        remote.close()
