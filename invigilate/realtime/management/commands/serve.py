import os

from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management.base import BaseCommand

from invigilate.scheduler import EmbeddedScheduler


class Command(BaseCommand):
    help = "Serve pages and websockets with daphne; in the embedded default also run the sweeps."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, host, port, **options):
        if settings.EMBEDDED_SCHEDULER:
            EmbeddedScheduler().start()
        self.stdout.write(f"Serving on http://{host}:{port}/")
        arguments = ["-b", host, "-p", str(port)]
        if settings.PRODUCTION:
            arguments.append("--proxy-headers")
        CommandLineInterface().run([*arguments, "invigilate.asgi:application"])
