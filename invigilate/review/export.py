"""One candidate's review file: the timeline (JSON and CSV), every evidence file with its
SHA-256, the decisions, and whether the exam's audit chain verifies.

Written to a temporary file (spooled to disk past a few MiB), never held whole in memory.
"""

import csv
import hashlib
import io
import json
import tempfile
import zipfile

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from invigilate.audit.services import audit_chain_verify, audit_record

from .files import evidence_file_resolve
from .providers import client_playlists, server_playlists, thumbnails_kept
from .selectors import decisions_for_registration
from .timeline import timeline_for_registration

CSV_FIELDS = ["at", "ends_at", "kind", "source", "severity", "title", "detail", "actor", "ref", "evidence"]


def _links_of(registration, entries):
    seen = set()
    groups = [link for entry in entries for link in entry.evidence]
    groups += [link for links in client_playlists(registration=registration).values() for link in links]
    groups += [link for links in server_playlists(registration=registration).values() for link in links]
    groups += thumbnails_kept(registration=registration)
    for link in groups:
        if (link.category, link.key) not in seen:
            seen.add((link.category, link.key))
            yield link


def candidate_export_write(*, user, registration) -> tempfile.SpooledTemporaryFile:
    """Build the zip; the caller has checked that ``user`` may review ``registration``.

    The export itself is audited (who took a copy of whose evidence, and its manifest hash).
    """
    entries = timeline_for_registration(registration=registration)
    target = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    manifest = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("timeline.json", json.dumps([entry.as_dict() for entry in entries], ensure_ascii=False,
                                                     indent=1))
        rows = io.StringIO()
        writer = csv.DictWriter(rows, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for entry in entries:
            row = entry.as_dict()
            row["evidence"] = " ".join(f"{link['category']}/{link['key']}" for link in row["evidence"])
            writer.writerow({field: row[field] for field in CSV_FIELDS})
        archive.writestr("timeline.csv", "\ufeff" + rows.getvalue())  # BOM: Excel reads it as UTF-8
        for link in _links_of(registration, entries):
            stored = evidence_file_resolve(registration=registration, category=link.category, key=link.key)
            if stored is None:
                manifest.append({"category": link.category, "key": link.key, "missing": True})
                continue
            digest = hashlib.sha256()
            name = f"evidence/{link.category}/{stored.download_name}"
            with default_storage.open(stored.storage_name, "rb") as source, archive.open(name, "w") as sink:
                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                    digest.update(chunk)
                    sink.write(chunk)
            computed = digest.hexdigest()
            manifest.append({
                "path": name, "category": link.category, "key": link.key, "sha256": computed,
                "recorded_sha256": stored.sha256 or None,
                "matches_recorded": (computed == stored.sha256) if stored.sha256 else None,
            })
        broken = audit_chain_verify(chain=registration.exam_id)
        verification = {
            "exam": registration.exam_id, "verified_at": timezone.now().isoformat(), "intact": not broken,
            "broken": [{"position": link.position, "reason": link.reason} for link in broken],
        }
        archive.writestr("audit-chain-verification.json", json.dumps(verification, indent=1))
        decisions = decisions_for_registration(registration=registration).history
        archive.writestr("decisions.json", json.dumps([
            {"id": decision.pk, "alert": decision.alert_id, "outcome": decision.outcome, "rule": decision.rule,
             "reason": decision.reason, "status": decision.status, "decided_by": decision.decided_by.get_username(),
             "decided_at": decision.decided_at.isoformat(),
             "second_by": decision.second_by.get_username() if decision.second_by else None,
             "second_note": decision.second_note} for decision in decisions
        ], ensure_ascii=False, indent=1))
        manifest_bytes = json.dumps({
            "registration": registration.pk, "ticket": registration.ticket_number,
            "exam": registration.exam_id, "files": manifest,
        }, ensure_ascii=False, indent=1).encode()
        archive.writestr("manifest.json", manifest_bytes)
        lines = "".join(f"{item['sha256']}  {item['path']}\n" for item in manifest if "sha256" in item)
        archive.writestr("SHA256SUMS", lines)
    with transaction.atomic():
        audit_record(
            event_type="review.exported", actor=user, subject=registration, exam_id=registration.exam_id,
            registration_id=registration.pk,
            data={"files": len(manifest), "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
                  "chain_intact": not broken},
        )
    target.seek(0)
    return target
