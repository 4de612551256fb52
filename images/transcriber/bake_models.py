"""Bake official Whisper weights into the transcriber image (build time): `python bake_models.py DIR [NAME ...]`.

Uses whisper's own download code, which checks each file's SHA-256, and its own file names (`turbo` is stored as
`large-v3-turbo.pt`), so that `whisper.load_model(NAME, download_root=DIR)` in a pod finds the file and downloads
nothing. No names: nothing to do.
"""

from __future__ import annotations

import sys

import whisper


def bake(root: str, names: list[str]) -> list[str]:
    unknown = [name for name in names if name not in whisper._MODELS]
    if unknown:
        raise SystemExit(f"unknown whisper model(s) {unknown}; choose from: {', '.join(whisper.available_models())}")
    paths = []
    for name in dict.fromkeys(names):  # each once, in the order given
        paths.append(whisper._download(whisper._MODELS[name], root, False))
        print(f"baked {name} → {paths[-1]}", flush=True)
    return paths


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    bake(sys.argv[1], sys.argv[2:])
