import re

import pytest
from playwright.sync_api import expect

from tests.personas import PASSWORD

pytestmark = pytest.mark.e2e


def test_a_member_of_staff_signs_in_through_the_real_page(live_world, new_page):
    page = new_page()
    page.goto("/staff/login/")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_contain_text("Roaming supervisor")


def test_a_candidate_signs_in_with_id_number_and_ticket(live_world, new_page):
    page = new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile("/candidate/login/"))
    page.fill("input[name=id_number]", live_world.candidate_id_number)
    page.fill("input[name=ticket_number]", "wrong-1")
    page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("do not match a registration")
    page.fill("input[name=id_number]", live_world.candidate_id_number)
    page.fill("input[name=ticket_number]", live_world.candidate.ticket_number)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_contain_text(live_world.candidate.ticket_number)


def test_the_candidate_page_switches_to_chinese(live_world, new_page):
    page = new_page()
    page.goto("/candidate/login/")
    page.select_option("select[name=language]", "zh-hans")
    expect(page.locator("h1")).to_have_text("考生登录")
