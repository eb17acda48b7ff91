"""The review timeline: one ordered list of everything known about a candidate's exam.

Every app contributes through a *provider*: a function that takes a registration and returns
``TimelineEntry`` objects built from that app's own models and selectors. The review pages,
the export and the suspicion ranking read only ``timeline_for_registration``; they never know
which app an entry came from beyond its ``source``.

Register a provider from your app (import the module in your ``AppConfig.ready``)::

    from invigilate.review.timeline import EvidenceLink, TimelineEntry, timeline_provider

    @timeline_provider(source="supervision", kinds={"audit_note": _("Supervisor's audit notes")})
    def audit_notes(*, registration):
        for note in AuditNote.objects.filter(room=registration.room_id):
            yield TimelineEntry(at=note.created_at, kind="audit_note", source="supervision",
                                title=_("Audit note"), detail=note.text, severity=note.severity,
                                actor=note.author.get_full_name(), ref=f"audit_note:{note.pk}")

This module imports no models, so any app may import it without a cycle.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Severities, lowest first; the ranking and the page's colours use this order.
INFO, LOW, MEDIUM, HIGH = "info", "low", "medium", "high"
SEVERITIES = (INFO, LOW, MEDIUM, HIGH)

# Media types of an evidence link: how the review page shows it.
VIDEO, AUDIO, IMAGE, FILE = "video", "audio", "image", "file"


@dataclass(frozen=True)
class EvidenceLink:
    """A stored file behind an entry, served only through ``review:file``.

    ``category`` and ``key`` name the file to ``review.files`` (which checks that it belongs
    to the registration); ``url`` is never a public storage URL.
    """

    category: str
    key: str
    label: str
    media: str = FILE
    sha256: str = ""
    # For recordings: when the file's first frame was taken, so a player can seek to a time.
    starts_at: datetime | None = None
    duration_seconds: float | None = None


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    source: str  # the contributing app's label
    title: Any  # a (lazy) translated string
    detail: str = ""
    severity: str = INFO
    actor: str = ""
    # A stable id ("alert:12") for anchors, jumps and per-alert decisions.
    ref: str = ""
    ends_at: datetime | None = None
    evidence: tuple[EvidenceLink, ...] = ()
    # Only for entries that a reviewer can decide on by themselves (alerts).
    alert_id: int | None = None

    @property
    def at_ms(self) -> int:
        """Milliseconds since the epoch: what the page's players seek by."""
        return int(self.at.timestamp() * 1000)

    @property
    def anchor(self) -> str:
        return "entry-" + (self.ref or f"{self.kind}-{int(self.at.timestamp() * 1000)}").replace(":", "-")

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "kind": self.kind,
            "source": self.source,
            "title": str(self.title),
            "detail": self.detail,
            "severity": self.severity,
            "actor": self.actor,
            "ref": self.ref,
            "evidence": [
                {"category": link.category, "key": link.key, "label": str(link.label), "media": link.media,
                 "sha256": link.sha256}
                for link in self.evidence
            ],
        }


Provider = Callable[..., Iterable[TimelineEntry]]


@dataclass
class _Registered:
    source: str
    function: Provider
    kinds: dict[str, Any] = field(default_factory=dict)


_providers: dict[str, _Registered] = {}
_kind_labels: dict[str, Any] = {}


def timeline_provider_register(*, source: str, function: Provider, kinds: dict[str, Any]) -> None:
    """Add a provider. ``kinds`` maps each entry kind it yields to a (lazy) label for filters.

    Registering the same function name of the same source again replaces it (module reloads).
    """
    _providers[f"{source}.{function.__name__}"] = _Registered(source, function, dict(kinds))
    _kind_labels.update(kinds)


def timeline_provider(*, source: str, kinds: dict[str, Any]):
    def decorator(function: Provider) -> Provider:
        timeline_provider_register(source=source, function=function, kinds=kinds)
        return function

    return decorator


def timeline_kinds() -> dict[str, Any]:
    """Every kind any provider yields, with its label (for the filter)."""
    return dict(_kind_labels)


def timeline_for_registration(*, registration, kinds: Iterable[str] | None = None) -> list[TimelineEntry]:
    """Every provider's entries for this registration, oldest first.

    The caller must already have checked that the asking user may review the registration:
    providers read without scoping.
    """
    wanted = set(kinds) if kinds else None
    entries: list[TimelineEntry] = []
    for registered in _providers.values():
        if wanted is not None and not wanted.intersection(registered.kinds):
            continue
        for entry in registered.function(registration=registration):
            if wanted is None or entry.kind in wanted:
                entries.append(entry)
    entries.sort(key=lambda entry: (entry.at, SEVERITIES.index(entry.severity) if entry.severity in SEVERITIES else 0))
    return entries
