"""Day partitions of the raw tables: made ahead, DEFAULT's rows moved into them, expired ones dropped."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
from django.db import connection

from gateway import db as gateway_db
from tests.monitoring import traffic
from monitoring.models import Request
from monitoring.partitions import day_partitions, maintain_partitions

NOW = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)


def _request(started_at: datetime) -> Request:
    row = traffic.request(started_at)
    row.save(force_insert=True)
    return row


def _partition_of(request: Request) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM monitoring_request WHERE id = %s", [request.id])
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


def test_today_and_the_next_seven_days_get_a_partition_on_both_tables(db: None) -> None:
    done = maintain_partitions(now=NOW, retention_days=30)
    days = {NOW.date() + timedelta(days=n) for n in range(8)}
    assert done.created == 16
    assert days <= set(day_partitions("monitoring_request")) and days <= set(day_partitions("monitoring_attempt"))
    assert _partition_of(_request(NOW + timedelta(days=2))) == "monitoring_request_p20310312"
    again = maintain_partitions(now=NOW, retention_days=30)
    assert (again.created, again.moved, again.dropped) == (0, 0, 0)


def test_rows_of_a_day_without_partition_wait_in_default_then_move_into_their_own(db: None) -> None:
    maintain_partitions(now=NOW, retention_days=30)
    late = _request(datetime(2031, 3, 25, 23, 59, 59, tzinfo=UTC))
    assert _partition_of(late) == "monitoring_request_default"
    done = maintain_partitions(now=NOW, retention_days=30)
    assert (done.created, done.moved) == (1, 1)
    assert _partition_of(late) == "monitoring_request_p20310325"
    assert Request.objects.filter(request_id=late.request_id).count() == 1


def test_partitions_older_than_the_retention_are_dropped_whole(db: None) -> None:
    maintain_partitions(now=NOW, retention_days=30)
    old = _request(datetime(2031, 3, 16, 23, 59, tzinfo=UTC))
    kept = _request(datetime(2031, 3, 17, 0, 1, tzinfo=UTC))
    # 30 days before 2031-04-16 12:00 is 2031-03-17 12:00: the 17th still holds rows to keep.
    done = maintain_partitions(now=datetime(2031, 4, 16, 12, 0, tzinfo=UTC), retention_days=30)
    assert done.dropped == 2 * 7  # the 10th to the 16th, on both tables
    days = set(day_partitions("monitoring_request"))
    assert date(2031, 3, 16) not in days and date(2031, 3, 17) in days
    assert not Request.objects.filter(request_id=old.request_id).exists()
    assert Request.objects.filter(request_id=kept.request_id).exists()


def test_expired_rows_in_default_are_deleted_not_given_a_partition(db: None) -> None:
    stale = _request(datetime(2020, 1, 1, tzinfo=UTC))
    maintain_partitions(now=NOW, retention_days=30)
    assert not Request.objects.filter(request_id=stale.request_id).exists()
    assert date(2020, 1, 1) not in day_partitions("monitoring_request")


def test_a_second_maintainer_waits_for_nothing_and_does_nothing(transactional_db: None) -> None:
    with psycopg.connect(gateway_db.conninfo(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [0x6D6F6E5F70617274 % 2**63])
        assert maintain_partitions(now=NOW, retention_days=30).skipped
        other.execute("SELECT pg_advisory_unlock_all()")
    done = maintain_partitions(now=NOW, retention_days=30)
    assert not done.skipped and done.created == 16
    # Committed: leave the database as migrate made it for the tests that follow.
    with connection.cursor() as cursor:
        for table in ("monitoring_attempt", "monitoring_request"):
            for day, name in day_partitions(table).items():
                if day.year == NOW.year:
                    cursor.execute(f"DROP TABLE {name}")
