from django.core.management.base import BaseCommand

from invigilate.exams.demo import demo_seed


class Command(BaseCommand):
    help = "Create (or refresh) the demo exam, its mock, rooms, candidates and staff; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--starts-in", type=int, default=5, help="minutes until the formal exam starts")

    def handle(self, *args, starts_in, **options):
        from datetime import timedelta

        logins = demo_seed(starts_in=timedelta(minutes=starts_in))
        self.stdout.write("Demo logins (staff: username / password; candidates: ID number / ticket):")
        for login in logins:
            self.stdout.write(f"  {login.who:<32} {login.username:<20} {login.secret}")
