"""moto's S3 in its own process on a loopback port: an S3-compatible bucket for media."""

import subprocess
import sys
import uuid

import boto3

from ..live_studio import free_port, reachable, wait_until

KEYS = {"S3_ACCESS_KEY_ID": "test-key-id", "S3_SECRET_ACCESS_KEY": "test-secret"}


class MotoS3:
    def __init__(self, workdir):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=open(workdir / "moto.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: reachable(self.endpoint), 30, "moto's S3 server")

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=KEYS["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=KEYS["S3_SECRET_ACCESS_KEY"],
        )

    def new_bucket(self):
        name = f"studio-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket):
        answer = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def env(self, bucket):
        """What a studio process reads to keep its media in bucket."""
        return {
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_ADDRESSING_STYLE": "path",
            **KEYS,
        }

    def storage(self, bucket):
        """The STORAGES["default"] that keeps this process's media in bucket."""
        return {
            "BACKEND": "lib.object_storage.MediaBucketStorage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": self.endpoint,
                "region_name": "us-east-1",
                "access_key": KEYS["S3_ACCESS_KEY_ID"],
                "secret_key": KEYS["S3_SECRET_ACCESS_KEY"],
                "addressing_style": "path",
                "signature_version": "s3v4",
                "querystring_expire": 600,
            },
        }

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
