"""Virtual-host addressing (`--domain s3.localhost`): BUCKET.s3.localhost
names the bucket. Requests go to 127.0.0.1 with the Host header a client
would send, signed over that Host."""

import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from support import check_log, md5_hex, signed_request

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture(scope="module")
def vgw(cairn_bin, tmp_path_factory):
    from support import Gateway

    gw = Gateway(cairn_bin, tmp_path_factory.mktemp("vhost"), domains=["s3.localhost"])
    gw.start()
    s3 = gw.client()
    s3.create_bucket(Bucket="vbucket")
    s3.put_object(Bucket="vbucket", Key="dir/hello.txt", Body=b"hello via virtual host", ContentType="text/plain")
    yield gw
    gw.stop()
    check_log(gw)


def vhost_request(gw, method, path, host, body=b"", headers=None):
    return signed_request(gw.s3_port, method, path, body=body, headers=headers, host=host)


def test_path_style_still_works_with_a_domain(vgw):
    got = vgw.client().get_object(Bucket="vbucket", Key="dir/hello.txt")
    assert got["Body"].read() == b"hello via virtual host"


def test_virtual_host_get_with_port(vgw):
    """What any client sends on a non-default port: Host: BUCKET.DOMAIN:PORT."""
    resp = vhost_request(vgw, "GET", "/dir/hello.txt", host=f"vbucket.s3.localhost:{vgw.s3_port}")
    assert resp.status == 200, resp
    assert resp.body == b"hello via virtual host"
    assert resp.headers["etag"] == f'"{md5_hex(b"hello via virtual host")}"'
    assert resp.headers.get("x-cairn-cid")


def test_virtual_host_get_without_port(vgw):
    resp = vhost_request(vgw, "GET", "/dir/hello.txt", host="vbucket.s3.localhost")
    assert resp.status == 200, resp
    assert resp.body == b"hello via virtual host"


def test_virtual_host_put_and_list(vgw):
    host = f"vbucket.s3.localhost:{vgw.s3_port}"
    resp = vhost_request(vgw, "PUT", "/put%20via%20vhost", host=host, body=b"vhost put")
    assert resp.status == 200, resp
    assert vgw.client().get_object(Bucket="vbucket", Key="put via vhost")["Body"].read() == b"vhost put"
    resp = vhost_request(vgw, "GET", "/?list-type=2&prefix=dir%2F", host=host)
    assert resp.status == 200, resp
    root = ET.fromstring(resp.body)
    assert [k.text for k in root.iter(f"{NS}Key")] == ["dir/hello.txt"]
    assert root.findtext(f"{NS}Name") == "vbucket"


def test_virtual_host_unknown_bucket(vgw):
    resp = vhost_request(vgw, "GET", "/dir/hello.txt", host=f"nobucket.s3.localhost:{vgw.s3_port}")
    assert resp.status == 404, resp
    assert resp.error_code() == "NoSuchBucket"


def test_boto3_virtual_addressing(vgw):
    """boto3 with addressing_style=virtual against http://s3.localhost:PORT,
    with name resolution of *.s3.localhost pinned to 127.0.0.1."""
    import socket

    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if isinstance(host, str) and (host == "s3.localhost" or host.endswith(".s3.localhost")):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = resolve
    try:
        from support import make_client

        s3 = make_client(f"http://s3.localhost:{vgw.s3_port}", s3={"addressing_style": "virtual"})
        seen = []
        s3.meta.events.register("before-send.s3.*", lambda request, **kw: seen.append(request.url))
        got = s3.get_object(Bucket="vbucket", Key="dir/hello.txt")
        assert urllib.parse.urlsplit(seen[-1]).netloc == f"vbucket.s3.localhost:{vgw.s3_port}"
        assert got["Body"].read() == b"hello via virtual host"
    finally:
        socket.getaddrinfo = real
