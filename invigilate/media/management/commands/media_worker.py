import asyncio
import signal

from django.core.management.base import BaseCommand

from invigilate.media.detectors import detector_pipeline_for_worker
from invigilate.media.ice import ice_loopback_restrict
from invigilate.media.worker import MediaWorkerRuntime


class Command(BaseCommand):
    help = "Run one media worker (aiortc peers of candidates and viewers). Run one per core."

    def add_arguments(self, parser):
        parser.add_argument("--name", default=None, help="worker name (default: host-pid-random)")

    def handle(self, *args, name, **options):
        ice_loopback_restrict()
        asyncio.run(self._run(name))

    async def _run(self, name):
        runtime = await MediaWorkerRuntime(name=name, detectors=detector_pipeline_for_worker()).start()
        self.stdout.write(f"media worker {runtime.name} on {runtime.channel_name}")
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await stopping.wait()
        await runtime.stop()
