# The two commands of README.md. Both install what they need first (scripts/setup.sh, idempotent).
#   make demo [URL=...] [MODEL=tiny]   one local run of the DAG with `airflow dags test`
#   make test                          the whole test suite (what .ci/run runs)
#   make screenshot [RUN=...]          a PNG of the demo's latest report (report.png), for people
.PHONY: demo test screenshot

# The report's figures and page draw every script Whisper writes: CJK and Hangul (WenQuanYi Micro Hei, 1.6 MB),
# Thai, Arabic, Indic and the rest (Noto, 12 MB). fonts-noto-cjk would cover CJK alone, at 56 MB.
FONTS := fonts-wqy-microhei fonts-noto-core

demo:
	scripts/setup.sh requirements.txt $(FONTS)
	.venv/bin/python scripts/demo.py $(if $(URL),--url "$(URL)") $(if $(MODEL),--model "$(MODEL)")

# The tests start their own S3 (Ceph's radosgw) and kube-apiserver on 127.0.0.1 (tests/services/), and open the
# report in a headless chromium (selenium drives Debian's chromium-driver).
test:
	scripts/setup.sh requirements-test.txt $(FONTS) radosgw ceph-mon ceph-osd ceph-common procps chromium \
	  chromium-driver
	@echo "test services: kube-apiserver (built from Debian's source once per machine: ~5 min, then cached)"
	tests/services/kube-apiserver-build.sh
	.venv/bin/python -m pytest $(PYTEST_ARGS)

screenshot:
	scripts/setup.sh requirements-test.txt $(FONTS) chromium chromium-driver
	.venv/bin/python scripts/screenshot.py $(if $(RUN),--run "$(RUN)")
