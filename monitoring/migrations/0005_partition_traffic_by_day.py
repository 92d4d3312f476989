"""Partition monitoring_attempt and monitoring_request by day on started_at (native RANGE partitioning).

Each table is rebuilt as a partitioned table with a DEFAULT partition, its rows copied over, its
indexes recreated under their own names (as partitioned indexes); the primary key becomes
(id, started_at), since it must hold the partition key. Day partitions are then made for the rows
and for the days ahead (monitoring.partitions, which the beat task runs from then on).
"""

from typing import Any

from django.db import migrations, models
from django.utils import timezone

_PARTITION = """
DO $$
DECLARE
    definitions text[];
    definition text;
BEGIN
    SELECT coalesce(array_agg(indexdef), '{{}}') INTO definitions FROM pg_indexes
     WHERE schemaname = current_schema() AND tablename = '{table}'
       AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'p');
    CREATE TABLE {table}_partitioned (LIKE {table} INCLUDING DEFAULTS) PARTITION BY RANGE (started_at);
    ALTER TABLE {table}_partitioned ADD CONSTRAINT {table}_partitioned_pkey PRIMARY KEY (id, started_at);
    CREATE TABLE {table}_default PARTITION OF {table}_partitioned DEFAULT;
    INSERT INTO {table}_partitioned SELECT * FROM {table};
    DROP TABLE {table};
    ALTER TABLE {table}_partitioned RENAME TO {table};
    ALTER TABLE {table} RENAME CONSTRAINT {table}_partitioned_pkey TO {table}_pkey;
    FOREACH definition IN ARRAY definitions LOOP
        EXECUTE definition;
    END LOOP;
END $$;
"""


def _make_day_partitions(apps: Any, schema_editor: Any) -> None:

    from monitoring.partitions import maintain_partitions

    # Migrating never deletes rows: the retention is applied by the first beat run after it.
    maintain_partitions(now=timezone.now(), retention_days=100 * 365)


def _composite_pk(model_name: str) -> list[migrations.operations.base.Operation]:
    return [
        migrations.AddField(
            model_name=model_name,
            name="pk",
            field=models.CompositePrimaryKey(
                "id", "started_at", blank=True, editable=False, primary_key=True, serialize=False
            ),
        ),
        migrations.AlterField(model_name=model_name, name="id", field=models.UUIDField()),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0004_merge_rollups_probes_incidents"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(_PARTITION.format(table="monitoring_attempt")),
                migrations.RunSQL(_PARTITION.format(table="monitoring_request")),
            ],
            state_operations=[*_composite_pk("attempt"), *_composite_pk("request")],
        ),
        migrations.RunPython(_make_day_partitions, migrations.RunPython.noop),
    ]
