"""The report page in a real headless browser (chromium): it renders, lists every video, sorts, filters, and a
transcript expands. Assertions are on the DOM, never on pixels."""

from __future__ import annotations

import pytest

from browser import chromium
from report_fixtures import OPTIONS
from transcription import report

KEYS = ["youtube/aaaaaaaaaaa", "youtube/bbbbbbbbbbb", "youtube/ccccccccccc", "youtube/ddddddddddd",
        "youtube/eeeeeeeeeee"]


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture
def page(browser, fixture_run):
    """The report of the fixture run, opened from the store's folder as a file:// URL."""
    store, resolution, results = fixture_run
    outcome = report.write(store, "scheduled__2026-11-25", resolution, results, options=OPTIONS, title="Weekly")
    assert outcome["report"].startswith("file://")
    browser.get(outcome["report"])
    return browser


def _by(css: str):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def _keys(driver, visible_only: bool = False) -> list[str]:
    rows = driver.find_elements(*_by("#results tbody tr"))
    return [r.get_attribute("data-key") for r in rows if r.is_displayed() or not visible_only]


def _header(driver, name: str):
    return next(h for h in driver.find_elements(*_by("#results thead th")) if h.text.startswith(name))


def test_page_renders_with_every_video(page):
    assert page.title == "Weekly" and page.find_element(*_by("h1")).text == "Weekly"
    assert _keys(page) == KEYS and _keys(page, visible_only=True) == KEYS
    first = page.find_element(*_by("#results tbody tr")).find_elements(*_by("td"))
    assert first[0].text == "Talk <script>alert(1)</script>"  # shown as text, never run
    assert [c.text for c in first[1:5]] == ["done", "0:58", "en", "6"]
    assert len(page.find_elements(*_by("details.transcript"))) == 3
    for figure in ("#wordcloud", "#word2vec"):  # the embedded PNGs decode: the browser knows their size
        assert page.find_element(*_by(figure)).get_property("naturalWidth") == 800


def test_clicking_a_header_sorts_and_again_reverses(page):
    _header(page, "Title").click()
    by_title = ["youtube/ddddddddddd", "youtube/ccccccccccc", "youtube/eeeeeeeeeee", "youtube/bbbbbbbbbbb",
                "youtube/aaaaaaaaaaa"]  # Crashed, Nachrichten, Premiere, Silent film, Talk
    assert _keys(page) == by_title and _header(page, "Title").get_attribute("aria-sort") == "ascending"
    _header(page, "Title").click()
    assert _keys(page) == by_title[::-1] and _header(page, "Title").get_attribute("aria-sort") == "descending"
    _header(page, "Words").click()  # numbers, the videos without any last; ties keep the order they had (stable)
    assert _keys(page) == ["youtube/bbbbbbbbbbb", "youtube/aaaaaaaaaaa", "youtube/ccccccccccc",
                           "youtube/eeeeeeeeeee", "youtube/ddddddddddd"]
    assert _header(page, "Title").get_attribute("aria-sort") is None


def test_typing_in_the_filter_hides_other_rows(page):
    box = page.find_element(*_by("#filter"))
    box.send_keys("NACH")
    assert _keys(page, visible_only=True) == ["youtube/ccccccccccc"]
    assert page.find_element(*_by("#shown")).text == "1 of 5 videos"
    box.clear()
    box.send_keys("skipped")  # any cell: here the status
    assert _keys(page, visible_only=True) == ["youtube/eeeeeeeeeee"]
    box.send_keys("\b" * len("skipped"))
    assert _keys(page, visible_only=True) == KEYS


def test_clicking_a_summary_expands_the_transcript(page):
    details = page.find_element(*_by('details[id="youtube/ccccccccccc"]'))
    segment = details.find_element(*_by("p.segment"))
    assert details.get_attribute("open") is None and not segment.is_displayed()
    details.find_element(*_by("summary")).click()
    assert details.get_attribute("open") == "true" and segment.is_displayed()
    assert segment.text == "0:00Guten Abend, meine Damen und Herren."
    link = segment.find_element(*_by("a"))
    assert link.get_attribute("href") == "https://www.youtube.com/watch?v=ccccccccccc&t=0s"


def test_a_title_in_the_table_opens_its_transcript(page):
    details = page.find_element(*_by('details[id="youtube/aaaaaaaaaaa"]'))
    assert details.get_attribute("open") is None
    page.find_element(*_by('#results a[href="#youtube/aaaaaaaaaaa"]')).click()
    assert details.get_attribute("open") == "true"
    assert details.find_element(*_by("p.segment")).text.endswith("Hello & welcome to the talk.")
