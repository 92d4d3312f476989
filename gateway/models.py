from django.db import models


class Attempt(models.Model):
    """One upstream attempt of one proxied request: the raw event behind usage and uptime."""

    id = models.UUIDField(primary_key=True)
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
        indexes = [models.Index(fields=["deployment", "started_at"])]
