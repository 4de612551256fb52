"""The report's figures, as PNG bytes: a word cloud and a word2vec map (PCA to 2-D) of all transcripts.

Deterministic (fixed seeds, one worker, no timestamps in the PNG), so the same transcripts give the same bytes.
Too little text is a message in the figure, never an exception: one short video is a normal daily run.

Whisper writes 99 languages, so words are cut by script (see `tokenize`), and every word is drawn with an installed
font that has its glyphs (see `_font_for`): the default fonts would draw Chinese, Thai or Arabic as empty boxes.
"""

from __future__ import annotations

import functools
import io
import logging
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import regex
from gensim.models import Word2Vec
from gensim.parsing.preprocessing import STOPWORDS as GENSIM_STOPWORDS
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from wordcloud import STOPWORDS as WORDCLOUD_STOPWORDS
from wordcloud import WordCloud
from wordcloud.wordcloud import FONT_PATH as WORDCLOUD_FONT

log = logging.getLogger(__name__)

SIZE = (8, 5)  # inches, at DPI: 800 × 500 px each
DPI = 100
MAP_LABELS = 40  # the most frequent words are labelled on the word2vec map
MIN_MAP_WORDS = 3  # PCA to two dimensions needs at least three points to say anything
# A word's letters carry their marks (a Hindi vowel sign is part of its word); scripts written without spaces have
# runs of their own, cut up by `tokenize`. Hiragana matches nothing, so it is dropped.
_SOUTHEAST_ASIAN = r"\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_LETTER = rf"[[\p{{L}}\p{{M}}]--[\p{{Han}}\p{{Hiragana}}\p{{Katakana}}{_SOUTHEAST_ASIAN}]]"
_TOKENS = regex.compile(rf"""
    (?P<han>\p{{Han}}+)
  | (?P<katakana>\p{{Katakana}}[\p{{Katakana}}ー]*)  # ー: the long-vowel mark inside loanwords (コンピューター)
  | (?P<unspaced>[[{_SOUTHEAST_ASIAN}]&&[\p{{L}}\p{{M}}]]+)
  | (?P<word>{_LETTER}+(?:['’]{_LETTER}+)*)  # "don't" stays one word
""", regex.VERBOSE | regex.V1)
# Chinese particles that end a clause or follow most words: bigrams across them ("我的", "好了") would be the
# biggest words of every Chinese cloud, so they cut a Han run like a space.
_HAN_PARTICLES = regex.compile("[的了吗呢吧啊呀嘛]")
# Chinese function words that survive as whole bigrams (pronouns, demonstratives, conjunctions): noise like "the".
CJK_STOPWORDS = frozenset(
    "我们 你们 他们 她们 它们 咱们 自己 这个 那个 这些 那些 这里 那里 这样 那样 这么 那么 一个 什么 怎么 "
    "没有 不是 就是 还是 也是 可以 因为 所以 但是 而且 如果 然后 已经 还有 或者".split())


def stopwords(extra: Iterable[str] = ()) -> frozenset[str]:
    return frozenset(WORDCLOUD_STOPWORDS | GENSIM_STOPWORDS | CJK_STOPWORDS | {w.lower() for w in extra})


def tokenize(text: str, stop: frozenset[str]) -> list[str]:
    """Lower-case words of two or more letters that are not stop words, in the text's order.

    Space-delimited scripts (Latin, Cyrillic, Greek, Hangul, Arabic, Devanagari, ...) give their words. Scripts
    written without spaces give overlapping bigrams of each run, as Lucene's CJKBigramFilter does for search:
    no dictionary and no dependency, deterministic, and the same for Chinese, Japanese, Thai, Lao, Khmer and Burmese.
    Segmenters give real words but one language each, with a 20 MB dictionary (jieba: sdist only, unmaintained since
    2020; janome; pythainlp), and ICU's word break needs PyICU, which PyPI has only as source (a compiler and
    libicu-dev). A bigram that straddles two words is rare next to the words themselves, so a cloud of any length
    shows the words big. Japanese runs change script at word boundaries, which is used too: a katakana run is one
    word (a loanword or name), a hiragana run is particles and verb endings (dropped, like a lone kanji), and kanji
    runs give bigrams. Single characters say nothing on their own and are left out, as in every script.
    """
    tokens = []
    for match in _TOKENS.finditer(unicodedata.normalize("NFKC", text).lower()):  # NFKC: half-width katakana too
        run = match.group()
        match match.lastgroup:
            case "han":
                tokens += [bigram for part in _HAN_PARTICLES.split(run) for bigram in _bigrams(list(part))]
            case "unspaced":
                tokens += _bigrams(regex.findall(r"\X", run))
            case "katakana" | "word" if len(run) > 1:
                tokens.append(run)
    return [t for t in tokens if t not in stop]


def _bigrams(units: list[str]) -> list[str]:
    return ["".join(units[i:i + 2]) for i in range(len(units) - 1)]


def word_cloud(sentences: list[list[str]]) -> bytes:
    figure, ax = _figure("Word cloud")
    frequencies = Counter(w for sentence in sentences for w in sentence)
    font, missing = _font_for(frequencies, WORDCLOUD_FONT)  # one font for the whole cloud
    if missing:
        log.warning("Word cloud: no installed font draws every script here; left out %d word(s) that %s lacks "
                    "glyphs for, such as %s", len(missing), Path(font).name, ", ".join(sorted(missing)[:5]))
    if drawn := {w: n for w, n in frequencies.items() if w not in missing}:
        cloud = WordCloud(width=SIZE[0] * DPI, height=SIZE[1] * DPI, background_color="white", random_state=0,
                          collocations=False, font_path=font).generate_from_frequencies(drawn)
        ax.imshow(cloud.to_array(), interpolation="bilinear")
    elif frequencies:
        _message(ax, "No installed font has glyphs for these words: the task's log says which.")
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
    default = font_manager.findfont(font_manager.FontProperties())
    for word, (x, y) in zip(words[:MAP_LABELS], points[:MAP_LABELS], strict=False):
        font, missing = _font_for({word: 1}, default)  # a font per label: scripts can differ from word to word
        if missing:
            log.warning("word2vec map: no installed font has glyphs for every letter of %r", word)
        ax.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points",
                    fontproperties=font_manager.FontProperties(fname=font, size=8))
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([])
    return _png(figure)


def _font_for(frequencies: Mapping[str, int], preferred: str) -> tuple[str, set[str]]:
    """The font file that draws the most of these words (by frequency), and the words it lacks glyphs for.

    `preferred` wins ties, so text its default font can draw looks as it always did. The other candidates are the
    system's fonts: the Makefile and the Airflow image install fonts-wqy-microhei (Chinese, Japanese, Korean) and
    fonts-noto-core (Thai, Arabic, Indic and the other scripts). Without them it is `preferred`; the caller warns.
    """
    candidates = [(preferred, _charmap(preferred)), *_system_fonts()]
    best, charmap = max(candidates, key=lambda font: sum(n for w, n in frequencies.items()
                                                          if _covers(font[1], w)))  # max: the first of equals
    return best, {w for w in frequencies if not _covers(charmap, w)}


def _covers(charmap: frozenset[int], word: str) -> bool:
    return all(ord(c) in charmap for c in word)


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    return frozenset(FT2Font(path).get_charmap())


@functools.cache
def _system_fonts() -> tuple[tuple[str, frozenset[int]], ...]:
    """Every font file installed, with the code points it has glyphs for: upright sans faces first, then by path.

    Read from the font folders, not matplotlib's font cache, which does not see fonts installed after it was built."""
    fonts = []
    for path in font_manager.findSystemFonts():
        try:
            font = FT2Font(path)
        except (OSError, RuntimeError):  # a broken file among the system's fonts must not break the report
            log.warning("Cannot read the font %s: not used", path)
            continue
        order = (font.style_name not in ("Regular", "Book"), "Serif" in font.family_name, path)
        fonts.append((order, frozenset(font.get_charmap())))
    return tuple((order[-1], charmap) for order, charmap in sorted(fonts, key=lambda font: font[0]))


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
