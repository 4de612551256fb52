"""Video links to Whisper transcripts: the logic behind the `video_transcription` DAG.

One module per concern, none of them importing Airflow:
`sources` (input → videos), `audio` (video → samples), `engine` (whisper), `store` (artifacts),
`pipeline` (the per-video step both launchers call), `report`, `results` (past runs from Python), `browse` (past
runs over HTTP: the app the Airflow UI plugin mounts), `offline` (stand-ins for a machine without internet), `cli`
(`python -m transcription`).
"""
