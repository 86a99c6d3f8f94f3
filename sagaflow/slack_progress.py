"""Slack progress for skills written for sagaflow 0.10 (``from sagaflow.slack_progress import ...``).

Activities every sagaflow worker registers by name, whether or not a ``SkillSpec``
lists them:

* ``report_slack_progress(ReportSlackProgressInput) -> bool``: a title and one line per
  step (``{"name", "status", "detail", "elapsed_s"}``), with the totals;
* ``deliver_artifact_to_slack(DeliverArtifactInput) -> bool``: a file the run wrote
  (inside its run directory or an allowed root), its first 3,000 characters.

Where they go: the Slack incoming webhook named by ``slack.webhook_url`` in
``config.yaml`` or ``SAGAFLOW_SLACK_WEBHOOK_URL`` (read by the worker when it starts).
Every message is also appended to the run's ``slack.jsonl`` with ``posted`` true or
false; without a webhook the worker logs that once. Neither is ever an error for the
run: a failed post is recorded (``error``) and logged. They return True when posted.
"""

from sagaflow._engine.compat_seeds import (
    DeliverArtifactInput,
    ReportSlackProgressInput,
    deliver_artifact_to_slack,
    report_slack_progress,
)

__all__ = [
    "DeliverArtifactInput",
    "ReportSlackProgressInput",
    "deliver_artifact_to_slack",
    "report_slack_progress",
]
