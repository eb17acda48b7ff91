"""Real-time event types, declared once.

An event is ``{"type": "<dotted.name>", ...fields}``. Channels turns the dotted name into the
consumer's handler name (``alert.raised`` -> ``alert_raised``). Each type lists its fields;
``event_build`` rejects unknown or missing fields so that a typo cannot leak data to a page
or silently drop it.
"""

EVENT_FIELDS: dict[str, frozenset[str]] = {
    # Sent to a socket to close it (logout, lost assignment, session replaced).
    "session.revoked": frozenset({"reason"}),
    # To a room's walls: re-render one candidate's tile. Several apps change what a tile
    # shows (stage, presence, help, uploads); they all send it through tile_refresh_on_commit.
    "tile.refresh": frozenset({"registration_id"}),
}


class UnknownEvent(ValueError):
    pass


def event_type_register(name: str, fields: set[str] | frozenset[str]) -> None:
    """Declare an event type (call at import time of the app's ``events`` module)."""
    if name in EVENT_FIELDS and EVENT_FIELDS[name] != frozenset(fields):
        raise UnknownEvent(f"event {name} declared twice with different fields")
    EVENT_FIELDS[name] = frozenset(fields)


def event_build(name: str, **fields) -> dict:
    expected = EVENT_FIELDS.get(name)
    if expected is None:
        raise UnknownEvent(f"undeclared event type {name}")
    given = set(fields)
    if given != expected:
        raise UnknownEvent(
            f"event {name}: unknown fields {sorted(given - expected)}, missing {sorted(expected - given)}"
        )
    return {"type": name, **fields}
