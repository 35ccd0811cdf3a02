"""ListObjects v1 and v2: prefix, delimiter, max-keys, markers,
continuation tokens, url encoding, and pagination over thousands of keys."""

import concurrent.futures as cf
import hashlib
import urllib.parse

import pytest

KEYS = [
    "a.txt",
    "b.txt",
    "dir/one",
    "dir/sub/deep/x",
    "dir/sub/three",
    "dir/two",
    "dir2/file",
    "other/x",
    "z",
]


@pytest.fixture(scope="module")
def tree(s3):
    name = "listing-tree"
    s3.create_bucket(Bucket=name)
    for k in KEYS:
        s3.put_object(Bucket=name, Key=k, Body=k.encode())
    return name


def keys_of(resp):
    return [o["Key"] for o in resp.get("Contents", [])]


def prefixes_of(resp):
    return [p["Prefix"] for p in resp.get("CommonPrefixes", [])]


def test_v2_lists_everything_in_order_with_sizes(s3, tree):
    resp = s3.list_objects_v2(Bucket=tree)
    assert keys_of(resp) == KEYS
    assert resp["KeyCount"] == len(KEYS)
    assert resp["IsTruncated"] is False
    assert "NextContinuationToken" not in resp
    for o in resp["Contents"]:
        assert o["Size"] == len(o["Key"])
        assert o["ETag"] == f'"{hashlib.md5(o["Key"].encode()).hexdigest()}"'
        assert o["LastModified"].year >= 2024


def test_v2_prefix(s3, tree):
    assert keys_of(s3.list_objects_v2(Bucket=tree, Prefix="dir/")) == [
        "dir/one",
        "dir/sub/deep/x",
        "dir/sub/three",
        "dir/two",
    ]
    assert keys_of(s3.list_objects_v2(Bucket=tree, Prefix="dir")) == [
        "dir/one",
        "dir/sub/deep/x",
        "dir/sub/three",
        "dir/two",
        "dir2/file",
    ]
    assert keys_of(s3.list_objects_v2(Bucket=tree, Prefix="nothing")) == []
    assert s3.list_objects_v2(Bucket=tree, Prefix="nothing")["KeyCount"] == 0


def test_v2_delimiter(s3, tree):
    resp = s3.list_objects_v2(Bucket=tree, Delimiter="/")
    assert keys_of(resp) == ["a.txt", "b.txt", "z"]
    assert prefixes_of(resp) == ["dir/", "dir2/", "other/"]
    assert resp["KeyCount"] == 6
    resp = s3.list_objects_v2(Bucket=tree, Delimiter="/", Prefix="dir/")
    assert keys_of(resp) == ["dir/one", "dir/two"]
    assert prefixes_of(resp) == ["dir/sub/"]
    assert resp["Prefix"] == "dir/" and resp["Delimiter"] == "/"
    # A delimiter other than '/'.
    resp = s3.list_objects_v2(Bucket=tree, Delimiter=".")
    assert prefixes_of(resp) == ["a.", "b."]
    assert "a.txt" not in keys_of(resp)


def test_v2_max_keys_and_continuation(s3, tree):
    first = s3.list_objects_v2(Bucket=tree, MaxKeys=4)
    assert keys_of(first) == KEYS[:4]
    assert first["IsTruncated"] is True and first["KeyCount"] == 4 and first["MaxKeys"] == 4
    token = first["NextContinuationToken"]
    second = s3.list_objects_v2(Bucket=tree, MaxKeys=4, ContinuationToken=token)
    assert keys_of(second) == KEYS[4:8]
    assert second["ContinuationToken"] == token
    third = s3.list_objects_v2(Bucket=tree, MaxKeys=4, ContinuationToken=second["NextContinuationToken"])
    assert keys_of(third) == KEYS[8:]
    assert third["IsTruncated"] is False
    assert "NextContinuationToken" not in third


def test_v2_max_keys_zero(s3, tree):
    resp = s3.list_objects_v2(Bucket=tree, MaxKeys=0)
    assert keys_of(resp) == [] and resp["KeyCount"] == 0


def test_v2_bad_continuation_token(s3, tree):
    from support import s3_error

    code, status, _ = s3_error(s3.list_objects_v2, Bucket=tree, ContinuationToken="!!!not a token!!!")
    assert status == 400, (code, status)


def test_v2_start_after(s3, tree):
    resp = s3.list_objects_v2(Bucket=tree, StartAfter="dir/sub")
    assert keys_of(resp) == KEYS[3:]
    assert resp["StartAfter"] == "dir/sub"
    resp = s3.list_objects_v2(Bucket=tree, StartAfter="dir/two")
    assert keys_of(resp) == ["dir2/file", "other/x", "z"]
    assert keys_of(s3.list_objects_v2(Bucket=tree, StartAfter="zz")) == []


def test_v1_prefix_delimiter_marker(s3, tree):
    resp = s3.list_objects(Bucket=tree, Prefix="dir/", Delimiter="/")
    assert keys_of(resp) == ["dir/one", "dir/two"]
    assert prefixes_of(resp) == ["dir/sub/"]
    resp = s3.list_objects(Bucket=tree, Marker="dir/two")
    assert keys_of(resp) == ["dir2/file", "other/x", "z"]
    assert resp["Marker"] == "dir/two"


def test_v1_max_keys_and_next_marker(s3, tree):
    seen = []
    marker = ""
    for _ in range(10):
        resp = s3.list_objects(Bucket=tree, MaxKeys=2, Marker=marker)
        seen += keys_of(resp)
        if not resp["IsTruncated"]:
            break
        # NextMarker is optional without a delimiter; clients fall back to the last key.
        marker = resp.get("NextMarker") or keys_of(resp)[-1]
        assert marker == keys_of(resp)[-1]
    assert seen == KEYS


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_delimiter_pagination_rolls_up_each_prefix_once(s3, tree, api):
    """With MaxKeys=1 and a delimiter, each common prefix is one entry, and
    paging on from it must skip every key under it."""
    entries = []
    paginator = s3.get_paginator("list_objects" if api == "v1" else "list_objects_v2")
    for page in paginator.paginate(Bucket=tree, Delimiter="/", PaginationConfig={"PageSize": 1}):
        entries += keys_of(page) + prefixes_of(page)
    assert entries == ["a.txt", "b.txt", "dir/", "dir2/", "other/", "z"]


ODD_KEYS = ["plain", "with space", "plus+sign", "per%cent", "ünïcødé/ключ", "new\nline", "amp&er=sand", "tab\there"]


@pytest.fixture(scope="module")
def odd(s3):
    name = "listing-odd"
    s3.create_bucket(Bucket=name)
    for k in ODD_KEYS:
        s3.put_object(Bucket=name, Key=k, Body=b"x")
    return name


def test_boto3_decodes_url_encoded_listing(s3, odd):
    """boto3 asks for encoding-type=url itself and decodes: keys come back exact."""
    want = sorted(ODD_KEYS, key=lambda k: k.encode())
    assert keys_of(s3.list_objects_v2(Bucket=odd)) == want
    assert keys_of(s3.list_objects(Bucket=odd)) == want
    assert keys_of(s3.list_objects_v2(Bucket=odd, Prefix="with ")) == ["with space"]
    resp = s3.list_objects_v2(Bucket=odd, Prefix="ünïcødé/", Delimiter="/")
    assert keys_of(resp) == ["ünïcødé/ключ"]
    resp = s3.list_objects_v2(Bucket=odd, Delimiter="/")
    assert prefixes_of(resp) == ["ünïcødé/"]
    resp = s3.list_objects_v2(Bucket=odd, StartAfter="plus+sign")
    assert keys_of(resp) == ["tab\there", "with space", "ünïcødé/ключ"]


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_explicit_encoding_type_url(s3, odd, api):
    """Asked explicitly, boto3 leaves the values encoded: check the wire form."""
    call = s3.list_objects if api == "v1" else s3.list_objects_v2
    resp = call(Bucket=odd, EncodingType="url")
    assert resp["EncodingType"] == "url"
    raw = keys_of(resp)
    for k in raw:
        assert all(c not in k for c in " +\n\t&") or "%" in k, k
        assert not any(ord(c) > 127 for c in k), f"non-ASCII left unencoded: {k!r}"
    decoded = [urllib.parse.unquote(k) for k in raw]
    assert decoded == sorted(ODD_KEYS, key=lambda k: k.encode())
    assert "plus%2Bsign" in raw
    assert "per%25cent" in raw
    assert any(k in ("with%20space", "with+space") for k in raw)
    resp = call(Bucket=odd, EncodingType="url", Prefix="with ")
    assert resp["Prefix"] in ("with%20", "with+")
    assert keys_of(resp) in (["with%20space"], ["with+space"])
    resp = call(Bucket=odd, EncodingType="url", Prefix="w", Delimiter=" ")
    assert resp["Delimiter"] in ("%20", "+")
    assert prefixes_of(resp) in (["with%20"], ["with+"])


@pytest.fixture(scope="module")
def many(s3):
    """2500 keys of assorted shapes."""
    name = "listing-many"
    s3.create_bucket(Bucket=name)
    keys = []
    for i in range(2500):
        h = hashlib.md5(str(i).encode()).hexdigest()
        shape = i % 5
        if shape == 0:
            keys.append(f"{h[:6]}")
        elif shape == 1:
            keys.append(f"d/{h[:4]}/{i}")
        elif shape == 2:
            keys.append(f"k-{i:05d}")
        elif shape == 3:
            keys.append(f"{h[:2]}/{h[2:8]} {i}")
        else:
            keys.append(f"ü/{h[:3]}+{i}")
    assert len(set(keys)) == 2500

    def put(k):
        s3.put_object(Bucket=name, Key=k, Body=b"")

    with cf.ThreadPoolExecutor(8) as pool:
        list(pool.map(put, keys))
    return name, sorted(keys, key=lambda k: k.encode())


@pytest.mark.parametrize("page_size", [None, 333])
@pytest.mark.parametrize("api", ["list_objects", "list_objects_v2"])
def test_paginators_see_every_key_once_in_order(s3, many, api, page_size):
    name, want = many
    config = {"PageSize": page_size} if page_size else {}
    got = []
    pages = 0
    for page in s3.get_paginator(api).paginate(Bucket=name, PaginationConfig=config):
        pages += 1
        got += keys_of(page)
        assert len(keys_of(page)) <= (page_size or 1000)
    assert len(got) == len(want)
    assert got == want
    assert pages == -(-2500 // (page_size or 1000))


def test_pagination_with_prefix_and_delimiter(s3, many):
    name, want = many
    under_d = [k for k in want if k.startswith("d/")]
    got = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=name, Prefix="d/", PaginationConfig={"PageSize": 77}
    ):
        got += keys_of(page)
    assert got == under_d
    top = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 50}
    ):
        top += keys_of(page) + prefixes_of(page)
    expect = {k.split("/", 1)[0] + "/" if "/" in k else k for k in want}
    assert len(top) == len(set(top)), "an entry was listed twice"
    assert set(top) == expect
