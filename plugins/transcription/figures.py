"""The report's figures, as PNG bytes: a word cloud and a word2vec map (PCA to 2-D) of all transcripts.

Deterministic (fixed seeds, one worker, no timestamps in the PNG), so the same transcripts give the same bytes.
Too little text is a message in the figure, never an exception: one short video is a normal daily run.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
from gensim.models import Word2Vec
from gensim.parsing.preprocessing import STOPWORDS as GENSIM_STOPWORDS
from matplotlib.figure import Figure
from wordcloud import STOPWORDS as WORDCLOUD_STOPWORDS
from wordcloud import WordCloud

SIZE = (8, 5)  # inches, at DPI: 800 × 500 px each
DPI = 100
MAP_LABELS = 40  # the most frequent words are labelled on the word2vec map
MIN_MAP_WORDS = 3  # PCA to two dimensions needs at least three points to say anything
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")  # letters in any script; "don't" stays one word


def stopwords(extra: Iterable[str] = ()) -> frozenset[str]:
    return frozenset(WORDCLOUD_STOPWORDS | GENSIM_STOPWORDS | {w.lower() for w in extra})


def tokenize(text: str, stop: frozenset[str]) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in stop]


def word_cloud(sentences: list[list[str]]) -> bytes:
    figure, ax = _figure("Word cloud")
    frequencies = Counter(w for sentence in sentences for w in sentence)
    if frequencies:
        cloud = WordCloud(width=SIZE[0] * DPI, height=SIZE[1] * DPI, background_color="white", random_state=0,
                          collocations=False).generate_from_frequencies(frequencies)
        ax.imshow(cloud.to_array(), interpolation="bilinear")
    else:
        _message(ax, "No words to show: the transcripts are empty, or only stop words.")
    return _png(figure)


def word_map(sentences: list[list[str]], min_count: int) -> bytes:
    figure, ax = _figure(f"word2vec map (PCA), words seen at least {min_count}×")
    counts = Counter(w for sentence in sentences for w in sentence)
    vocabulary = sum(n >= min_count for n in counts.values())
    if vocabulary < MIN_MAP_WORDS:
        _message(ax, f"Too few words for a word map: {vocabulary} distinct word(s) occur at least {min_count}× "
                     f"(it takes {MIN_MAP_WORDS}).\nAdd videos, or lower min_count.")
        return _png(figure)
    model = Word2Vec(sentences, vector_size=50, window=5, min_count=min_count, workers=1, seed=0, epochs=50)
    words = model.wv.index_to_key  # most frequent first
    points = pca_2d(model.wv[words])
    ax.scatter(points[:, 0], points[:, 1], s=12, color="#4477aa", alpha=0.6)
    for word, (x, y) in zip(words[:MAP_LABELS], points[:MAP_LABELS], strict=False):
        ax.annotate(word, (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([])
    return _png(figure)


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Project onto the two principal components; signs fixed so that equal inputs give equal pictures."""
    centered = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centered, full_matrices=False)
    components = components[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    return centered @ (components * signs[:, None]).T


def _figure(title: str):
    figure = Figure(figsize=SIZE, dpi=DPI)
    ax = figure.add_axes((0.02, 0.02, 0.96, 0.88))
    ax.set_axis_off()
    figure.suptitle(title, fontsize=12)
    return figure, ax


def _message(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=11, color="#555555",
            transform=ax.transAxes)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
