from django.conf import settings
from django.urls import reverse

from tests.personas import PASSWORD


def test_the_review_page_and_its_timeline_read_in_chinese(world, reviewed, client):
    client.login(username="reviewer", password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(reverse("review:candidate", args=[world.candidate.pk])).content.decode()
    assert "时间线" in page and "记录结论" in page and "违规成立" in page
    assert "监考员备注" in page  # a provider's kind label
    assert "服务器录像" in page  # a provider's entry title
