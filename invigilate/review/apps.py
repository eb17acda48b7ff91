from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "invigilate.review"
    label = "review"
