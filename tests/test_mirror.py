"""Tests for the mirror layout (URL -> file) and the loopback server that serves it."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
from calendar import timegm
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from scrapers.mirror import MirrorServer, content_type_for, mirror_path, url_for_path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
MANIFEST = yaml.safe_load((SAMPLES / "manifest.yml").read_text("utf-8"))
HOST = "www.a.gov.cn"
# 2024-07-15 09:30:00 UTC, and the same instant as an HTTP date (written by hand).
MTIME = timegm((2024, 7, 15, 9, 30, 0))
MTIME_HTTP = "Mon, 15 Jul 2024 09:30:00 GMT"


# --- the mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "relative"),
    [
        ("http://www.a.gov.cn/col/index.html", "www.a.gov.cn/col/index.html"),
        ("http://www.a.gov.cn/col/", "www.a.gov.cn/col/index.html"),
        ("http://www.a.gov.cn", "www.a.gov.cn/index.html"),
        ("http://www.a.gov.cn/", "www.a.gov.cn/index.html"),
        ("https://WWW.A.gov.cn:443/col/a.html", "www.a.gov.cn/col/a.html"),
        ("http://www.a.gov.cn:80/col/a.html", "www.a.gov.cn/col/a.html"),
        ("http://www.a.gov.cn:8080/col/a.html", "www.a.gov.cn:8080/col/a.html"),
        ("http://www.a.gov.cn/col/a.html#top", "www.a.gov.cn/col/a.html"),
        ("http://www.a.gov.cn/%E9%99%84%E4%BB%B6/a.doc", "www.a.gov.cn/附件/a.doc"),
        # The example of the layout decision: parameters sorted, then percent-encoded.
        (
            "http://www.a.gov.cn/module/web/jpage/dataproxy.jsp?page=2&columnid=1",
            "www.a.gov.cn/module/web/jpage/dataproxy.jsp__columnid%3D1%26page%3D2",
        ),
        ("http://www.a.gov.cn/col/?page=2", "www.a.gov.cn/col/index.html__page%3D2"),
        # "/" inside a value is encoded before the whole query is: %2F, then %252F.
        (
            "http://www.a.gov.cn/d.jsp?path=/&b=1",
            "www.a.gov.cn/d.jsp__b%3D1%26path%3D%252F",
        ),
    ],
)
def test_mirror_path_maps_urls_to_files(tmp_path: Path, url: str, relative: str) -> None:
    assert mirror_path(tmp_path, url) == tmp_path / relative


def test_mirror_path_merges_a_post_form_into_the_query(tmp_path: Path) -> None:
    url = "http://www.a.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15"
    form = {"col": "1", "appid": "1", "webid": "35", "columnid": "31897"}
    expected = (
        "dataproxy.jsp__appid%3D1%26col%3D1%26columnid%3D31897"
        "%26endrecord%3D45%26perpage%3D15%26startrecord%3D1%26webid%3D35"
    )
    assert mirror_path(tmp_path, url, form) == tmp_path / HOST / "module/web/jpage" / expected


def test_mirror_path_same_parameters_in_any_order_same_file(tmp_path: Path) -> None:
    one = mirror_path(tmp_path, "http://h.cn/d.jsp?b=2&a=1&c=%E8%B7%AF")
    other = mirror_path(tmp_path, "http://h.cn/d.jsp?c=路&a=1", {"b": "2"})
    assert one == other


@pytest.mark.parametrize(
    "url",
    [
        "http://www.a.gov.cn/../secret.txt",
        "http://www.a.gov.cn/col/../../secret.txt",
        "http://www.a.gov.cn/%2e%2e/secret.txt",
        "http://www.a.gov.cn/col/..%2F..%2Fsecret.txt",
        "file:///etc/passwd",
        "ftp://www.a.gov.cn/a.txt",
        "http:///no-host.html",
    ],
)
def test_mirror_path_refuses_escapes_and_other_schemes(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError):
        mirror_path(tmp_path, url)


def test_url_for_path_inverts_the_mapping(tmp_path: Path) -> None:
    dataproxy = tmp_path / HOST / "module/web/jpage/dataproxy.jsp__columnid%3D1%26page%3D2"
    assert (
        url_for_path(tmp_path, dataproxy)
        == "http://www.a.gov.cn/module/web/jpage/dataproxy.jsp?columnid=1&page=2"
    )
    article = tmp_path / HOST / "附件" / "my__notes.html"  # "__" without a query after it
    assert url_for_path(tmp_path, article) == (
        "http://www.a.gov.cn/%E9%99%84%E4%BB%B6/my__notes.html"
    )
    for path in (dataproxy, article, mirror_path(tmp_path, "http://h.cn/d.jsp?p=/&q=路 径")):
        assert mirror_path(tmp_path, url_for_path(tmp_path, path)) == path


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("index.html", "text/html"),
        ("a.shtml", "text/html"),
        ("b.jhtml", "text/html"),
        ("c.jsp", "text/html"),
        ("dataproxy.jsp__page%3D2", "text/xml"),
        ("feed.xml", "text/xml"),
        (
            "P020241212386512345678.docx",
            ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ),
        ("a.PDF", "application/pdf"),
        ("b.xls", "application/vnd.ms-excel"),
        ("downfile.jsp__classid%3D0%26filename%3Dabc.pdf%26showname%3D1.pdf", "application/pdf"),
        ("blob.bin", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
    ],
)
def test_content_type_by_extension(name: str, content_type: str) -> None:
    assert content_type_for(Path(name)) == content_type


# --- the server ---------------------------------------------------------------------------


def write(path: Path, data: bytes | str, mtime: int = MTIME) -> Path:
    """Write a mirror file with a fixed modification time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    """A small mirror under tmp_path/mirror, with a secret file just outside it."""
    root = tmp_path / "mirror"
    write(tmp_path / "secret.txt", "SECRET")
    write(root / HOST / "col/index.html", "<html>listing</html>")
    write(root / HOST / "col/art.html", "<html>article</html>")
    write(root / HOST / "module/web/jpage/dataproxy.jsp__columnid%3D7%26page%3D2", "<datastore/>")
    return root


@pytest.fixture()
def server(mirror: Path):
    with MirrorServer(mirror) as running:
        yield running


def get(server: MirrorServer, path: str, **kwargs) -> requests.Response:
    """GET a mirror path without following redirects."""
    return requests.get(server.base_url + path, allow_redirects=False, timeout=5, **kwargs)


def raw_get(server: MirrorServer, path: str) -> tuple[int, bytes]:
    """GET a path sent exactly as written (requests would normalise dot segments)."""
    parts = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_base_url_is_loopback_with_a_free_port(server: MirrorServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
    assert not server.base_url.endswith(":0")


def test_serves_a_file_with_etag_and_last_modified(server: MirrorServer) -> None:
    response = get(server, f"/{HOST}/col/art.html")
    assert response.status_code == 200
    assert response.content == b"<html>article</html>"
    assert response.headers["Content-Type"] == "text/html"
    expected_etag = '"' + hashlib.sha256(b"<html>article</html>").hexdigest() + '"'
    assert response.headers["ETag"] == expected_etag
    assert response.headers["Last-Modified"] == MTIME_HTTP
    assert response.headers["Content-Length"] == "20"


def test_trailing_slash_serves_index_html(server: MirrorServer) -> None:
    assert get(server, f"/{HOST}/col/").content == b"<html>listing</html>"


def test_folder_without_slash_redirects_in_real_url_space(server: MirrorServer) -> None:
    response = get(server, f"/{HOST}/col?x=1")
    assert response.status_code == 301
    assert response.headers["Location"] == f"http://{HOST}/col/?x=1"


def test_query_selects_the_sorted_sibling_file(server: MirrorServer) -> None:
    response = get(server, f"/{HOST}/module/web/jpage/dataproxy.jsp?page=2&columnid=7")
    assert response.status_code == 200
    assert response.content == b"<datastore/>"
    assert response.headers["Content-Type"] == "text/xml"


def test_post_form_is_merged_into_the_query(server: MirrorServer) -> None:
    response = requests.post(
        f"{server.base_url}/{HOST}/module/web/jpage/dataproxy.jsp?page=2",
        data={"columnid": "7"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.content == b"<datastore/>"
    assert server.requests[-1][0] == "POST"


def test_head_sends_headers_only(server: MirrorServer) -> None:
    response = requests.head(f"{server.base_url}/{HOST}/col/art.html", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "20"
    assert response.content == b""


def test_if_none_match_and_if_modified_since_answer_304(server: MirrorServer) -> None:
    etag = get(server, f"/{HOST}/col/art.html").headers["ETag"]
    matching = get(server, f"/{HOST}/col/art.html", headers={"If-None-Match": etag})
    assert matching.status_code == 304
    assert matching.content == b""
    assert matching.headers["ETag"] == etag
    other = get(server, f"/{HOST}/col/art.html", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200
    same_date = get(server, f"/{HOST}/col/art.html", headers={"If-Modified-Since": MTIME_HTTP})
    assert same_date.status_code == 304
    earlier = "Mon, 15 Jul 2024 09:29:59 GMT"
    older = get(server, f"/{HOST}/col/art.html", headers={"If-Modified-Since": earlier})
    assert older.status_code == 200
    assert older.content == b"<html>article</html>"


def test_missing_file_and_missing_robots_are_404(server: MirrorServer, mirror: Path) -> None:
    assert get(server, f"/{HOST}/col/nothing.html").status_code == 404
    assert get(server, f"/{HOST}/robots.txt").status_code == 404
    write(mirror / HOST / "robots.txt", "User-agent: *\nDisallow: /private/\n")
    robots = get(server, f"/{HOST}/robots.txt")
    assert robots.status_code == 200
    assert robots.text == "User-agent: *\nDisallow: /private/\n"
    assert robots.headers["Content-Type"] == "text/plain"


def test_headers_json_overrides_status_and_headers(server: MirrorServer, mirror: Path) -> None:
    folder = mirror / HOST / "col"
    write(folder / "art.html.headers.json", json.dumps({"status": 404}))
    assert get(server, f"/{HOST}/col/art.html").status_code == 404
    write(folder / "gbk.html", "市民服务热线".encode("gbk"))
    override = {"headers": {"Content-Type": "text/html; charset=GBK", "ETag": None}}
    write(folder / "gbk.html.headers.json", json.dumps(override))
    response = get(server, f"/{HOST}/col/gbk.html")
    assert response.headers["Content-Type"] == "text/html; charset=GBK"
    assert "ETag" not in response.headers
    assert response.content == "市民服务热线".encode("gbk")
    # A redirect needs no file of its own.
    redirect = {"status": 302, "headers": {"Location": "/col/index.html"}}
    write(folder / "moved.html.headers.json", json.dumps(redirect))
    moved = get(server, f"/{HOST}/col/moved.html")
    assert moved.status_code == 302
    assert moved.headers["Location"] == "/col/index.html"
    # The override files themselves are not content.
    assert get(server, f"/{HOST}/col/moved.html.headers.json").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/{HOST}/../../secret.txt",
        f"/{HOST}/col/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "/../secret.txt",
        f"/{HOST}/..%2F..%2Fsecret.txt",
    ],
)
def test_dot_dot_cannot_leave_the_mirror(server: MirrorServer, path: str) -> None:
    status, body = raw_get(server, path)
    assert status == 400
    assert b"SECRET" not in body


def test_symlink_out_of_the_mirror_is_refused(server: MirrorServer, mirror: Path) -> None:
    (mirror / HOST / "col" / "link.txt").symlink_to(mirror.parent / "secret.txt")
    status, body = raw_get(server, f"/{HOST}/col/link.txt")
    assert status == 400
    assert b"SECRET" not in body


def test_requests_are_logged_with_method_path_and_headers(server: MirrorServer) -> None:
    get(server, f"/{HOST}/col/art.html", headers={"If-None-Match": '"x"'})
    requests.head(f"{server.base_url}/{HOST}/col/", timeout=5)
    assert [(method, path) for method, path, _ in server.requests] == [
        ("GET", f"/{HOST}/col/art.html"),
        ("HEAD", f"/{HOST}/col/"),
    ]
    assert server.requests[0][2]["If-None-Match"] == '"x"'


def test_server_is_quiet(mirror: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with MirrorServer(mirror) as quiet:
        get(quiet, f"/{HOST}/col/art.html")
        get(quiet, f"/{HOST}/col/nothing.html")
        raw_get(quiet, "/../secret.txt")
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_port_is_released_on_exit(mirror: Path) -> None:
    with MirrorServer(mirror) as first:
        base_url = first.base_url
    port = int(base_url.rsplit(":", 1)[1])
    with MirrorServer(mirror, port=port) as second:
        assert second.base_url == base_url
        assert get(second, f"/{HOST}/col/art.html").status_code == 200


def test_missing_mirror_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), MirrorServer(tmp_path / "absent"):
        pass


# --- the bundled sample sites -------------------------------------------------------------


def sample_pages() -> list[dict]:
    """Every document and listing page of samples/manifest.yml."""
    return MANIFEST["documents"] + MANIFEST["listings"]


@pytest.fixture(scope="module")
def samples_server():
    with MirrorServer(SAMPLES / "sites") as running:
        yield running


def test_serves_the_hengdong_article_byte_for_byte(samples_server: MirrorServer) -> None:
    url = "http://www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/20201015/i2175342.html"
    response = get(samples_server, "/" + url.removeprefix("http://"))
    assert response.status_code == 200
    expected = SAMPLES / "sites/www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/20201015/i2175342.html"
    assert response.content == expected.read_bytes()
    assert response.headers["Content-Type"] == "text/html"


@pytest.mark.parametrize("page", sample_pages(), ids=lambda page: page["url"])
def test_serves_every_sample_page_at_its_manifest_url(
    samples_server: MirrorServer, page: dict
) -> None:
    assert mirror_path(SAMPLES / "sites", page["url"]) == SAMPLES / page["path"]
    response = get(samples_server, "/" + page["url"].split("://", 1)[1])
    assert response.status_code == 200
    assert response.content == (SAMPLES / page["path"]).read_bytes()


def test_unrelated_listing_items_answer_404(samples_server: MirrorServer) -> None:
    skipped = [
        item["url"]
        for listing in MANIFEST["listings"]
        for item in listing["items"]
        if not item["bulletin"]
    ]
    assert skipped
    for url in skipped:
        assert get(samples_server, "/" + url.split("://", 1)[1]).status_code == 404


def test_command_line_serves_a_directory() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapers.mirror", str(SAMPLES / "sites"), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        url = f"{match.group(0)}/www.yunxi.gov.cn/27310/27316/27345/index.html"
        response = requests.get(url, timeout=5)
        assert response.status_code == 200
        expected = SAMPLES / "sites/www.yunxi.gov.cn/27310/27316/27345/index.html"
        assert response.content == expected.read_bytes()
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_a_long_query_is_named_by_its_hash(tmp_path: Path) -> None:
    url = (
        "http://12345.yichun.gov.cn/module/web/jpage/dataproxy.jsp?page=2&webname="
        + "宜春市人民政府" * 10
    )
    path = mirror_path(tmp_path, url)
    assert len(path.name.encode()) < 255
    assert path.name.startswith("dataproxy.jsp__sha256-")
    assert mirror_path(tmp_path, url) == path  # the same URL, the same file
