"""HTTP-level behaviour clients rely on: keep-alive after an early error
reply, and a client without retries not tripping over it."""

import http.client
import time

import pytest

from support import sign


def early_error_then_reuse(port, path, body, expect_continue):
    """Sends a PUT the gateway refuses before reading its body, then a second
    request on the same connection. Returns (first status, first headers,
    second outcome)."""
    headers = {"content-length": str(len(body))}
    if expect_continue:
        headers["expect"] = "100-continue"
    signed = sign("PUT", f"http://127.0.0.1:{port}{path}", headers, body)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
        for k, v in signed.items():
            conn.putheader(k, v)
        conn.endheaders()
        if not expect_continue:
            conn.send(body)
        # With Expect: 100-continue a client waits; a final status instead of
        # 100 means "don't send the body" (what botocore does).
        first = conn.getresponse()
        first.read()
        first_headers = {k.lower(): v for k, v in first.getheaders()}
        time.sleep(0.2)
        head = sign("GET", f"http://127.0.0.1:{port}/")
        try:
            conn.putrequest("GET", "/", skip_host=True, skip_accept_encoding=True)
            for k, v in head.items():
                conn.putheader(k, v)
            conn.endheaders()
            second = conn.getresponse()
            second.read()
            outcome = second.status
        except (http.client.HTTPException, OSError) as e:
            outcome = e
        return first.status, first_headers, outcome
    finally:
        conn.close()


@pytest.mark.parametrize("expect_continue", [True, False], ids=["expect-100", "body-sent"])
def test_connection_closed_only_when_announced(gateway, expect_continue):
    """After refusing a PUT without reading its body, the gateway may close
    the connection, but then it must say `Connection: close`; otherwise a
    pooling client (boto3, retries off) sends its next request into a dead
    socket and fails with ConnectionClosedError."""
    status, headers, outcome = early_error_then_reuse(
        gateway.s3_port, "/no-such-bucket-xyz/key", b"x" * 100_000, expect_continue
    )
    assert status == 404
    announced = headers.get("connection", "").lower() == "close"
    assert announced or outcome == 200, (
        f"connection dropped without 'Connection: close' (next request: {outcome!r}); headers {headers}"
    )


def test_boto3_without_retries_survives_refused_puts(gateway, bucket):
    """The user-visible face of the test above: a refused PUT followed by any
    request on the same client, 100 times (the drop races the next request)."""
    from support import s3_error

    s3 = gateway.client()
    s3.put_object(Bucket=bucket, Key="once", Body=b"first")
    failures = []
    for i in range(100):
        code, status, _ = s3_error(s3.put_object, Bucket=bucket, Key="once", Body=b"x" * 2000, IfNoneMatch="*")
        assert (code, status) == ("PreconditionFailed", 412)
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception as e:  # noqa: BLE001
            failures.append(f"{i}: {e!r}")
    assert not failures, f"{len(failures)}/100 requests after a refused PUT failed: {failures[:3]}"
