import os

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Serve resumable (tus) uploads with uvicorn, which hands request bodies to the application as "
        "they arrive (daphne buffers them whole), so the bytes of a PATCH cut mid-body are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("UPLOADS_PORT", "8100"))
        parser.add_argument(
            "--limit-concurrency", type=int, default=int(os.environ.get("UPLOADS_LIMIT_CONCURRENCY", "400")),
            help="connections served at once before new ones get 503; each upload may hold up to "
                 "EVIDENCE_SPOOL_MEMORY_BYTES (1 MiB) of body in memory",
        )

    def handle(self, *args, host, port, limit_concurrency, **options):
        self.stdout.write(f"Serving uploads on http://{host}:{port}/evidence/tus/")
        config = uvicorn.Config(
            "invigilate.asgi:application",
            host=host,
            port=int(port),
            # h11: pure Python, no C parser to build; the body reaches the application chunk by chunk.
            http="h11",
            # Websockets stay on the daphne web processes; the router has no lifespan handler.
            ws="none",
            lifespan="off",
            # As daphne --proxy-headers: the client address from X-Forwarded-For and the scheme from
            # X-Forwarded-Proto (the tus Location header must say https), from whoever connects. nginx
            # overwrites both, and this port must be reachable from nginx only.
            proxy_headers=settings.PRODUCTION,
            forwarded_allow_ips="*",
            limit_concurrency=limit_concurrency,
            # Longer than nginx's upstream keepalive (60 s), so nginx never reuses a connection we closed.
            timeout_keep_alive=75,
            # A stop lets PATCHes in flight finish their current commit; systemd waits 20 s.
            timeout_graceful_shutdown=15,
            server_header=False,
            # Django's LOGGING (settings) configures the loggers; uvicorn's own config would replace it.
            log_config=None,
            access_log=False,
        )
        uvicorn.Server(config).run()
