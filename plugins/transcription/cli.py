"""`python -m transcription`: the transcriber image's entrypoint, and runs without Airflow.

    transcription transcribe --video '{"extractor": ..., "id": ..., "url": ...}' --model small   # one video (or more)
    transcription run https://www.youtube.com/playlist?list=... --model tiny                    # a whole run
    transcription resolve URL ...                                                                # list, no download
    transcription make-checkpoint random-mini.pt                                                 # random weights
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from transcription import offline
from transcription.options import DECODINGS, MODELS, TASKS, TranscribeOptions

EXIT_UNAVAILABLE = 99  # `transcribe`: no video could be transcribed (each recorded as a skip); a pod's task is skipped


def parser() -> argparse.ArgumentParser:
    whisper_args = argparse.ArgumentParser(add_help=False)
    whisper_args.add_argument("--model", default="tiny", help=f"whisper model: {', '.join(MODELS)}, ...")
    whisper_args.add_argument("--task", default="transcribe", choices=TASKS)
    whisper_args.add_argument("--language", default="auto", help="'auto' (detect) or a code such as en, de")
    whisper_args.add_argument("--decoding", default=DECODINGS[0], choices=DECODINGS,
                              help="batched: many windows at once (fast); sequential: whisper.transcribe")
    whisper_args.add_argument("--batch-size", type=int, metavar="N",
                              help="windows per batch (default: $WHISPER_BATCH_SIZE, else from free memory)")
    whisper_args.add_argument("--whisper-options", type=json.loads, default={}, metavar="JSON",
                              help='extra whisper.transcribe options, e.g. \'{"beam_size": 5}\'')
    whisper_args.add_argument("--store", default=None, help="store URL (default: $TRANSCRIPTION_STORE)")
    whisper_args.add_argument("--force", action="store_true", help="redo transcripts that are already stored")
    whisper_args.add_argument("--max-duration", type=float, help="skip videos longer than this many seconds")

    inputs = argparse.ArgumentParser(add_help=False)
    inputs.add_argument("urls", nargs="*", metavar="URL", help="video, playlist, channel or feed URLs")
    inputs.add_argument("--url-file", help="a file (path or URI) with one URL per line")
    inputs.add_argument("--max-videos", type=int, default=50)

    cli = argparse.ArgumentParser(prog="transcription", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = cli.add_subparsers(dest="command", required=True)
    commands.add_parser("resolve", parents=[inputs], help="list the videos an input expands to, as JSON")
    one = commands.add_parser("transcribe", parents=[whisper_args], help="transcribe resolved videos")
    one.add_argument("--video", type=json.loads, required=True, action="append", metavar="JSON", dest="videos",
                     help="a video from `resolve`; several: their windows share the batches (one JSON line each)")
    one.add_argument("--run-id", help="also record the result under runs/<run id>/results/ in the store")
    run = commands.add_parser("run", parents=[inputs, whisper_args], help="resolve, transcribe and report")
    run.add_argument("--title", default="Video transcripts")
    run.add_argument("--run-id")
    run.add_argument("--min-count", type=int, default=2, help="word2vec minimum count for the report's word map")
    checkpoint = commands.add_parser("make-checkpoint", help="write a random-weight checkpoint (not speech!)")
    checkpoint.add_argument("path", type=Path)
    checkpoint.add_argument("--dims", default="mini", choices=list(offline.DIMS))
    checkpoint.add_argument("--seed", type=int, default=0)
    return cli


def options_from(args: argparse.Namespace) -> TranscribeOptions:
    return TranscribeOptions.from_params(vars(args))


def transcribe_arguments(
    videos: Sequence[dict],
    options: TranscribeOptions,
    *,
    store: str,
    run_id: str | None = None,
    force: bool = False,
    max_duration: float | None = None,
) -> list[str]:
    """The `transcribe` command line for videos: what a pod runs to make the in-process launcher's call."""
    arguments = [
        "transcribe", *(a for video in videos for a in ("--video", json.dumps(video))),
        "--model", options.model, "--task", options.task, "--language", options.language or "auto",
        "--decoding", options.decoding, "--whisper-options", json.dumps(options.whisper_options), "--store", store,
    ]
    arguments += ["--run-id", run_id] if run_id else []
    arguments += ["--max-duration", str(max_duration)] if max_duration else []
    return arguments + (["--force"] if force else [])


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if getattr(args, "batch_size", None):
        os.environ["WHISPER_BATCH_SIZE"] = str(args.batch_size)  # transcription.batched.ENV_BATCH_SIZE
    from transcription import pipeline, sources
    from transcription.store import Store

    if args.command == "resolve":
        inputs = sources.read_inputs(urls=args.urls, url_file=args.url_file)
        print(json.dumps(sources.resolve(inputs, max_videos=args.max_videos).as_dict(), indent=2))
    elif args.command == "transcribe":
        results = pipeline.transcribe_videos(args.videos, options_from(args), store=Store(args.store),
                                             force=args.force, run_id=args.run_id, max_duration=args.max_duration)
        for result in results:
            print(json.dumps(result))
        if all(r["status"] == "skipped" for r in results):
            return EXIT_UNAVAILABLE
    elif args.command == "run":
        inputs = sources.read_inputs(urls=args.urls, url_file=args.url_file)
        outcome = pipeline.run(inputs, options_from(args), store=Store(args.store), run_id=args.run_id,
                               title=args.title, max_videos=args.max_videos, force=args.force,
                               min_count=args.min_count, max_duration=args.max_duration)
        print(json.dumps(outcome, indent=2))
        return 1 if outcome["status"].get("failed") else 0
    elif args.command == "make-checkpoint":
        print(offline.make_random_checkpoint(args.path, args.dims, seed=args.seed))
    return 0
