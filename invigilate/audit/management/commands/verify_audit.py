from django.core.management.base import BaseCommand, CommandError

from invigilate.audit.models import AuditChain, AuditEvent
from invigilate.audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "Walk the hash-chained audit log and name the first broken link of each chain."

    def add_arguments(self, parser):
        parser.add_argument("--exam", type=int, help="verify only this exam's chain")

    def handle(self, *args, exam=None, **options):
        broken = audit_chain_verify(chain=exam)
        if broken:
            for link in broken:
                self.stderr.write(
                    f"chain {link.chain}: broken at position {link.position}: {link.reason}"
                )
            raise CommandError(f"{len(broken)} audit chain(s) broken")
        chains = AuditChain.objects.count() if exam is None else 1
        events = AuditEvent.objects.count() if exam is None else AuditEvent.objects.filter(chain=exam).count()
        self.stdout.write(f"audit chain intact: {chains} chain(s), {events} event(s)")
