"""The aws CLI against the gateway: `aws s3 cp` up and down, `aws s3 ls`."""

import os
import shutil
import subprocess

import pytest

from support import ACCESS_KEY, REGION, SECRET_KEY, MiB, cid_header, pattern

pytestmark = pytest.mark.skipif(shutil.which("aws") is None, reason="aws CLI not installed (pip install awscli)")


def aws(gateway, *args, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
        AWS_MAX_ATTEMPTS="1",
    )
    out = subprocess.run(["aws", "--endpoint-url", gateway.endpoint, *args], capture_output=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout.decode()


def test_aws_s3_cp_up_and_down(gateway, s3, bucket, tmp_path, cid):
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello from the aws cli\n")
    big = tmp_path / "big.bin"
    big_data = pattern(9 * MiB + 5, seed=55)  # over the CLI's 8 MiB multipart threshold
    big.write_bytes(big_data)

    aws(gateway, "s3", "cp", str(small), f"s3://{bucket}/cli/small.txt", tmp_path=tmp_path)
    aws(gateway, "s3", "cp", str(big), f"s3://{bucket}/cli/big.bin", tmp_path=tmp_path)

    listing = aws(gateway, "s3", "ls", f"s3://{bucket}/cli/", tmp_path=tmp_path)
    assert "small.txt" in listing and "big.bin" in listing
    assert str(len(big_data)) in listing

    down = tmp_path / "down"
    down.mkdir()
    aws(gateway, "s3", "cp", f"s3://{bucket}/cli/small.txt", str(down / "small.txt"), tmp_path=tmp_path)
    aws(gateway, "s3", "cp", f"s3://{bucket}/cli/big.bin", str(down / "big.bin"), tmp_path=tmp_path)
    assert (down / "small.txt").read_bytes() == small.read_bytes()
    assert (down / "big.bin").read_bytes() == big_data

    head = s3.head_object(Bucket=bucket, Key="cli/big.bin")
    assert head["ETag"].endswith('-2"'), head["ETag"]
    assert cid_header(head) == cid(big_data)
    assert head.get("ContentType") == "application/octet-stream" or head.get("ContentType") is None

    # Recursive copy down of the prefix.
    tree = tmp_path / "tree"
    aws(gateway, "s3", "cp", "--recursive", f"s3://{bucket}/cli/", str(tree), tmp_path=tmp_path)
    assert sorted(p.name for p in tree.iterdir()) == ["big.bin", "small.txt"]
