"""Where to cut audio into Whisper's 30-second windows, and which stretches hold no speech at all.

The batched engine decodes windows independently, so a cut must not split a word: cuts fall in pauses, found from
the signal's short-time energy (no voice-activity model to download). Stretches too quiet to be speech get no window:
Whisper, given silence, tends to invent text ("Thank you for watching"); audio it never sees, it cannot caption.
"""

from __future__ import annotations

import dataclasses

import numpy as np

SAMPLE_RATE = 16_000  # whisper.audio.SAMPLE_RATE; restated to keep this module free of torch
FRAME = 320  # 20 ms: two of whisper's mel hops, so every cut is a whole number of mel frames
MAX_WINDOW = 30 * SAMPLE_RATE  # whisper.audio.N_SAMPLES
MIN_CUT = MAX_WINDOW // 2  # an over-long stretch of speech is cut in its quietest moment between 15 and 30 s
FLOOR_DB = -60.0  # below this RMS level (dBFS) a frame is silence, however quiet the recording
BELOW_PEAK_DB = 35.0  # ... and so is a frame this far below the recording's loud speech (its 99th-percentile level)
PAD = 10  # frames (200 ms) kept on each side of speech: soft word onsets and endings sit below the threshold
SMOOTH = 10  # frames (200 ms) over which energy is averaged before looking for the quietest cut


@dataclasses.dataclass(frozen=True)
class Window:
    """Samples [start, end) of the audio, at most 30 s, decoded as one of Whisper's windows."""

    start: int
    end: int

    @property
    def seconds(self) -> tuple[float, float]:
        return self.start / SAMPLE_RATE, self.end / SAMPLE_RATE


def frame_levels(audio: np.ndarray) -> np.ndarray:
    """RMS level of each 20 ms frame in dBFS (a short last frame is zero-padded)."""
    frames = np.pad(audio.astype(np.float64), (0, -len(audio) % FRAME)).reshape(-1, FRAME)
    return 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)), 1e-10))


def speech_frames(levels: np.ndarray) -> np.ndarray:
    """Which frames may hold speech: above an absolute floor and within BELOW_PEAK_DB of the recording's loud parts,
    widened by PAD frames on each side."""
    threshold = max(FLOOR_DB, float(np.percentile(levels, 99)) - BELOW_PEAK_DB)
    loud = levels > threshold
    # widen: a frame is kept when any frame within PAD of it is loud
    padded = np.convolve(loud.astype(np.int32), np.ones(2 * PAD + 1, dtype=np.int32), mode="same")
    return padded > 0


def plan(audio: np.ndarray) -> list[Window]:
    """Windows of at most 30 s that cover every stretch of speech, cut in pauses, in order; none for silence.

    Consecutive stretches of speech share a window while they fit in 30 s (the pause between them included, so
    Whisper hears the context as it was); a stretch longer than 30 s is cut at its quietest point between 15 and 30 s.
    """
    levels = frame_levels(audio)
    if not len(levels):
        return []
    speech = speech_frames(levels)
    smooth = np.convolve(levels, np.ones(SMOOTH) / SMOOTH, mode="same")
    windows: list[Window] = []
    for first, last in _runs(speech):
        start, end = first * FRAME, min(last * FRAME, len(audio))
        while end - start > MAX_WINDOW:
            lo, hi = (start + MIN_CUT) // FRAME, (start + MAX_WINDOW) // FRAME
            quietest = smooth[lo:hi]
            cut = (lo + len(quietest) - 1 - int(np.argmin(quietest[::-1]))) * FRAME  # the latest of equal minima
            _add(windows, start, cut)
            start = cut
        _add(windows, start, end)
    return windows


def _add(windows: list[Window], start: int, end: int) -> None:
    """A stretch of speech joins the last window when both fit in 30 s, else it starts a window of its own."""
    if windows and end - windows[-1].start <= MAX_WINDOW:
        windows[-1] = Window(windows[-1].start, end)
    else:
        windows.append(Window(start, end))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[first, last) indices of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
