import pytest
from channels.layers import get_channel_layer


@pytest.mark.redis
def test_it_reads_from_redis_longer_than_its_blocking_pop_waits():
    # redis-py 8 defaults to a 5 s read timeout, channels-redis blocks 5 s in BZPOPMIN: with
    # both at 5 s every idle websocket died with TimeoutError after ~5 s (seen through nginx).
    from channels_redis.utils import create_pool

    layer = get_channel_layer()
    pool = create_pool(layer.hosts[0])
    assert pool.connection_kwargs["socket_timeout"] > layer.brpop_timeout
