"""The batched engine: token-for-token what whisper's own `decode` gives window by window, absolute and monotonic
timestamps, whisper's fallback and no-speech rules, language detection over the whole recording, and silence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import whisper
from whisper.tokenizer import get_tokenizer

from conftest import FAST
from transcription import batched, engine, offline, windows
from transcription.options import TranscribeOptions

GREEDY = TranscribeOptions(language="en", whisper_options=FAST)
SAMPLE_RATE = windows.SAMPLE_RATE


@pytest.fixture(scope="module")
def model(checkpoint):
    return engine.load_model(str(checkpoint))


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    """About 90 s of espeak-ng with a long pause and leading silence: five windows, one of them short."""
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    text = " ".join(f"This is sentence {n}, spoken for the batched engine." for n in range(20))
    spoken = whisper.load_audio(str(offline.speak(text, path)))
    silence = np.zeros(4 * SAMPLE_RATE, dtype=np.float32)
    return np.concatenate([silence, spoken, silence, silence, spoken[: 20 * SAMPLE_RATE]])


def _decoded(segments):
    """What decoding decided: tokens, text, times (log probabilities may differ in their last bits by batch)."""
    return [(s["start"], s["end"], s["text"], s["tokens"]) for s in segments]


def _alone(model, audio, language="en"):
    """Each planned window decoded by itself with whisper.decode, split into segments the same way."""
    tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages, language=language)
    segments = []
    for span in windows.plan(audio):
        result = whisper.decode(model, batched._mel(model, audio, span),
                                whisper.DecodingOptions(language=language, temperature=0, fp16=False,
                                                        sample_len=FAST["sample_len"]))
        segments += batched._segments(result, span, tokenizer)
    return segments


def test_batched_greedy_decoding_is_token_for_token_whisper_decode_alone(model, speech):
    assert len(windows.plan(speech)) >= 4
    together = batched.transcribe(model, [speech], GREEDY, size=3)[0]  # uneven batches: 3 + 2 windows
    alone = _alone(model, speech)
    assert _decoded(together["segments"]) == _decoded(alone)
    for a, b in zip(together["segments"], alone, strict=True):  # batch arithmetic may differ in the last bits
        assert a["avg_logprob"] == pytest.approx(b["avg_logprob"], rel=1e-4)
    assert together["text"] == "".join(s["text"] for s in alone)


def test_recordings_batched_together_give_what_each_gives_alone(model, speech):
    short = speech[: 40 * SAMPLE_RATE]
    both = batched.transcribe(model, [speech, short], GREEDY, size=4)
    assert [_decoded(r["segments"]) for r in both] == [
        _decoded(batched.transcribe(model, [audio], GREEDY, size=1)[0]["segments"]) for audio in (speech, short)]


def test_stitched_timestamps_are_absolute_monotonic_and_inside_the_audio(model, speech):
    result = engine.transcribe(model, speech, GREEDY)
    segments = result["segments"]
    assert segments and [s["id"] for s in segments] == list(range(len(segments)))
    duration = len(speech) / SAMPLE_RATE
    spans = [w.seconds for w in windows.plan(speech)]
    for before, after in zip(segments, segments[1:], strict=False):
        assert before["start"] <= before["end"] <= after["start"] <= after["end"] <= duration
    for segment in segments:  # each inside the window it was decoded in: offsets were added, not forgotten
        assert any(start <= segment["start"] <= segment["end"] <= end for start, end in spans)
    assert {round(s["seek"] * 160 / SAMPLE_RATE, 2) for s in segments} <= {round(s, 2) for s, _ in spans}
    assert segments[-1]["start"] > 60  # the second half of the recording is there, at its own time


def test_silence_gives_no_text_where_whisper_alone_invents_some(model):
    silence = np.zeros(45 * SAMPLE_RATE, dtype=np.float32)
    hiss = (np.random.default_rng(0).standard_normal(45 * SAMPLE_RATE) * 10 ** (-75 / 20)).astype(np.float32)
    invented = whisper.transcribe(model, silence, language="en", fp16=False, **FAST)
    assert invented["text"].strip()  # what this guards against: whisper, given silence, writes something
    for decoding in ("batched", "sequential"):
        options = dataclasses.replace(GREEDY, decoding=decoding)
        for audio in (silence, hiss):
            result = engine.transcribe(model, audio, options)
            assert result["segments"] == [] and result["text"] == "", decoding


def test_language_is_detected_over_windows_spread_over_the_recording(model, speech):
    plan = windows.plan(speech)
    result = batched.transcribe(model, [speech], TranscribeOptions(whisper_options=FAST), size=2)[0]
    picks = np.unique(np.linspace(0, len(plan) - 1, min(len(plan), batched.LANGUAGE_WINDOWS)).round().astype(int))
    assert picks[0] == 0 and picks[-1] == len(plan) - 1  # the first window does not decide alone
    mels = np.stack([batched._mel(model, speech, plan[i]).numpy() for i in picks])
    _, probs = model.detect_language(whisper.torch.from_numpy(mels))
    mean = {code: np.mean([p[code] for p in probs]) for code in probs[0]}
    assert result["language"] == max(mean, key=mean.get)
    assert result["language_probs"][result["language"]] == pytest.approx(mean[result["language"]], rel=1e-4)
    assert all(s["tokens"] for s in result["segments"])
    assert _decoded(result["segments"]) == _decoded(_alone(model, speech, language=result["language"]))


def test_windows_whisper_rejects_are_decoded_again_at_the_next_temperature(model, speech):
    audio = speech[: 40 * SAMPLE_RATE]
    rejected = {**FAST, "temperature": (0.0, 0.7), "logprob_threshold": 0.0}  # any log probability is below 0
    result = engine.transcribe(model, audio, dataclasses.replace(GREEDY, whisper_options=rejected))
    assert result["segments"] and {s["temperature"] for s in result["segments"]} == {0.7}
    retried = dataclasses.replace(GREEDY, whisper_options={**FAST, "temperature": (0.0, 0.7)})
    accepted = engine.transcribe(model, audio, retried)
    assert {s["temperature"] for s in accepted["segments"]} == {0.0}


def test_windows_whisper_judges_silent_are_dropped(model, speech):
    """whisper's no-speech rule: no_speech_prob above the threshold, and the text not confidently decoded."""
    audio = speech[: 40 * SAMPLE_RATE]
    options = dataclasses.replace(GREEDY, whisper_options={**FAST, "no_speech_threshold": -1.0})  # any p > -1
    assert engine.transcribe(model, audio, options)["segments"] == []
    confident = {**FAST, "no_speech_threshold": -1.0, "logprob_threshold": -1e9}  # every output "confident"
    assert engine.transcribe(model, audio, dataclasses.replace(GREEDY, whisper_options=confident))["segments"]


def test_word_timestamps_in_batched_windows(model, speech):
    options = dataclasses.replace(GREEDY, whisper_options={**FAST, "word_timestamps": True})
    result = engine.transcribe(model, speech[: 40 * SAMPLE_RATE], options)
    words = [w for s in result["segments"] for w in s["words"]]
    assert words and all(s["start"] <= w["start"] <= w["end"] <= s["end"] + 0.5 for s in result["segments"]
                         for w in s["words"])
    assert "".join(w["word"] for w in words) == result["text"]


def test_sequential_only_options_are_refused_up_front_for_batched_decoding():
    for option in ({"condition_on_previous_text": True}, {"hallucination_silence_threshold": 2.0},
                   {"clip_timestamps": "0,30"}):
        with pytest.raises(ValueError, match="need decoding='sequential'"):
            engine.check_options(TranscribeOptions(whisper_options=option))
        assert engine.check_options(TranscribeOptions(decoding="sequential", whisper_options=option))
    with pytest.raises(ValueError, match="unknown decoding 'parallel'"):
        engine.check_options(TranscribeOptions(decoding="parallel"))
    assert TranscribeOptions(decoding="sequential").variant("tiny") == "tiny-sequential"
    assert TranscribeOptions().variant("tiny") == "tiny"


def test_suspect_segments_are_flagged_by_whispers_own_signals():
    def segment(no_speech=0.1, ratio=1.5, logprob=-0.3):
        return {"no_speech_prob": no_speech, "compression_ratio": ratio, "avg_logprob": logprob}

    segments = [segment(), segment(no_speech=0.9), segment(ratio=3.1, logprob=-1.5), segment(ratio=2.0)]
    engine.flag_suspects(segments, {})  # whisper's defaults: 0.6, 2.4, -1.0
    assert [s.get("suspect") for s in segments] == [None, ["no_speech"], ["repetitive", "improbable"], None]
    strict = [segment(ratio=2.0)]
    engine.flag_suspects(strict, {"compression_ratio_threshold": 1.8, "logprob_threshold": None})
    assert strict[0]["suspect"] == ["repetitive"]


def test_batch_size_comes_from_the_environment_or_free_memory(model, monkeypatch):
    monkeypatch.setenv(batched.ENV_BATCH_SIZE, "3")
    assert batched.batch_size(model) == 3
    monkeypatch.delenv(batched.ENV_BATCH_SIZE)
    assert 1 <= batched.batch_size(model) <= batched.MAX_BATCH_SIZE
    many = [batched._Window(0, windows.Window(i, i + 10 + i)) for i in range(9)]
    batches = batched._batches(many, 8)
    assert sorted(len(b) for b in batches) == [4, 5]  # even, not 8 + 1
    assert [w.span.start for w in batches[0]] == [8, 7, 6, 5]  # the longest windows together
