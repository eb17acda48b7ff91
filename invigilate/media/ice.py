"""ICE configuration: STUN/TURN servers, short-lived TURN credentials, loopback-only mode.

TURN credentials follow the TURN REST scheme that coturn's ``use-auth-secret`` checks: the
username is ``<expiry unix time>:<registration id>`` and the password is
``base64(HMAC-SHA1(shared secret, username))``, so the TURN server needs no database and a
leaked credential dies on its own.
"""

import base64
import hashlib
import hmac
import ipaddress
import time

from django.conf import settings

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def turn_credentials(*, registration_id: int, now: float | None = None) -> dict[str, str]:
    expires = int((now if now is not None else time.time()) + settings.MEDIA_TURN_TTL_SECONDS)
    username = f"{expires}:{registration_id}"
    digest = hmac.new(settings.MEDIA_TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def ice_servers_for_browser(*, registration_id: int | None) -> list[dict]:
    """The ``iceServers`` a page passes to ``new RTCPeerConnection``."""
    if settings.MEDIA_ICE_LOOPBACK_ONLY:
        return []
    servers: list[dict] = []
    if settings.MEDIA_STUN_URLS:
        servers.append({"urls": list(settings.MEDIA_STUN_URLS)})
    if settings.MEDIA_TURN_URLS and settings.MEDIA_TURN_SECRET:
        # Staff viewers get credentials too, keyed to their registration-less id 0.
        servers.append({"urls": list(settings.MEDIA_TURN_URLS), **turn_credentials(registration_id=registration_id or 0)})
    return servers


def ice_servers_for_worker():
    """aiortc's RTCConfiguration for the media worker's side."""
    from aiortc import RTCConfiguration, RTCIceServer

    if settings.MEDIA_ICE_LOOPBACK_ONLY:
        return RTCConfiguration(iceServers=[])
    return RTCConfiguration(iceServers=[RTCIceServer(urls=url) for url in settings.MEDIA_STUN_URLS])


def is_loopback_candidate(host: str) -> bool:
    try:
        return ipaddress.ip_address(host) in LOOPBACK
    except ValueError:  # an mDNS name or garbage: never resolve it in loopback mode
        return False


_restricted = False


def ice_loopback_restrict() -> None:
    """In loopback-only mode (tests), gather only 127.0.0.1 and ignore any other remote address.

    aiortc skips loopback addresses when gathering, and would send checks to whatever
    candidates the browser offers; with this on, no packet leaves 127.0.0.0/8.
    """
    global _restricted
    if _restricted or not settings.MEDIA_ICE_LOOPBACK_ONLY:
        return
    import aioice.ice

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"] if use_ipv4 else []

    original_add = aioice.ice.Connection.add_remote_candidate

    async def add_remote_candidate(self, remote_candidate):
        if remote_candidate is not None and not is_loopback_candidate(remote_candidate.host):
            return
        await original_add(self, remote_candidate)

    # Peer-reflexive candidates (checks arriving from another address of this machine, as
    # Chromium sends from every interface) need no filter: our only sockets are bound to
    # 127.0.0.1, which can reach nothing but this machine.
    aioice.ice.get_host_addresses = host_addresses
    aioice.ice.Connection.add_remote_candidate = add_remote_candidate
    _restricted = True
