"""windows: where the batched engine cuts audio (in pauses, at most 30 s) and what it never sends to whisper."""

from __future__ import annotations

import numpy as np
import whisper

from transcription import offline, windows
from transcription.windows import MAX_WINDOW, SAMPLE_RATE

RNG = np.random.default_rng(0)


def _noise(seconds: float, dbfs: float) -> np.ndarray:
    """White noise at an RMS level: a stand-in for speech energy that tests can place exactly."""
    return (RNG.standard_normal(int(seconds * SAMPLE_RATE)) * 10 ** (dbfs / 20)).astype(np.float32)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def _loud_frames(audio: np.ndarray, dbfs: float) -> np.ndarray:
    return np.flatnonzero(windows.frame_levels(audio) > dbfs)


def _covered(plan: list[windows.Window], frame: int) -> bool:
    return any(w.start <= frame * windows.FRAME < w.end for w in plan)


def test_silence_and_faint_noise_get_no_window():
    assert windows.plan(_silence(45)) == []
    assert windows.plan(_noise(45, -75)) == []  # below the absolute floor: hiss, not speech
    assert windows.plan(np.zeros(0, dtype=np.float32)) == []


def test_stretches_of_speech_share_windows_of_at_most_30_s_cut_in_pauses():
    audio = np.concatenate([_silence(4), *[np.concatenate([_noise(5, -20), _silence(3)]) for _ in range(8)]])
    plan = windows.plan(audio)
    assert len(plan) == 2  # 8 stretches of 5 s, 3 s apart: 30 s holds four of them with their pauses
    assert all(0 < w.end - w.start <= MAX_WINDOW for w in plan)
    assert all(a.end <= b.start for a, b in zip(plan, plan[1:], strict=False))  # ordered, no overlap
    assert all(_covered(plan, f) for f in _loud_frames(audio, -30))  # every bit of speech is in a window
    levels = windows.frame_levels(audio)
    for w in plan:  # windows begin and end in the pauses (200 ms of margin), not in the speech
        assert levels[w.start // windows.FRAME] < -60 and levels[(w.end - 1) // windows.FRAME] < -60
    assert plan[0].start == int((4 - 0.2) * SAMPLE_RATE)  # the leading silence is skipped, but for the margin


def test_speech_longer_than_a_window_is_cut_at_its_quietest_moment():
    dips = (22.0, 47.0)
    audio = np.concatenate([_noise(22, -20), _noise(0.3, -45), _noise(24.7, -20), _noise(0.3, -45), _noise(20, -20)])
    plan = windows.plan(audio)
    assert len(plan) == 3 and plan[0].start == 0 and plan[-1].end == len(audio)
    for before, after, dip in zip(plan[:-1], plan[1:], dips, strict=True):
        assert before.end == after.start  # contiguous: nothing lost at a cut
        assert dip <= before.end / SAMPLE_RATE <= dip + 0.3  # inside the quiet moment


def test_a_quiet_recording_is_judged_against_its_own_loudness():
    quiet = np.concatenate([_noise(5, -48), _silence(40), _noise(5, -48)])
    plan = windows.plan(quiet)
    assert len(plan) == 2 and all(_covered(plan, f) for f in _loud_frames(quiet, -55))
    # the same hiss level as this speech is silence beside loud speech
    loud = np.concatenate([_noise(5, -10), _silence(5), _noise(5, -48), _silence(40)])
    assert windows.plan(loud)[-1].end / SAMPLE_RATE < 10.5


def test_cuts_in_real_speech_fall_in_pauses(tmp_path):
    text = " ".join(f"Sentence number {n} is spoken here, with a comma and an ending." for n in range(20))
    speech = whisper.load_audio(str(offline.speak(text, tmp_path / "speech.wav")))
    assert len(speech) > 2 * MAX_WINDOW  # espeak pauses briefly between sentences: no gap is long
    plan = windows.plan(speech)
    levels = windows.frame_levels(speech)
    speaking = np.median(levels[levels > -60])
    assert len(plan) >= 3 and plan[0].start <= SAMPLE_RATE // 2 and plan[-1].end >= len(speech) - SAMPLE_RATE // 2
    for before, after in zip(plan, plan[1:], strict=False):
        assert before.end == after.start
        cut = before.end // windows.FRAME
        assert levels[cut - 2:cut + 3].max() < speaking - 20  # quiet around the cut: a pause, not a word
