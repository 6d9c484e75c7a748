"""The bucket store against an S3-compatible server on loopback (moto's server mode)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from seedance_jupyter.errors import ValidationError
from seedance_jupyter.media.refs import from_bytes
from seedance_jupyter.media.stores import S3Store

from ..conftest import S3Bucket
from .conftest import LIMITS, png, wav


def store(bucket: S3Bucket, ttl: float = 3600.0, name: str | None = None) -> S3Store:
    return S3Store(f"s3://{name or bucket.name}/notebooks/ada", bucket.endpoint, ttl)


def test_media_is_uploaded_once_under_its_content_hash(s3_bucket: S3Bucket) -> None:
    media = from_bytes("frame.png", png(1), LIMITS)
    bucket_store = store(s3_bucket)
    bucket_store.publish(media)
    bucket_store.publish(media)
    assert s3_bucket.keys() == [f"notebooks/ada/{media.sha256}.png"]
    assert len(s3_bucket.puts) == 1


@pytest.mark.parametrize(("data", "content_type"), [(png(2), "image/png"), (wav(), "audio/wav")])
def test_the_object_carries_its_exact_content_type(
    s3_bucket: S3Bucket, data: bytes, content_type: str
) -> None:
    media = from_bytes("ref", data, LIMITS)
    store(s3_bucket).publish(media)
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=f"notebooks/ada/{media.key}")
    assert head["ContentType"] == content_type


def test_the_presigned_url_reads_the_bytes_with_a_plain_get(s3_bucket: S3Bucket) -> None:
    media = from_bytes("frame.png", png(3), LIMITS)
    url = store(s3_bucket).publish(media)
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    assert response.content == media.data


def test_the_presigned_url_lives_for_the_ttl_asked(s3_bucket: S3Bucket) -> None:
    media = from_bytes("frame.png", png(4), LIMITS)
    url = store(s3_bucket, ttl=7 * 24 * 3600).publish(media)
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == [str(7 * 24 * 3600)]


def test_a_bucket_that_refuses_is_one_line_naming_the_reference(s3_bucket: S3Bucket) -> None:
    media = from_bytes("frame.png", png(5), LIMITS)
    with pytest.raises(ValidationError) as caught:
        store(s3_bucket, name="no-such-bucket").publish(media)
    text = str(caught.value)
    assert "\n" not in text and text.startswith("media: 'frame.png' is not allowed;")
    assert "s3://no-such-bucket/notebooks/ada/" in text
