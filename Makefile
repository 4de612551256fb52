# The two commands of README.md. Both install what they need first (scripts/setup.sh, idempotent).
#   make demo [URL=...] [MODEL=tiny]   one local run of the DAG with `airflow dags test`
#   make test                          the whole test suite (what .ci/run runs)
.PHONY: demo test

demo:
	scripts/setup.sh requirements.txt
	.venv/bin/python scripts/demo.py $(if $(URL),--url "$(URL)") $(if $(MODEL),--model "$(MODEL)")

# The tests start their own S3: Ceph's radosgw on 127.0.0.1 (tests/services/ceph-s3.sh).
test:
	scripts/setup.sh requirements-test.txt radosgw ceph-mon ceph-osd ceph-common procps
	.venv/bin/python -m pytest $(PYTEST_ARGS)
