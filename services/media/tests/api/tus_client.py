"""Uploads a file with tuspy (the tus project's Python client) and prints the upload's URL.

usage: tus_client.py ENDPOINT TOKEN FILE CHUNK_SIZE METADATA_JSON [--checksum] [--url URL]
"""
import json
import sys

from tusclient import client

endpoint, token, path, chunk_size, metadata = sys.argv[1:6]
flags = sys.argv[6:]
url = flags[flags.index("--url") + 1] if "--url" in flags else None
tus = client.TusClient(endpoint, headers={"Authorization": "Bearer " + token})
uploader = tus.uploader(
    path,
    chunk_size=int(chunk_size),
    metadata=json.loads(metadata),
    upload_checksum="--checksum" in flags,
    url=url,
)
uploader.upload()
print(uploader.url)
