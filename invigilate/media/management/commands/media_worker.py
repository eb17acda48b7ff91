import asyncio
import logging
import os
import signal
import tracemalloc

from django.core.management.base import BaseCommand

from invigilate.media.detectors import detector_pipeline_for_worker
from invigilate.media.ice import ice_loopback_restrict
from invigilate.media.worker import MediaWorkerRuntime

logger = logging.getLogger(__name__)


async def allocations_report(every_minutes: float) -> None:
    """Log what Python allocated since a first snapshot, by line (finding a slow growth).
    The first snapshot is taken after one period, when the candidates have connected."""
    tracemalloc.start(1)
    await asyncio.sleep(every_minutes * 60)
    first = tracemalloc.take_snapshot()
    while True:
        await asyncio.sleep(every_minutes * 60)
        snapshot = tracemalloc.take_snapshot()
        current, _ = tracemalloc.get_traced_memory()
        lines = [f"traced {current / 2**20:.1f} MB; growth since start by line:"]
        for stat in snapshot.compare_to(first, "lineno")[:15]:
            lines.append(f"  {stat.size_diff / 1024:+.0f} KiB {stat.count_diff:+d} blocks")
            lines.extend(f"      {line}" for line in stat.traceback.format()[-1:])
        logger.warning("\n".join(lines))


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
        report = None
        if os.environ.get("MEDIA_TRACEMALLOC_MINUTES"):  # diagnosis only: tracing slows the worker
            report = asyncio.ensure_future(allocations_report(float(os.environ["MEDIA_TRACEMALLOC_MINUTES"])))
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await stopping.wait()
        if report is not None:
            report.cancel()
        await runtime.stop()
