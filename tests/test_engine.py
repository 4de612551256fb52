"""engine: the real whisper.load_model on a generated checkpoint, option checks, and transcription plumbing."""

from __future__ import annotations

import dataclasses
import hashlib
import socket

import pytest
import whisper

from conftest import FAST
from transcription import audio, engine, offline
from transcription.options import MODELS, TranscribeOptions


def test_offered_models_are_whisper_models():
    assert set(MODELS) <= set(whisper.available_models())


def test_generated_checkpoint_loads_with_whisper(checkpoint):
    model = whisper.load_model(str(checkpoint), device="cpu")
    assert dataclasses.asdict(model.dims) == offline.DIMS["mini"]
    assert model.is_multilingual


def test_generated_checkpoints_are_reproducible_and_finite(tmp_path):
    """Whisper creates one parameter with torch.empty; left alone it is whatever memory held (NaN, at times)."""
    import torch

    first, second = (torch.load(offline.make_random_checkpoint(tmp_path / f"{n}.pt"), weights_only=True)
                     for n in ("a", "b"))
    assert first["dims"] == second["dims"] == offline.DIMS["mini"]
    for name, tensor in first["model_state_dict"].items():
        assert torch.equal(tensor, second["model_state_dict"][name]), name
        assert torch.isfinite(tensor).all(), name


def test_local_checkpoint_replaces_the_named_model_and_is_labelled(monkeypatch, checkpoint, tmp_path):
    monkeypatch.setenv(engine.ENV_MODEL, str(checkpoint))
    spec = engine.model_spec("large-v3")
    assert spec.source == str(checkpoint) and spec.random_weights
    assert spec.label == f"random-mini-{hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:8]}"
    # Another file of the same name (another fine-tune, say) is another model: its transcripts go elsewhere.
    other = offline.make_random_checkpoint(tmp_path / "v2" / checkpoint.name, seed=1)
    monkeypatch.setenv(engine.ENV_MODEL, str(other))
    assert engine.model_spec("large-v3").label.startswith("random-mini-") and engine.model_spec("x").label != spec.label
    monkeypatch.setenv(engine.ENV_MODEL, str(checkpoint.parent / "missing.pt"))
    with pytest.raises(engine.ModelUnavailable, match="is not a file"):
        engine.model_spec("tiny")
    monkeypatch.delenv(engine.ENV_MODEL)
    assert engine.model_spec("small") == engine.ModelSpec("small", "small", random_weights=False)


@pytest.fixture
def dead_weights_host(monkeypatch):
    """Whisper's download URL for `tiny`, pointed at a port on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = whisper._MODELS["tiny"].replace("https://openaipublic.azureedge.net", f"http://127.0.0.1:{port}")
    monkeypatch.setitem(whisper._MODELS, "tiny", url)


def test_unreachable_weights_say_how_to_supply_a_checkpoint(dead_weights_host, monkeypatch, tmp_path):
    monkeypatch.setenv(engine.ENV_CACHE, str(tmp_path))
    with pytest.raises(engine.ModelUnavailable) as error:
        engine.load_model("tiny")
    message = str(error.value)
    assert "cannot download the whisper model 'tiny'" in message
    assert f"{tmp_path}/tiny.pt" in message and "WHISPER_MODEL=" in message and "make-checkpoint" in message


def test_whisper_does_not_accept_a_checkpoint_with_the_wrong_checksum(monkeypatch, tmp_path, checkpoint):
    """Random weights named like an official model are never silently used: whisper re-checks the checksum."""
    (tmp_path / "tiny.pt").write_bytes(checkpoint.read_bytes())
    monkeypatch.setenv(engine.ENV_CACHE, str(tmp_path))
    calls = []
    refuse = ConnectionRefusedError("no network")
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: calls.append(a) or _raise(refuse))
    with pytest.raises(engine.ModelUnavailable):
        engine.load_model.__wrapped__("tiny")
    assert calls, "whisper should have tried to download the real weights"


def test_a_cache_folder_it_cannot_write_is_not_called_a_download_failure(monkeypatch, tmp_path):
    cache = tmp_path / "read-only"
    cache.mkdir()
    monkeypatch.setenv(engine.ENV_CACHE, str(cache))
    monkeypatch.setattr("os.makedirs", lambda *a, **k: _raise(PermissionError(13, "Permission denied", str(cache))))
    with pytest.raises(PermissionError, match="Permission denied"):
        engine.load_model.__wrapped__("tiny")


def _raise(error: BaseException):
    raise error


@pytest.mark.parametrize(("options", "message"), [
    (TranscribeOptions(model="huge"), "unknown model 'huge'"),
    (TranscribeOptions(task="summarize"), "unknown task 'summarize'"),
    (TranscribeOptions(language="klingon"), "unknown language 'klingon'"),
    (TranscribeOptions(model="tiny.en", task="translate"), "tiny.en is English-only"),
    (TranscribeOptions(model="base.en", language="de"), "base.en is English-only"),
    (TranscribeOptions(whisper_options={"beam_size": 5, "gpu": True}), r"unknown whisper_options \['gpu'\]"),
])
def test_bad_options_fail_before_any_work(options, message):
    with pytest.raises(ValueError, match=message):
        engine.check_options(options)


def test_language_names_become_codes():
    assert engine.check_options(TranscribeOptions(language="German")).language == "de"
    assert engine.check_options(TranscribeOptions(language="EN")).language == "en"
    assert engine.check_options(TranscribeOptions()).language is None


def test_transcription_is_deterministic_and_inside_the_audio(checkpoint, tmp_path):
    speech = audio.load(offline.speak("One two three. The quick brown fox.", tmp_path / "speech.mp3"))
    model = engine.load_model(str(checkpoint))
    assert engine.load_model(str(checkpoint)) is model  # once per process
    options = engine.check_options(TranscribeOptions(whisper_options=FAST))
    first = engine.transcribe(model, speech, options)
    second = engine.transcribe(model, speech, options)
    assert first == second
    assert first["language"] in whisper.tokenizer.LANGUAGES
    duration = len(speech) / audio.SAMPLE_RATE
    assert first["segments"], "greedy decoding with random weights still emits segments"
    for segment in first["segments"]:
        assert 0 <= segment["start"] <= segment["end"] <= duration
