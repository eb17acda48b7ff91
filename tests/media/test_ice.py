import base64
import hashlib
import hmac

from django.test import override_settings

from invigilate.media.ice import ice_servers_for_browser, is_loopback_candidate, turn_credentials


@override_settings(MEDIA_TURN_SECRET="s3cret", MEDIA_TURN_TTL_SECONDS=3600)
def test_it_mints_turn_rest_credentials_coturn_can_check():
    credentials = turn_credentials(registration_id=42, now=1_000_000)
    assert credentials["username"] == "1003600:42"
    expected = base64.b64encode(hmac.new(b"s3cret", b"1003600:42", hashlib.sha1).digest()).decode()
    assert credentials["credential"] == expected


@override_settings(MEDIA_ICE_LOOPBACK_ONLY=False, MEDIA_STUN_URLS=["stun:turn.example.org:3478"],
                   MEDIA_TURN_URLS=["turn:turn.example.org:3478"], MEDIA_TURN_SECRET="s3cret")
def test_it_gives_the_page_stun_and_per_candidate_turn():
    stun, turn = ice_servers_for_browser(registration_id=7)
    assert stun == {"urls": ["stun:turn.example.org:3478"]}
    assert turn["urls"] == ["turn:turn.example.org:3478"] and turn["username"].endswith(":7")


def test_it_keeps_tests_on_loopback():
    assert ice_servers_for_browser(registration_id=7) == []  # tests turn loopback-only mode on
    assert is_loopback_candidate("127.0.0.1") and is_loopback_candidate("127.4.5.6")
    assert not is_loopback_candidate("192.0.2.2") and not is_loopback_candidate("abcd.local")
    import aioice.ice

    assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1"]
