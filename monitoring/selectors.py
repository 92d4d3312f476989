import redis
from django.conf import settings
from django.db import DatabaseError, connection

READY_TIMEOUT_SECONDS = 2


def dependency_problems() -> dict[str, str]:
    """Name each backing service this instance cannot reach, with the reason."""
    problems: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        problems["postgres"] = _first_line(exc)
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=READY_TIMEOUT_SECONDS,
            socket_connect_timeout=READY_TIMEOUT_SECONDS,
        )
        client.ping()
    except (redis.RedisError, OSError) as exc:
        problems["redis"] = _first_line(exc)
    return problems


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
