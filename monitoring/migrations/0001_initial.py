from django.db import migrations, models


class Migration(migrations.Migration):
    """The attempt table moves from gateway to monitoring (one owner for traffic data), renamed in
    place with its rows; the request table is new."""

    initial = True

    dependencies = [("gateway", "0002_attempt_cost_usd")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Attempt",
                    fields=[
                        ("id", models.UUIDField(primary_key=True, serialize=False)),
                        ("request_id", models.CharField(db_index=True, max_length=128)),
                        ("attempt", models.PositiveSmallIntegerField()),
                        ("started_at", models.DateTimeField(db_index=True)),
                        ("org_id", models.BigIntegerField(db_index=True, null=True)),
                        ("key_id", models.BigIntegerField(null=True)),
                        ("requested_model", models.CharField(max_length=200)),
                        ("model", models.CharField(max_length=200)),
                        ("provider", models.CharField(max_length=100)),
                        ("deployment", models.CharField(max_length=300)),
                        ("stream", models.BooleanField()),
                        ("outcome", models.CharField(max_length=32)),
                        ("status_code", models.IntegerField(null=True)),
                        ("error", models.TextField(blank=True, default="")),
                        ("latency_ms", models.FloatField()),
                        ("ttft_ms", models.FloatField(null=True)),
                        ("prompt_tokens", models.IntegerField(null=True)),
                        ("completion_tokens", models.IntegerField(null=True)),
                        ("cached_tokens", models.IntegerField(null=True)),
                        ("rescued", models.BooleanField(default=False)),
                        ("final", models.BooleanField(default=False)),
                        ("malformed_events", models.IntegerField(default=0)),
                        ("cost_usd", models.DecimalField(decimal_places=12, max_digits=20, null=True)),
                    ],
                    options={
                        "db_table": "gateway_attempt",
                        "indexes": [
                            models.Index(fields=["deployment", "started_at"], name="gateway_att_deploym_732644_idx")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="attempt", table="monitoring_attempt"),
        migrations.CreateModel(
            name="Request",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("request_id", models.CharField(db_index=True, max_length=128)),
                ("started_at", models.DateTimeField(db_index=True)),
                ("org_id", models.BigIntegerField()),
                ("key_id", models.BigIntegerField()),
                ("inbound", models.CharField(max_length=40)),
                ("requested_model", models.CharField(max_length=200)),
                ("model", models.CharField(max_length=200)),
                ("provider", models.CharField(max_length=100)),
                ("stream", models.BooleanField()),
                ("status", models.PositiveSmallIntegerField()),
                ("outcome", models.CharField(max_length=32)),
                ("error_code", models.CharField(max_length=64)),
                ("attempts", models.PositiveSmallIntegerField()),
                ("failovers", models.PositiveSmallIntegerField()),
                ("rescued", models.BooleanField()),
                ("latency_ms", models.FloatField()),
                ("ttft_ms", models.FloatField(null=True)),
                ("prompt_tokens", models.IntegerField(null=True)),
                ("completion_tokens", models.IntegerField(null=True)),
                ("cost_usd", models.DecimalField(decimal_places=12, max_digits=20, null=True)),
            ],
            options={
                "db_table": "monitoring_request",
                "indexes": [models.Index(fields=["org_id", "started_at"], name="monitoring_request_org_time")],
            },
        ),
    ]
