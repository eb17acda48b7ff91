"""tuspy as an independent client: upload a file, optionally stop after N bytes and wait to
be killed; a second process resumes from the URL the first stored.

    python tuspy_upload.py ENDPOINT COOKIE FILE URL_STORE CHUNK [PAUSE_AFTER] [--retry] [--no-checksum]
"""

import hashlib
import sys
import time
import uuid

from tusclient import client
from tusclient.storage.filestorage import FileStorage

endpoint, cookie, path, store_path, chunk = sys.argv[1:6]
pause_after = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[6] != "-" else None
retry = "--retry" in sys.argv
checksum = "--no-checksum" not in sys.argv
data = open(path, "rb").read()
tus = client.TusClient(endpoint, headers={"Cookie": cookie})
uploader = tus.uploader(
    path, chunk_size=int(chunk), store_url=True, url_storage=FileStorage(store_path), upload_checksum=checksum,
    metadata={"kind": "pc_screen", "recording": str(uuid.UUID(int=7)), "seq": "0", "filetype": "video/webm",
              "sha256": hashlib.sha256(data).hexdigest()},
)
if not uploader.url:
    uploader.set_url(uploader.create_url())
print("START", uploader.offset, flush=True)
failures = 0
while uploader.offset < len(data):
    try:
        uploader.upload_chunk()
    except Exception as error:  # the fault test's proxy cuts connections: ask where we are, go on
        if not retry or failures > 200:
            raise
        failures += 1
        print("RETRY", type(error).__name__, flush=True)
        time.sleep(0.05)
        uploader.offset = uploader.get_offset()
        print("RESUME", uploader.offset, flush=True)
        continue
    print("OFFSET", uploader.offset, flush=True)
    if pause_after is not None and uploader.offset >= pause_after:
        print("PAUSED", flush=True)
        time.sleep(600)  # the test kills this process here
print("DONE", uploader.url, failures, flush=True)
