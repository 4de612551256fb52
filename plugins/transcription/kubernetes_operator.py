"""The transcriber pod's operator: KubernetesPodOperator, minus Jinja on the fields that carry video data.

A separate module so that the provider is imported only by a DAG that runs the Kubernetes backend.
"""

from __future__ import annotations

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

VIDEO_DATA_FIELDS = ("arguments", "labels", "annotations")


class TranscriberPodOperator(KubernetesPodOperator):
    """Arguments, labels and annotations hold a video's title and URL, which are data: Airflow renders mapped
    values nested in expand_kwargs dicts, and a title such as "{{ conn.aws_default.password }}" would be evaluated."""

    template_fields = tuple(f for f in KubernetesPodOperator.template_fields if f not in VIDEO_DATA_FIELDS)
