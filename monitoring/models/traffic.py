"""Traffic data: every upstream attempt, and every request as its client saw it.

The gateway writes both tables with COPY (gateway.events.log); their columns are the fields of
gateway.events.records, which a test keeps in step with these models. Everything that reads
traffic (usage, health, and the rollups and SLA figures to come) reads it here.

Both tables are partitioned by day on started_at (monitoring.partitions creates, fills and drops
the partitions), so their primary key is (id, started_at): an event id is still unique, because an
event always carries the same started_at.
"""

from django.db import models


class Attempt(models.Model):
    """One upstream attempt of one proxied request."""

    pk = models.CompositePrimaryKey("id", "started_at")
    id = models.UUIDField()
    request_id = models.CharField(max_length=128, db_index=True)
    attempt = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(db_index=True)
    org_id = models.BigIntegerField(null=True, db_index=True)
    key_id = models.BigIntegerField(null=True)
    requested_model = models.CharField(max_length=200)
    model = models.CharField(max_length=200)
    provider = models.CharField(max_length=100)
    deployment = models.CharField(max_length=300)
    stream = models.BooleanField()
    outcome = models.CharField(max_length=32)
    status_code = models.IntegerField(null=True)
    error = models.TextField(blank=True, default="")
    latency_ms = models.FloatField()
    ttft_ms = models.FloatField(null=True)
    prompt_tokens = models.IntegerField(null=True)
    completion_tokens = models.IntegerField(null=True)
    cached_tokens = models.IntegerField(null=True)
    rescued = models.BooleanField(default=False)
    final = models.BooleanField(default=False)
    malformed_events = models.IntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=20, decimal_places=12, null=True)

    class Meta:
        db_table = "monitoring_attempt"
        indexes = [models.Index(fields=["deployment", "started_at"], name="gateway_att_deploym_732644_idx")]


class Request(models.Model):
    """One request the gateway accepted (its key was good), with the status its client got."""

    pk = models.CompositePrimaryKey("id", "started_at")
    id = models.UUIDField()
    request_id = models.CharField(max_length=128, db_index=True)
    started_at = models.DateTimeField(db_index=True)
    org_id = models.BigIntegerField()
    key_id = models.BigIntegerField()
    inbound = models.CharField(max_length=40)
    requested_model = models.CharField(max_length=200)
    model = models.CharField(max_length=200)
    provider = models.CharField(max_length=100)
    stream = models.BooleanField()
    status = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=32)
    error_code = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField()
    failovers = models.PositiveSmallIntegerField()
    rescued = models.BooleanField()
    latency_ms = models.FloatField()
    ttft_ms = models.FloatField(null=True)
    prompt_tokens = models.IntegerField(null=True)
    completion_tokens = models.IntegerField(null=True)
    cost_usd = models.DecimalField(max_digits=20, decimal_places=12, null=True)

    class Meta:
        db_table = "monitoring_request"
        indexes = [models.Index(fields=["org_id", "started_at"], name="monitoring_request_org_time")]
