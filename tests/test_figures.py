"""figures: valid, deterministic PNGs, and a message instead of a crash when there is too little text."""

from __future__ import annotations

import io

import numpy as np
import pytest
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
