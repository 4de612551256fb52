"""A PNG of a run's report, for people (the tests assert on the DOM instead): `make screenshot`.

    scripts/screenshot.py [--store ./transcripts] [--run latest] [--out report.png] [--open youtube/jNQXAC9IVRw]

The store defaults to $TRANSCRIPTION_STORE, else the demo's ./transcripts; the run to the newest one with a report.
Transcripts are opened (all, or those named by --open) so the picture shows them. Needs a local store (file://).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "tests")]

from browser import chromium  # noqa: E402
from transcription import results  # noqa: E402


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--store", default=os.environ.get("TRANSCRIPTION_STORE", str(ROOT / "transcripts")))
    cli.add_argument("--run", default=results.LATEST, help="a DAG run id (default: the newest with a report)")
    cli.add_argument("--out", type=Path, default=ROOT / "report.png")
    cli.add_argument("--open", action="append", metavar="KEY", help="open only these transcripts (default: all)")
    args = cli.parse_args()

    run = results.load_run(args.store, args.run)
    if not run.report.startswith("file://"):
        sys.exit(f"screenshot: {run.report} is not a local file; copy the run's folder here first")
    with chromium() as driver:
        driver.get(run.report)
        driver.execute_script(
            "document.querySelectorAll('details.transcript').forEach(d => {"
            " d.open = arguments[0] === null || arguments[0].includes(d.id); });", args.open)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(height + 100, 16000))
        args.out.write_bytes(driver.get_screenshot_as_png())
    print(f"screenshot: {args.out} (run {run.run_id}, {len(run.table)} videos)")


if __name__ == "__main__":
    main()
