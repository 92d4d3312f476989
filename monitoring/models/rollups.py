"""Traffic rolled up per minute, hour and day, and the 5-minute windows effective uptime is computed from.

Written only by monitoring.rollups (set-based upserts, keyed by their primary keys); read by
monitoring.uptime, so that no page or report reads raw traffic. Definitions: docs/uptime.md.
"""

from django.db import models
from django.contrib.postgres.indexes import BrinIndex

from gateway.events.outcomes import FailureClass

# The column each failure class is counted in, in every rollup.
FAILURE_COLUMNS: dict[FailureClass, str] = {cls: f"failures_{cls.name.lower()}" for cls in FailureClass}
# The summed columns every rollup row has, at every level and in both dimensions.
COUNT_COLUMNS = [
    "requests",
    "successes",
    *FAILURE_COLUMNS.values(),
    "downtime_failures",
    "failovers",
    "rescued",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
]


class Counts(models.Model):
    """What every rollup row counts over its bucket (the start of its minute, hour or UTC day)."""

    bucket = models.DateTimeField()
    requests = models.BigIntegerField()
    successes = models.BigIntegerField()
    failures_timeout = models.BigIntegerField()
    failures_server_error = models.BigIntegerField()
    failures_rate_limited = models.BigIntegerField()
    failures_connection = models.BigIntegerField()
    failures_misconfigured = models.BigIntegerField()
    failures_client_error = models.BigIntegerField()
    downtime_failures = models.BigIntegerField()  # gateway.events.outcomes.counts_as_downtime
    failovers = models.BigIntegerField()
    rescued = models.BigIntegerField()
    prompt_tokens = models.BigIntegerField()
    completion_tokens = models.BigIntegerField()
    cost_usd = models.DecimalField(max_digits=24, decimal_places=12)
    latency_hist = models.JSONField()  # monitoring.sketch, successful requests only
    ttft_hist = models.JSONField()

    class Meta:
        abstract = True


class DeploymentRollup(Counts):
    """Per deployment, from the attempts: ``requests`` counts attempts."""

    deployment = models.CharField(max_length=300)
    provider = models.CharField(max_length=100)

    class Meta:
        abstract = True


class RequestRollup(Counts):
    """Per organisation, requested model and key, from the requests their clients made."""

    org_id = models.BigIntegerField()
    model = models.CharField(max_length=200)  # the model the client asked for
    key_id = models.BigIntegerField()
    # Requests the gateway answered itself (gateway.events.records.LOCAL_INBOUNDS): counted here and
    # nowhere else in the row, so they never reach uptime, latency or error figures.
    local_requests = models.BigIntegerField()

    class Meta:
        abstract = True


class DeploymentMinute(DeploymentRollup):
    pk = models.CompositePrimaryKey("deployment", "provider", "bucket")

    class Meta:
        indexes = [BrinIndex(fields=["bucket"], name="monitoring_depmin_bucket")]


class DeploymentHour(DeploymentRollup):
    pk = models.CompositePrimaryKey("deployment", "provider", "bucket")

    class Meta:
        indexes = [BrinIndex(fields=["bucket"], name="monitoring_dephour_bucket")]


class DeploymentDay(DeploymentRollup):
    pk = models.CompositePrimaryKey("deployment", "provider", "bucket")


class RequestMinute(RequestRollup):
    pk = models.CompositePrimaryKey("org_id", "model", "key_id", "bucket")

    class Meta:
        indexes = [BrinIndex(fields=["bucket"], name="monitoring_reqmin_bucket")]


class RequestHour(RequestRollup):
    pk = models.CompositePrimaryKey("org_id", "model", "key_id", "bucket")

    class Meta:
        indexes = [BrinIndex(fields=["bucket"], name="monitoring_reqhour_bucket")]


class RequestDay(RequestRollup):
    pk = models.CompositePrimaryKey("org_id", "model", "key_id", "bucket")


class UptimeWindow(models.Model):
    """One non-empty 5-minute window (aligned to :00, :05 … UTC) of an organisation's traffic, for all
    its models (``model`` empty) and for each model: what effective uptime and downtime minutes read."""

    org_id = models.BigIntegerField()
    model = models.CharField(max_length=200, blank=True)
    window_start = models.DateTimeField()
    requests = models.BigIntegerField()
    downtime_failures = models.BigIntegerField()
    downtime_minutes = models.SmallIntegerField()  # minutes of the window whose error rate exceeded 5 %

    pk = models.CompositePrimaryKey("org_id", "model", "window_start")

    class Meta:
        indexes = [
            BrinIndex(fields=["window_start"], name="monitoring_upwin_start"),
            # Effective uptime sums the error rates of failing windows only: few, even over 90 days.
            models.Index(
                fields=["org_id", "model", "window_start"],
                condition=models.Q(downtime_failures__gt=0),
                name="monitoring_upwin_failing",
            ),
        ]


class _UptimeSums(models.Model):
    org_id = models.BigIntegerField()
    model = models.CharField(max_length=200, blank=True)
    requests = models.BigIntegerField()
    downtime_failures = models.BigIntegerField()
    downtime_minutes = models.IntegerField()

    class Meta:
        abstract = True


class UptimeHour(_UptimeSums):
    """The sums of an hour's uptime windows (UTC hours), per organisation and model: what long ranges read
    instead of their 12 windows an hour. Windows stay the source; this is rolled from them."""

    hour = models.DateTimeField()
    pk = models.CompositePrimaryKey("org_id", "model", "hour")

    class Meta:
        indexes = [BrinIndex(fields=["hour"], name="monitoring_uphour_start")]


class UptimeDay(_UptimeSums):
    """The sums of a UTC day's uptime hours, per organisation and model (rolled from UptimeHour)."""

    day = models.DateTimeField()
    pk = models.CompositePrimaryKey("org_id", "model", "day")

    class Meta:
        indexes = [BrinIndex(fields=["day"], name="monitoring_upday_start")]


class RollupBacklog(models.Model):
    """A span of raw traffic that changed after its rollups were made (late events): rolled again,
    then deleted, by the next rollup run."""

    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
