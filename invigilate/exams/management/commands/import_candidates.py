from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from invigilate.exams.importing import candidates_import
from invigilate.exams.models import Exam


class Command(BaseCommand):
    help = "Import candidates of one exam from a CSV file and a zip of photos (all rows or none)."

    def add_arguments(self, parser):
        parser.add_argument("exam", type=int, help="the exam's id")
        parser.add_argument("csv", type=Path)
        parser.add_argument("photos", type=Path, help="zip file of the photos the CSV names")

    def handle(self, *args, exam, csv, photos, **options):
        try:
            exam_obj = Exam.objects.get(pk=exam)
        except Exam.DoesNotExist:
            raise CommandError(f"no exam with id {exam}") from None
        report = candidates_import(exam=exam_obj, csv_bytes=csv.read_bytes(), photos_zip=photos.read_bytes())
        if not report.ok:
            for error in report.errors:
                self.stderr.write(f"line {error.row}: {error.message}")
            raise CommandError(f"{len(report.errors)} problem(s); nothing was imported")
        self.stdout.write(
            f"imported into {exam_obj}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged"
        )
