"""Side by side, in one process, on the same audio and checkpoint: openai-whisper's sequential `transcribe()` and
this project's batched engine, both greedy. Prints audio-seconds per wall-second for each, their ratio, the work
each did (windows and tokens decoded) and peak memory.

    .venv/bin/python bench/bench_batched.py                       # CPU: tiny dimensions, random weights
    python3 bench/bench_batched.py --dims large-v3 turbo          # GPU: fp16, the real models' shapes
    python3 bench/bench_batched.py --audio speech.wav --minutes 0 # a given 16 kHz mono 16-bit wav

Random weights (no weights can be downloaded here) decode nonsense, and rarely stop before whisper's 224-token
limit, so both engines do the most work per window that real speech could ask of them. The tokens column shows
whether both did the same work; the ratio is only a fair speed-up where it does.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import os
import platform
import resource
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np
import torch
import whisper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins"))
from transcription import batched, offline, windows  # noqa: E402
from transcription.options import TranscribeOptions  # noqa: E402

SAMPLE_RATE = windows.SAMPLE_RATE
TOPICS = ["the river", "a small town", "the night train", "an old library", "the harbour", "a mountain road",
          "the winter market", "a quiet garden", "the lighthouse", "an empty stadium"]


def speech(minutes: float, directory: Path) -> np.ndarray:
    """Paragraphs of espeak-ng speech with pauses of 0.5 to 4 s between them, `minutes` long or a little more."""
    rng = np.random.default_rng(0)
    parts, total, n = [], 0, 0
    while total < minutes * 60 * SAMPLE_RATE:
        topic = TOPICS[n % len(TOPICS)]
        text = (f"Paragraph {n + 1}. This is a story about {topic}. People came and went, and nobody said much. "
                f"Later that day, {topic} was quiet again, and the light changed slowly.")
        spoken = whisper.load_audio(str(offline.speak(text, directory / f"p{n}.wav")))
        pause = np.zeros(int(rng.uniform(0.5, 4.0) * SAMPLE_RATE), dtype=np.float32)
        parts += [spoken, pause]
        total += len(spoken) + len(pause)
        n += 1
    return np.concatenate(parts)


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def read_wav(path: Path) -> np.ndarray:
    """A 16 kHz mono 16-bit wav without ffmpeg (the GPU machine has none)."""
    with wave.open(str(path)) as f:
        assert (f.getframerate(), f.getnchannels(), f.getsampwidth()) == (SAMPLE_RATE, 1, 2), "need 16 kHz mono s16"
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float32) / 32768


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(SAMPLE_RATE)
        f.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


@dataclasses.dataclass
class Work:
    windows: int = 0
    tokens: int = 0


@contextlib.contextmanager
def counting(work: Work):
    """Count the windows and tokens every whisper.decode call decodes (both engines call it)."""
    original = whisper.decoding.decode

    def decode(model, mel, options=whisper.DecodingOptions(), **kwargs):
        results = original(model, mel, options, **kwargs)
        for r in results if isinstance(results, list) else [results]:
            work.windows += 1
            work.tokens += len(r.tokens)
        return results

    whisper.decode = whisper.model.Whisper.decode = decode
    try:
        yield
    finally:
        whisper.decode = whisper.model.Whisper.decode = original


@contextlib.contextmanager
def peak_memory(device: str):
    """Peak memory of the block: CUDA's allocator peak, or the process's resident set sampled every 10 ms."""
    peak = {"bytes": 0}
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        yield peak
        torch.cuda.synchronize()
        peak["bytes"] = torch.cuda.max_memory_allocated()
        return
    done = threading.Event()

    def sample():
        while not done.wait(0.01):
            with open("/proc/self/statm") as f:
                peak["bytes"] = max(peak["bytes"], int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    yield peak
    done.set()
    thread.join()


def timed(name, device, fn, *args, **kwargs):
    work = Work()
    with counting(work), peak_memory(device) as peak:
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
    return {"name": name, "seconds": seconds, "work": work, "peak": peak["bytes"], "result": result}


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--dims", nargs="+", default=["tiny"], choices=list(offline.DIMS))
    cli.add_argument("--minutes", type=float, default=10, help="minutes of espeak-ng speech to generate")
    cli.add_argument("--audio", type=Path, help="a 16 kHz mono 16-bit wav instead (written by --save-audio)")
    cli.add_argument("--save-audio", type=Path, help="write the generated speech here, to carry elsewhere")
    cli.add_argument("--batch-size", type=int, help="default: from free memory (transcription.batched)")
    cli.add_argument("--skip-baseline", action="store_true", help="only the batched engine (e.g. batch sweeps)")
    args = cli.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.audio:
        audio = read_wav(args.audio)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            audio = speech(args.minutes, Path(tmp))
    if args.save_audio:
        write_wav(args.save_audio, audio)
    seconds = len(audio) / SAMPLE_RATE
    hardware = torch.cuda.get_device_name() if device == "cuda" else f"{cpu_name()}, {torch.get_num_threads()} threads"
    print(f"# {dt.date.today()} · {hardware} · torch {torch.__version__} · whisper {whisper.__version__}")
    print(f"# audio: {seconds / 60:.1f} min, {len(windows.plan(audio))} planned windows; random weights, greedy, "
          f"language en, {'fp16' if device == 'cuda' else 'fp32'}")
    print("| dims | engine | batch | wall s | audio s / wall s | windows | tokens | tokens/s | peak memory |")
    print("|---|---|---|---|---|---|---|---|---|")
    for dims in args.dims:
        model = offline.random_model(dims).to(device)
        model = model.half() if device == "cuda" else model  # as engine.load_model does
        size = args.batch_size or batched.batch_size(model)
        greedy = {"temperature": 0, "condition_on_previous_text": False, "compression_ratio_threshold": None,
                  "logprob_threshold": None, "no_speech_threshold": None}
        runs = [] if args.skip_baseline else [timed("whisper transcribe()", device, whisper.transcribe, model, audio,
                                                    language="en", fp16=device == "cuda", verbose=None, **greedy)]
        options = TranscribeOptions(language="en", whisper_options=greedy)
        runs.append(timed("batched", device, batched.transcribe, model, [audio], options, size=size))
        for run in runs:
            speed = seconds / run["seconds"]
            print(f"| {dims} | {run['name']} | {size if run['name'] == 'batched' else 1} | {run['seconds']:.1f} | "
                  f"{speed:.1f} | {run['work'].windows} | {run['work'].tokens} | "
                  f"{run['work'].tokens / run['seconds']:.0f} | {run['peak'] / 2**30:.2f} GiB |")
        if len(runs) == 2:
            baseline, ours = runs
            tokens_ratio = (ours["work"].tokens / ours["seconds"]) / (baseline["work"].tokens / baseline["seconds"])
            print(f"\n**{dims}: batched / sequential = {baseline['seconds'] / ours['seconds']:.2f}× "
                  f"(audio s per wall s), {tokens_ratio:.2f}× (tokens per wall s)**\n")
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
    print(f"# process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
