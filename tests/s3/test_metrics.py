"""The Prometheus endpoint on --metrics-addr, and that the S3 port does not
serve it."""

import re

from support import http_get, s3_error, signed_request


def sample(text, name, **labels):
    """The value of one sample, 0 if absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def scrape(gateway):
    status, headers, body = http_get(gateway.metrics_url)
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    return body.decode()


def test_request_counters_by_operation(gateway, s3, bucket):
    before = scrape(gateway)
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"m{i}", Body=b"x" * 100)
    for _ in range(2):
        s3.get_object(Bucket=bucket, Key="m0")["Body"].read()
    s3.list_objects_v2(Bucket=bucket)
    s3.head_object(Bucket=bucket, Key="m1")
    s3_error(s3.get_object, Bucket=bucket, Key="missing")
    after = scrape(gateway)

    assert "# TYPE cairn_gateway_requests_total counter" in after

    def delta(op, status):
        return sample(after, "cairn_gateway_requests_total", op=op, status=status) - sample(
            before, "cairn_gateway_requests_total", op=op, status=status
        )

    assert delta("PutObject", "200") == 3
    assert delta("GetObject", "200") == 2
    assert delta("ListObjectsV2", "200") == 1
    assert delta("HeadObject", "200") == 1
    assert delta("GetObject", "404") == 1
    errs = sample(after, "cairn_gateway_errors_total", op="GetObject", code="NoSuchKey") - sample(
        before, "cairn_gateway_errors_total", op="GetObject", code="NoSuchKey"
    )
    assert errs == 1
    bytes_in = sample(after, "cairn_gateway_received_bytes_total", op="PutObject") - sample(
        before, "cairn_gateway_received_bytes_total", op="PutObject"
    )
    assert bytes_in >= 300
    assert "cairn_gateway_request_duration_seconds_bucket" in after


def test_auth_failures_are_counted(gateway, bucket):
    before = scrape(gateway)
    resp = signed_request(gateway.s3_port, "GET", f"/{bucket}/x", secret_key="wrong")
    assert resp.status == 403
    after = scrape(gateway)
    got = sample(after, "cairn_gateway_errors_total", op="GetObject", code="SignatureDoesNotMatch") - sample(
        before, "cairn_gateway_errors_total", op="GetObject", code="SignatureDoesNotMatch"
    )
    assert got == 1


def test_s3_port_does_not_serve_metrics(gateway, s3):
    status, headers, body = http_get(f"{gateway.endpoint}/metrics")
    assert b"cairn_gateway_requests_total" not in body
    assert status == 403, (status, body[:300])
    assert b"<Error>" in body and b"AccessDenied" in body
    # Signed, /metrics is just a bucket named "metrics" that does not exist.
    resp = signed_request(gateway.s3_port, "GET", "/metrics")
    assert resp.status == 404 and resp.error_code() == "NoSuchBucket", resp
    assert b"cairn_gateway_requests_total" not in resp.body


def test_metrics_port_serves_only_metrics(gateway):
    status, _, body = http_get(f"http://127.0.0.1:{gateway.metrics_port}/")
    assert status == 404
    assert b"cairn_gateway" not in body
