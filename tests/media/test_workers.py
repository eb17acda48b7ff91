"""Which worker takes a candidate, and what happens when one dies."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from invigilate.audit.models import AuditEvent
from invigilate.media import services
from invigilate.media.models import MediaPeer, MediaWorker, RecordingGap

pytestmark = pytest.mark.django_db


def make_worker(name: str, load: float) -> MediaWorker:
    worker = services.media_worker_register(name=name, channel_name=f"specific.{name}!x", host="box", pid=1)
    services.media_worker_heartbeat(worker_id=worker.pk, load=load, peer_count=0)
    return worker


def test_it_gives_a_new_candidate_to_the_least_loaded_worker_with_headroom(world):
    make_worker("busy", 0.95)
    calm = make_worker("calm", 0.30)
    make_worker("middle", 0.50)
    peer, replaced = services.media_peer_assign(registration=world.candidate, source="pc")
    assert peer.worker == calm and replaced == []
    again, replaced = services.media_peer_assign(registration=world.candidate, source="pc")
    assert [p.pk for p in replaced] == [peer.pk]
    assert MediaPeer.objects.get(pk=peer.pk).end_reason == "replaced"


def test_it_refuses_when_no_worker_is_alive(world):
    with pytest.raises(services.NoMediaWorker):
        services.media_peer_assign(registration=world.candidate, source="pc")


def test_it_notices_a_dead_worker_ends_its_peers_and_records_the_gap(world):
    worker = make_worker("only", 0.1)
    peer, _ = services.media_peer_assign(registration=world.candidate, source="pc")
    assert services.media_peer_mark_live(peer_id=peer.pk)
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert services.media_worker_sweep() == [(world.candidate.pk, "pc")]
        assert services.media_worker_sweep() == []  # idempotent
    assert MediaWorker.objects.get(pk=worker.pk).status == MediaWorker.Status.DEAD
    assert not services.media_worker_heartbeat(worker_id=worker.pk, load=0.1, peer_count=1)
    gap = RecordingGap.objects.get(registration=world.candidate)
    assert gap.reason == "worker_lost" and gap.ended_at is None
    # The page reconnects to another worker: the gap closes.
    make_worker("spare", 0.1)
    new_peer, _ = services.media_peer_assign(registration=world.candidate, source="pc")
    services.media_peer_mark_live(peer_id=new_peer.pk)
    gap.refresh_from_db()
    assert gap.ended_at is not None
    assert AuditEvent.objects.filter(event_type__in=["media.gap_opened", "media.gap_closed", "media.worker_lost"]).count() == 3


def test_a_workers_load_counts_its_detector_pools_cpu():
    """The heartbeat's load is the worker's CPU and its detector pool's, each since the last
    reading; a pool process that has exited does not make it negative."""
    import multiprocessing
    import time
    from concurrent.futures import ProcessPoolExecutor

    from invigilate.media.worker import CpuMeter

    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    meter = CpuMeter(pool=lambda: list(pool._processes or {}))
    assert meter.used() == 0.0  # the starting point
    with pool:
        pool.submit(sum, range(20_000_000)).result()  # started and busy before the meter finds it
        assert meter.used() < 0.5  # from now on: its start and that job are not this reading's
        started = time.process_time()
        while time.process_time() - started < 0.05:  # a little of the worker's own
            pass
        child_busy = time.monotonic()
        pool.submit(sum, range(20_000_000)).result()
        busy_wall = time.monotonic() - child_busy
        used = meter.used()
    # Without the pool counted it would read ~0.05 s; the child was busy most of busy_wall.
    assert busy_wall > 0.2 and used >= 0.05 + 0.5 * busy_wall, (used, busy_wall)
    assert 0.0 <= meter.used() < 0.5  # the pool has exited: nothing more, nothing negative


def test_a_workers_load_counts_its_detector_pool_and_not_the_other_children_of_its_process():
    """Embedded, the worker lives in the web (or test) process, whose other children (a browser
    in tests) are not the worker's: the meter reads the pool's processes from the pipeline."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from invigilate.media.detectors import DetectorPipeline
    from invigilate.media.worker import CpuMeter

    pipeline = DetectorPipeline(processes=1)
    pipeline.start(runtime=None)
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as other:
            other.submit(sum, range(10)).result()
            pipeline.pool.submit(sum, range(10)).result()
            assert len(pipeline.process_ids()) == 1
            assert not set(pipeline.process_ids()) & set(other._processes)
            meter = CpuMeter(pool=pipeline.process_ids)
            meter.used()
            other.submit(sum, range(30_000_000)).result()  # the other child busy: not the worker's
            assert meter.used() < 0.15
            pipeline.pool.submit(sum, range(30_000_000)).result()  # the pool busy: the worker's
            assert meter.used() > 0.3
    finally:
        pipeline.stop()
    assert pipeline.process_ids() == []


def test_operators_see_the_workers_load_and_live_connections_read_only(world, client):
    from django.urls import reverse

    busy = make_worker("busy-box", 0.87)
    make_worker("calm-box", 0.12)
    peer, _ = services.media_peer_assign(registration=world.candidate, source="pc")
    assert peer.worker.name == "calm-box"
    services.media_peer_mark_live(peer_id=peer.pk)

    client.force_login(world.admin)
    page = client.get(reverse("admin:media_mediaworker_changelist")).content.decode()
    rows = {name: page[page.index(name):][:1500] for name in ("busy-box", "calm-box")}
    assert "87%" in rows["busy-box"] and "12%" in rows["calm-box"]
    assert '<td class="field-live_peers">1</td>' in rows["calm-box"]
    assert '<td class="field-live_peers">0</td>' in rows["busy-box"]
    assert client.get(reverse("admin:media_mediaworker_add")).status_code == 403
    assert client.post(reverse("admin:media_mediaworker_delete", args=[busy.pk]), {"post": "yes"}).status_code == 403
    assert MediaWorker.objects.filter(pk=busy.pk).exists()
    chinese = client.get(reverse("admin:media_mediaworker_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "负载（占一个 CPU 核心）" in chinese.content.decode() and "在线连接" in chinese.content.decode()

    client.force_login(world.invigilator)  # not an operator
    assert client.get(reverse("admin:media_mediaworker_changelist")).status_code == 302
