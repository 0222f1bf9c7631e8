"""Finished videos: which links may be used, where copies go, and how they are fetched; and images by the same rules.

The API's video links are CDN addresses that expire, so every finished video is
copied into the data directory. The download never carries the API key (the
CDN is a different host), is streamed with a size cap, and must really be a
video: an HTML error page with a 200 status is refused.

A link comes from the server, so it is treated as hostile. Every hop of a
redirect chain is checked before anything connects to it: https only, and the
host's addresses must all be public (private, loopback, link-local, reserved,
multicast and unspecified addresses are refused, IPv4-mapped IPv6 included).
The connection then goes to the address that was checked, so a DNS answer that
changes between the check and the connect cannot move it. Plain http and
loopback are allowed only with `allow_local` (demo mode, or a test server on
this machine). The request target goes on the wire exactly as the server sent
it: signed paths hold `%2F`, and requests/urllib3 would rewrite some escapes
(`%7E` to `~`, `%2f` to `%2F`), which breaks a signature.

A download has an overall deadline and a minimum average rate, so a server
that trickles bytes cannot hold one of the poller's download slots, and it
checks free disk space before writing. It is written under `partial_dir` and
moved into the videos folder only when complete.

`download_image` fetches a picture an image model made (a start frame) by the
same rules, every hop checked and the checked address connected to, into memory
under its own cap; whether the bytes are an image a model takes is for
videogen/media.py to say.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import re
import shutil
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import certifi
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.ssl_match_hostname import CertificateError

from ..api import is_loopback_host
from ..ids import unique_name

MAX_VIDEO_BYTES = 500 * 1024 * 1024
CHUNK_BYTES = 256 * 1024
MAX_REDIRECTS = 3
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# What a CDN may call an MP4 or WebM; octet-stream is common for signed links.
ACCEPTED_TYPES = ("video/", "application/octet-stream", "binary/octet-stream", "application/mp4")
IMAGE_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")
#: An image model's picture: a 4K PNG is some 30 MB; a server that claims more is refused before it is read.
MAX_IMAGE_BYTES = 50 * 1024 * 1024
# What each kind of download says when it gave up for now; only the poller tries a video again by itself.
_AGAIN = {"video": "; it will be tried again"}
_XML_FIELD = {name: re.compile(rb"<" + name + rb">([^<]{0,200})</" + name + rb">") for name in (b"Code", b"Message")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Resolver = Callable[..., list]


@dataclass(frozen=True)
class DownloadLimits:
    """How long and how slowly one download may run, and how much room it must leave."""

    #: The whole download, every redirect included. Partial files older than this are left-overs.
    deadline: float = 600.0
    #: Average bytes per second a download must keep up once `grace` seconds have passed.
    min_rate: float = 32 * 1024
    grace: float = 15.0
    #: Free space that must remain beyond the video's announced size.
    disk_margin: int = 200 * 1024 * 1024
    max_bytes: int = MAX_VIDEO_BYTES
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    @property
    def stale_after(self) -> float:
        """A partial file untouched this long belongs to no running download (a read can run one timeout late)."""
        return self.deadline + self.read_timeout


class DownloadError(Exception):
    """The video could not be copied.

    `permanent` means trying the same link again will not help. `link_refused` means
    the CDN refused the link itself (403, 404, an XML error body): a signed link that
    expired, which a fresh link from the API can cure.
    """

    def __init__(self, message: str, *, permanent: bool, link_refused: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.link_refused = link_refused


def is_allowed_video_url(url: str | None) -> bool:
    """https anywhere; plain http only on this machine (the simulator). For showing a link, before any download."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and is_loopback_host(parts.hostname)


def video_filename(generation_id: str) -> str:
    """The app's copy of a generation's video: a file name safe on every OS and unique per id."""
    return unique_name(generation_id) + ".mp4"


def looks_like_video(head: bytes) -> bool:
    """MP4/MOV have an 'ftyp' box at byte 4; WebM/Matroska start with the EBML magic."""
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"


def looks_like_image(head: bytes) -> bool:
    """PNG, JPEG, WebP or GIF by their first bytes (a GIF gets as far as media.py, which names it)."""
    return (
        head[:8] == b"\x89PNG\r\n\x1a\n"
        or head[:3] == b"\xff\xd8\xff"
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or head[:4] == b"GIF8"
    )


# -- which addresses a download may reach ---------------------------------


def address_refusal(address: str, *, allow_local: bool = False) -> str | None:
    """Why a download must not connect to `address` (an IP literal), or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 form that carries an IPv4 address reaches that IPv4 address: judge that one.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    if ip.is_loopback:
        return None if allow_local else "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Hop:
    """One checked request: where it connects, and the exact bytes of its target."""

    url: str
    scheme: str
    host: str  # as in the link, without brackets: what TLS verifies
    port: int
    addresses: tuple[str, ...]  # every one checked; the connection goes to one of these
    target: str  # path and query, as the server sent them
    host_header: str


def check_hop(url: str, *, allow_local: bool, resolve: Resolver | None = None, redirected: bool = False, noun: str = "video") -> Hop:
    """Check one link before anything connects to it; raise a permanent DownloadError naming why it is refused.

    `noun` is what the link is for, in the messages ("video", "image")."""
    verb = "redirected to" if redirected else "points at"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DownloadError(f"The {noun} link {verb} an address that cannot be read: refused.", permanent=True) from None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    local_http = scheme == "http" and allow_local and is_loopback_host(host)
    if scheme != "https" and not local_http:
        if redirected:
            raise DownloadError(
                f"The {noun} link redirected to {scheme or 'a'}://{host or '…'}, which is not https: refused before connecting.",
                permanent=True,
            )
        raise DownloadError(f"The {noun} link is not https, so it was not fetched.", permanent=True)
    if not host:
        raise DownloadError(f"The {noun} link {verb} an address with no host: refused.", permanent=True)
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port, resolve or socket.getaddrinfo, noun)
    for address in addresses:
        reason = address_refusal(address, allow_local=allow_local)
        if reason:
            shown = host if host == address else f"{host} ({address})"
            raise DownloadError(f"The {noun} link {verb} {shown}, {reason}: refused before connecting.", permanent=True)
    return Hop(url, scheme, host, port, addresses, _request_target(url, scheme, noun), parts.netloc.rsplit("@", 1)[-1])


def _resolve(host: str, port: int, resolve: Resolver, noun: str) -> tuple[str, ...]:
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DownloadError(f"The {noun} host {host} could not be resolved ({type(exc).__name__}).", permanent=False) from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise DownloadError(f"The {noun} host {host} has no address.", permanent=False)
    return addresses


def _request_target(url: str, scheme: str, noun: str) -> str:
    """Path and query exactly as written in the link: no decoding, no re-quoting."""
    rest = url[len(scheme) + 3 :]
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    target = rest[cut:].split("#", 1)[0]
    if not target.startswith("/"):
        target = "/" + target
    if re.search(r"[\x00-\x20\x7f]", target):
        raise DownloadError(f"The {noun} link holds spaces or control characters: refused.", permanent=True)
    # A request line is ASCII; only characters that cannot go on the wire as they are get escaped.
    return re.sub(r"[^\x00-\x7f]+", lambda m: quote(m.group(0), safe=""), target)


# -- the download -----------------------------------------------------------


def download_video(
    url: str,
    videos_dir: Path,
    generation_id: str,
    *,
    partial_dir: Path,
    allow_local: bool = False,
    limits: DownloadLimits = DownloadLimits(),  # frozen, so one shared default is safe
    resolve: Resolver | None = None,
    ca_certs: str | None = None,
) -> Path:
    """Copy the video at `url` into `videos_dir` and return its path.

    The bytes go to a file in `partial_dir` (on the same file system) first, and
    are moved into `videos_dir` only once complete.
    """
    target = (videos_dir / video_filename(generation_id)).resolve()
    if target.parent != videos_dir.resolve():
        raise DownloadError("Refusing to write outside the videos folder.", permanent=True)
    started = time.monotonic()
    current = url
    for hop_number in range(MAX_REDIRECTS + 1):
        hop = check_hop(current, allow_local=allow_local, resolve=resolve, redirected=hop_number > 0)
        conn = _connect(hop, limits, started, ca_certs or certifi.where())
        response = None
        try:
            response, sock = _request(conn, hop, limits, started)
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise DownloadError(f"The video link answered {response.status} with nowhere to go.", permanent=True)
                current = urljoin(current, location)
                continue
            return _receive(response, sock, target, Path(partial_dir), limits, started)
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            raise _network_error(exc, limits, started) from None
        finally:
            if response is not None:
                response.close()
            conn.close()
    raise DownloadError(f"The video link redirected more than {MAX_REDIRECTS} times: refused.", permanent=True)


#: An image is small beside a video: a minute is long enough, and a slow server is given up on sooner.
IMAGE_LIMITS = DownloadLimits(deadline=60.0, grace=10.0, max_bytes=MAX_IMAGE_BYTES)


def download_image(
    url: str,
    *,
    allow_local: bool = False,
    limits: DownloadLimits = IMAGE_LIMITS,
    resolve: Resolver | None = None,
    ca_certs: str | None = None,
) -> bytes:
    """The bytes of the image at `url`, fetched as a video is (every hop checked before connecting, the checked
    address connected to, the target sent as written, no key), read into memory up to `limits.max_bytes`.

    A DownloadError says why not; `permanent` as for a video. The bytes look like an image by their first few;
    that they are one, and one the model takes, is for media.save_image to check.
    """
    started = time.monotonic()
    current = url
    for hop_number in range(MAX_REDIRECTS + 1):
        hop = check_hop(current, allow_local=allow_local, resolve=resolve, redirected=hop_number > 0, noun="image")
        conn = _connect(hop, limits, started, ca_certs or certifi.where(), "image")
        response = None
        try:
            response, sock = _request(conn, hop, limits, started, "image")
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise DownloadError(f"The image link answered {response.status} with nowhere to go.", permanent=True)
                current = urljoin(current, location)
                continue
            return _receive_image(response, sock, limits, started)
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            raise _network_error(exc, limits, started, "image") from None
        finally:
            if response is not None:
                response.close()
            conn.close()
    raise DownloadError(f"The image link redirected more than {MAX_REDIRECTS} times: refused.", permanent=True)


def _receive_image(response: urllib3.BaseHTTPResponse, sock: socket.socket, limits: DownloadLimits, started: float) -> bytes:
    status = response.status
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if status >= 400 or "xml" in content_type:
        raise _refusal(status, _error_head(response), "image")
    if not 200 <= status < 300:
        raise DownloadError(f"The image link answered {status}.", permanent=True)
    if not content_type.startswith(IMAGE_TYPES):
        raise DownloadError(f"The image link served {content_type or 'an unknown type'}, not an image.", permanent=True)
    length_header = response.headers.get("Content-Length", "")
    length = int(length_header) if length_header.isdigit() else None
    too_large = DownloadError(f"The image is larger than {limits.max_bytes // 2**20} MB.", permanent=True)
    if length is not None and length > limits.max_bytes:
        raise too_large
    data = bytearray()
    while True:
        sock.settimeout(min(limits.read_timeout, _remaining(limits, started, "image")))
        chunk = response.read1(CHUNK_BYTES)
        if not chunk:
            break
        data += chunk
        if len(data) > limits.max_bytes:
            raise too_large
        _check_rate(len(data), limits, started, "image")
    if not data:
        raise DownloadError("The image link served an empty file.", permanent=True)
    if _is_xml(bytes(data[:16])):
        raise _refusal(status, bytes(data[:4096]), "image")
    if not looks_like_image(bytes(data[:16])):
        raise DownloadError("The image link did not serve an image file.", permanent=True)
    if length is not None and len(data) != length:
        raise DownloadError(f"The download broke off after {len(data)} of {length} bytes.", permanent=False)
    return bytes(data)


def _remaining(limits: DownloadLimits, started: float, noun: str = "video") -> float:
    left = limits.deadline - (time.monotonic() - started)
    if left <= 0:
        raise DownloadError(f"The download did not finish within {limits.deadline:g} s{_AGAIN.get(noun, '')}.", permanent=False)
    return left


def _connect(hop: Hop, limits: DownloadLimits, started: float, ca_certs: str, noun: str = "video") -> HTTPConnection:
    last: Exception | None = None
    for address in hop.addresses:
        conn = _connection_for(hop, address, timeout=min(limits.connect_timeout, _remaining(limits, started, noun)), ca_certs=ca_certs)
        try:
            conn.connect()
            return conn
        except (urllib3.exceptions.HTTPError, OSError, CertificateError) as exc:
            conn.close()
            last = exc
    if isinstance(last, (ssl.SSLCertVerificationError, CertificateError)):
        raise DownloadError(f"The {noun} server's certificate for {hop.host} could not be verified: refused.", permanent=False)
    name = type(last).__name__ if last else "no address"
    raise DownloadError(f"The {noun} could not be reached ({name}).", permanent=False)


def _connection_for(hop: Hop, address: str, *, timeout: float, ca_certs: str) -> HTTPConnection:
    """A connection to the checked `address`; TLS still verifies the certificate against the link's host name."""
    if hop.scheme == "https":
        return HTTPSConnection(
            address,
            hop.port,
            timeout=timeout,
            server_hostname=hop.host,
            assert_hostname=hop.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs,
        )
    return HTTPConnection(address, hop.port, timeout=timeout)


def _request(
    conn: HTTPConnection, hop: Hop, limits: DownloadLimits, started: float, noun: str = "video"
) -> tuple[urllib3.BaseHTTPResponse, socket.socket]:
    conn.timeout = min(limits.read_timeout, _remaining(limits, started, noun))
    # No cookies, no key, no compression (a compressed body would not be the video's bytes).
    headers = {"Host": hop.host_header, "Accept-Encoding": "identity", "Accept": "*/*", "Connection": "close"}
    conn.request("GET", hop.target, headers=headers, preload_content=False, decode_content=False)
    sock = conn.sock  # http.client lets go of it once a "close" answer arrives; the body is read through it still
    return conn.getresponse(), sock


def _receive(
    response: urllib3.BaseHTTPResponse,
    sock: socket.socket,
    target: Path,
    partial_dir: Path,
    limits: DownloadLimits,
    started: float,
) -> Path:
    status = response.status
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if status >= 400 or "xml" in content_type:
        raise _refusal(status, _error_head(response))
    if not 200 <= status < 300:
        raise DownloadError(f"The video link answered {status}.", permanent=True)
    if not content_type.startswith(ACCEPTED_TYPES):
        raise DownloadError(f"The video link served {content_type or 'an unknown type'}, not a video.", permanent=True)
    length_header = response.headers.get("Content-Length", "")
    length = int(length_header) if length_header.isdigit() else None
    if length is not None and length > limits.max_bytes:
        raise DownloadError(f"The video is larger than {limits.max_bytes // 2**20} MB.", permanent=True)
    _check_space(partial_dir, length, limits)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=partial_dir, prefix="download-", suffix=".mp4")
    except OSError as exc:
        raise _disk_error(exc) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_body(response, sock, out, length, limits, started)
        os.replace(tmp, target)
    except OSError as exc:
        if isinstance(exc, (TimeoutError, ConnectionError)):
            raise
        raise _disk_error(exc) from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _error_head(response: urllib3.BaseHTTPResponse) -> bytes:
    """The start of an error body, for its words; an error page cut short still reads as the refusal it is."""
    try:
        return response.read1(4096)
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError):
        return b""


def _refusal(status: int, head: bytes, noun: str = "video") -> DownloadError:
    """What a refused link answered, in words; a refusal that a fresh link could cure says so."""
    detail = ""
    xml = _is_xml(head)
    if xml:
        found = [m.group(1).decode("utf-8", "replace").strip() for m in (_XML_FIELD[n].search(head) for n in (b"Code", b"Message")) if m]
        detail = f" ({': '.join(found)})" if found else ""
    if status in (404, 410):
        return DownloadError(
            f"The {noun} link answered {status}{detail}: the file is gone, or the link expired.", permanent=True, link_refused=True
        )
    if status == 403 or xml:
        return DownloadError(
            f"The {noun} link answered {status}{detail}: the link was refused, or it expired.", permanent=True, link_refused=True
        )
    if status < 400:
        return DownloadError(f"The {noun} link served XML, not a {noun} ({status}).", permanent=True)
    transient = status >= 500 or status in (408, 429)
    return DownloadError(f"The {noun} link answered {status}.", permanent=not transient)


def _is_xml(head: bytes) -> bool:
    """An XML document where a video should be: the shape of an S3-style refusal (expired, bad signature)."""
    return head.lstrip()[:5] in (b"<?xml", b"<Erro")


def _check_space(partial_dir: Path, length: int | None, limits: DownloadLimits) -> None:
    try:
        partial_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(partial_dir).free
    except OSError as exc:
        raise _disk_error(exc) from None
    needed = (length or 0) + limits.disk_margin
    if free < needed:
        size = f"{length / 2**20:.1f} MB" if length is not None else "a video of unknown size"
        raise DownloadError(
            f"Not enough free disk space for the video: {size} plus a margin of {limits.disk_margin / 2**20:.0f} MB "
            f"is needed, and {free / 2**20:.1f} MB is free in the data folder.",
            permanent=False,
        )


def _disk_error(exc: OSError) -> DownloadError:
    return DownloadError(f"The video could not be written to the data folder ({exc.strerror or type(exc).__name__}).", permanent=False)


def _copy_body(
    response: urllib3.BaseHTTPResponse,
    sock: socket.socket,
    out,
    length: int | None,  # out: a binary file
    limits: DownloadLimits,
    started: float,
) -> None:
    written = 0
    head = b""  # the first bytes, held until there are enough to tell a video from an error page
    while True:
        # One read waits at most the read timeout, and never past the deadline.
        sock.settimeout(min(limits.read_timeout, _remaining(limits, started)))
        chunk = response.read1(CHUNK_BYTES)
        if not chunk:
            break
        if written == 0:
            head += chunk
            if len(head) < 12:
                continue
            chunk, head = head, b""
            if _is_xml(chunk):
                raise _refusal(response.status, chunk)
            if not looks_like_video(chunk):
                raise DownloadError("The video link did not serve a video file.", permanent=True)
        written += len(chunk)
        if written > limits.max_bytes:
            raise DownloadError(f"The video is larger than {limits.max_bytes // 2**20} MB.", permanent=True)
        out.write(chunk)
        _check_rate(written, limits, started)
    if head:
        raise DownloadError("The video link did not serve a video file.", permanent=True)
    if written == 0:
        raise DownloadError("The video link served an empty file.", permanent=True)
    if length is not None and written != length:
        raise DownloadError(f"The download broke off after {written} of {length} bytes.", permanent=False)
    out.flush()
    os.fsync(out.fileno())  # the row will say the video is here: its bytes must be on disk first


def _check_rate(written: int, limits: DownloadLimits, started: float, noun: str = "video") -> None:
    elapsed = time.monotonic() - started
    if elapsed > limits.grace and written / elapsed < limits.min_rate:
        raise DownloadError(
            f"The {noun} arrived too slowly ({written / elapsed / 1024:.1f} KB/s, below {limits.min_rate / 1024:.0f} KB/s)"
            f"{_AGAIN.get(noun, '')}.",
            permanent=False,
        )


def _network_error(exc: Exception, limits: DownloadLimits, started: float, noun: str = "video") -> DownloadError:
    if time.monotonic() - started >= limits.deadline:
        return DownloadError(f"The download did not finish within {limits.deadline:g} s{_AGAIN.get(noun, '')}.", permanent=False)
    return DownloadError(f"The download broke off ({type(exc).__name__}).", permanent=False)


def remove_stale_partials(partial_dir: Path, *, older_than: float, now: float | None = None) -> int:
    """Delete downloads in progress that no running download can own any more; return how many went."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(partial_dir))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < now - older_than:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue  # another process's sweep took it first
    return removed
