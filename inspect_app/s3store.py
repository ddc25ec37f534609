"""The evidence store in an S3-compatible bucket (MinIO, Ceph RGW, a cloud's object storage).

Selected by EVIDENCE_STORE = "s3" (docs/deploy.md, "The evidence store"). It implements
storage.FileStore: keys are content-addressed, so an object never changes once written; put is
create-if-absent (a HEAD, then a PUT with If-None-Match: * so two hosts racing on the same photo
cannot both think they created it); local_path downloads the object once into a private cache
folder on this host, from which it is sent, and checks an original's SHA-256 against its key.
Every failure of the bucket (unreachable, refused, full) reaches the caller as an OSError, which
storage.put turns into "nothing was recorded" (507).

Needs boto3 (`pip install -e '.[s3]'`); imported only when this store is configured.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .paths import private_dir

_MISSING = {"404", "NoSuchKey", "NotFound"}
_EXISTS = {"412", "PreconditionFailed", "ConditionalRequestConflict"}


class S3Store:
    """A bucket, optionally under a key prefix, with a local cache of what was read."""

    def __init__(self, client: Any, bucket: str, *, prefix: str = "", cache_dir: Path):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.cache_dir = cache_dir

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> S3Store:
        """A store from EVIDENCE_S3_* settings. Keys left unset come from boto3's own chain
        (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, an instance role)."""
        timeout = float(config["EVIDENCE_S3_TIMEOUT"])
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.get("EVIDENCE_S3_ENDPOINT_URL") or None,
            region_name=config.get("EVIDENCE_S3_REGION") or None,
            aws_access_key_id=config.get("EVIDENCE_S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("EVIDENCE_S3_SECRET_ACCESS_KEY") or None,
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": int(config["EVIDENCE_S3_ATTEMPTS"]), "mode": "standard"},
                s3={"addressing_style": config.get("EVIDENCE_S3_ADDRESSING_STYLE") or "auto"},
                max_pool_connections=int(config["EVIDENCE_S3_POOL_SIZE"]),
            ),
        )
        return cls(
            client,
            config["EVIDENCE_S3_BUCKET"],
            prefix=config.get("EVIDENCE_S3_PREFIX") or "",
            cache_dir=Path(config["EVIDENCE_CACHE_DIR"]),
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _cached(self, key: str) -> Path:
        return self.cache_dir / key

    def put(self, key: str, data: bytes) -> bool:
        if self.exists(key):
            return False
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
            )
        except ClientError as exc:
            if _code(exc) in _EXISTS:
                return False  # another host wrote the same content a moment ago
            raise OSError(f"S3 refused to store {key}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise OSError(f"S3 could not be reached to store {key}: {exc}") from exc
        return True

    def put_file(self, key: str, path: Path) -> bool:
        """As put, streaming the file to the bucket (a recording may be hundreds of MB)."""
        if self.exists(key):
            return False
        try:
            with open(path, "rb") as body:
                self.client.put_object(
                    Bucket=self.bucket, Key=self._key(key), Body=body, IfNoneMatch="*"
                )
        except ClientError as exc:
            if _code(exc) in _EXISTS:
                return False
            raise OSError(f"S3 refused to store {key}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise OSError(f"S3 could not be reached to store {key}: {exc}") from exc
        return True

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise OSError(f"S3 refused to look up {key}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise OSError(f"S3 could not be reached to look up {key}: {exc}") from exc
        return True

    def local_path(self, key: str) -> Path:
        """The cached copy, downloaded on first use. Raises FileNotFoundError when the object is
        missing, or when an original's bytes do not hash to the name it is stored under."""
        path = self._cached(key)
        if path.is_file():
            return path
        private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".download-")  # mode 0600
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as fh:
                # In chunks: an audio or video original may be hundreds of MB.
                for chunk in self._body(key).iter_chunks(1024 * 1024):
                    digest.update(chunk)
                    fh.write(chunk)
            name = Path(key).name.split(".", 1)[0]
            if not key.startswith(("thumbs/", "public/")) and digest.hexdigest() != name:
                raise FileNotFoundError(f"{key}: the stored bytes do not match their hash")
            os.replace(tmp, path)
        except BaseException as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            if isinstance(exc, BotoCoreError):  # the connection dropped in the middle
                raise OSError(f"S3 stopped sending {key}: {exc}") from exc
            raise
        return path

    def _body(self, key: str) -> Any:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise FileNotFoundError(key) from exc
            raise OSError(f"S3 refused to send {key}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise OSError(f"S3 could not be reached to send {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise OSError(f"S3 could not delete {key}: {exc}") from exc
        finally:
            self._cached(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        try:
            for page in pages:
                for obj in page.get("Contents", ()):
                    yield obj["Key"][len(self.prefix) :], obj["LastModified"].timestamp()
        except (BotoCoreError, ClientError) as exc:
            raise OSError(f"S3 could not list the bucket: {exc}") from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
