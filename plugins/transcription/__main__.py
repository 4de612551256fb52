from transcription.cli import main

if __name__ == "__main__":  # Airflow's plugin loader imports this file too
    raise SystemExit(main())
