"""figures: valid, deterministic PNGs, and a message instead of a crash when there is too little text; words of
every script, cut sensibly and drawn with glyphs (the Makefile's FONTS installed), not empty boxes."""

from __future__ import annotations

import io
import logging
import warnings

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from matplotlib.figure import Figure
from PIL import Image

from transcription import figures

STOP = figures.stopwords()
TEXT = [
    "The apple orchard is full of ripe apples in autumn.", "We cross the river on an old stone bridge.",
    "Apples and pears grow in the orchard by the river.", "The bridge over the river leads to the orchard.",
    "Autumn brings apples, pears and rain to the river valley.",
] * 4
SENTENCES = [figures.tokenize(t, STOP) for t in TEXT]


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.verify()
    return Image.open(io.BytesIO(png))


def test_tokenize_drops_stop_words_digits_and_keeps_any_script():
    assert figures.tokenize("The 3 apples of Straße über dem Fluss, don't they?", STOP) == [
        "apples", "straße", "über", "dem", "fluss"]
    assert "dont" not in STOP and figures.tokenize("Bonjour l'été", figures.stopwords(["bonjour"])) == ["l'été"]


@pytest.mark.parametrize(("text", "tokens"), [
    # Chinese: bigrams of each Han run, cut at the particle 的 (so no "我的", and the lone "我" says nothing)
    ("我的朋友在北京。", ["朋友", "友在", "在北", "北京"]),
    ("我们喜欢北京", ["们喜", "喜欢", "欢北", "北京"]),  # 我们: a Chinese stop word; 们喜: a bigram's noise
    # Japanese: kanji bigrams, a katakana run is one word (half-width too), hiragana and a lone kanji are left out
    ("東京でコンピューターを買いました。ｺｰﾋｰも", ["東京", "コンピューター", "コーヒー"]),
    ("日本語を勉強しています", ["日本", "本語", "勉強"]),
    # Thai: bigrams of grapheme clusters, so a vowel or tone mark stays on its consonant
    ("ไม่มีปัญหา", ["ไม่", "ม่มี", "มีปั", "ปัญ", "ญห", "หา"]),
    # space-delimited scripts keep their words: Hangul, Cyrillic, Devanagari with its vowel signs, Arabic
    ("Hello 世界, 안녕하세요 Москва! नमस्ते دنیا 42", ["hello", "世界", "안녕하세요", "москва", "नमस्ते", "دنیا"]),
])
def test_tokenize_cuts_every_script_into_words_or_bigrams(text, tokens):
    assert figures.tokenize(text, STOP) == tokens


def test_extra_stop_words_apply_to_bigrams_too():
    assert figures.tokenize("北京大学在北京", figures.stopwords(["北京"])) == ["京大", "大学", "学在", "在北"]


CJK = [["北京", "大学", "学习"], ["東京", "コンピューター"], ["서울", "한국어"], ["hello", "北京"]] * 3


def _cmap(path: str) -> set[int]:
    with TTFont(path, fontNumber=0) as font:  # fontTools, independent of what figures reads fonts with
        return set(font.getBestCmap())


def _draws(path: str, word: str) -> bool:
    return all(ord(c) in _cmap(path) for c in word)


@pytest.fixture
def clouds(monkeypatch):
    """The WordCloud objects that figures.word_cloud draws: their font and the words they laid out."""
    made = []

    class Recorded(figures.WordCloud):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            made.append(self)

    monkeypatch.setattr(figures, "WordCloud", Recorded)
    return made


def test_word_cloud_draws_cjk_words_with_a_font_that_has_their_glyphs(clouds):
    png = figures.word_cloud(CJK)
    assert figures.word_cloud(CJK) == png
    (cloud, _) = clouds
    drawn = {word for (word, _), *_ in cloud.layout_}
    assert drawn == {w for sentence in CJK for w in sentence}
    assert all(_draws(cloud.font_path, word) for word in drawn)
    assert not _draws(figures.WORDCLOUD_FONT, "北京")  # the check can fail: wordcloud's own font has no Han


def test_word_cloud_leaves_out_words_no_font_can_draw_with_a_warning(clouds, monkeypatch, caplog):
    figures.word_cloud([["北京", "大学"]] * 3 + [["สวัสดี"]])  # no single font has both scripts
    assert {word for (word, _), *_ in clouds[0].layout_} == {"北京", "大学"}
    assert "left out 1 word(s)" in caplog.text and "สวัสดี" in caplog.text
    # no fonts but wordcloud's: a message in the picture, not a crash and not empty boxes
    monkeypatch.setattr(figures, "_system_fonts", lambda: ())
    assert _image(figures.word_cloud([["北京", "大学"]])).size == (800, 500)
    assert len(clouds) == 1
    assert figures.word_cloud([["北京", "大学"]]) != figures.word_cloud([])  # says why, not "no words"


def _missing_glyphs(draw) -> list[str]:
    """matplotlib's warnings about characters it drew as empty boxes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_word_map_labels_every_script_with_glyphs():
    words = ["北京", "東京", "コンピューター", "서울", "москва", "ไม่มี", "नमस्ते", "دنیا", "river"]
    sentences = [[words[(i + k) % len(words)] for k in range(4)] for i in range(30)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert figures.word_map(sentences, 2) == figures.word_map(sentences, 2)
    assert _missing_glyphs(lambda: figures.word_map(sentences, 2)) == []

    def default_font():  # the check can fail: matplotlib's default font has no Han or Thai
        figure = Figure()
        figure.text(0.5, 0.5, "北京 ไม่มี")
        figure.savefig(io.BytesIO(), format="png")
    assert _missing_glyphs(default_font)


def test_word_map_warns_about_a_word_no_font_can_draw(monkeypatch, caplog):
    monkeypatch.setattr(figures, "_system_fonts", lambda: ())
    with caplog.at_level(logging.WARNING), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # matplotlib's own, about the glyphs
        assert _image(figures.word_map([["北京", "大学", "river"]] * 3, 2)).size == (800, 500)
    assert "no installed font has glyphs for every letter of '北京'" in caplog.text


def test_word_cloud_is_a_png_of_the_expected_size_and_deterministic():
    png = figures.word_cloud(SENTENCES)
    assert _image(png).size == (800, 500)
    assert figures.word_cloud(SENTENCES) == png
    assert figures.word_cloud([]) != png and _image(figures.word_cloud([])).size == (800, 500)


def test_word_map_is_deterministic_and_depends_on_min_count():
    png = figures.word_map(SENTENCES, min_count=2)
    assert _image(png).size == (800, 500)
    assert figures.word_map(SENTENCES, min_count=2) == png
    assert figures.word_map(SENTENCES, min_count=3) != png


@pytest.mark.parametrize(("sentences", "min_count", "twin"), [
    ([], 2, [["lonely"]]),  # gensim itself raises on an empty vocabulary
    ([["apple", "river"]] * 5, 2, [["cat", "dog"]] * 3),  # two words: too few for a 2-D map
    (SENTENCES, 100, [["apple"]] * 99),  # plenty of text, but nothing that frequent
])
def test_too_small_vocabulary_is_a_message_not_a_crash(sentences, min_count, twin):
    png = figures.word_map(sentences, min_count)
    assert _image(png).size == (800, 500)
    # Other words with the same shortfall give the same picture: it shows the message, not the words.
    assert figures.word_map(twin, min_count) == png


def test_pca_keeps_the_geometry_of_planar_data():
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(30, 2)) * [5.0, 1.0]
    basis = np.linalg.qr(rng.normal(size=(50, 2)))[0]  # an orthonormal 2-D plane inside 50 dimensions
    points = figures.pca_2d(plane @ basis.T + 7.0)
    distances = lambda p: np.linalg.norm(p[:, None] - p[None], axis=-1)  # noqa: E731
    np.testing.assert_allclose(distances(points), distances(plane), atol=1e-9)
    assert points[:, 0].var() > points[:, 1].var()
