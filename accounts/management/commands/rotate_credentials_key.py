from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.services import rotate_credentials_key


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored provider credential with the first key of CREDENTIALS_KEYS. "
        "Safe to run again: rows already under that key are left alone."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = rotate_credentials_key()
        self.stdout.write(
            f"Re-encrypted {report.reencrypted} credential(s); {report.already_current} already used the first key."
        )
        if report.changed_meanwhile:
            self.stdout.write(
                f"{report.changed_meanwhile} credential(s) changed while rotating and were skipped: run again."
            )
        if report.unreadable:
            ids = ", ".join(str(pk) for pk in report.unreadable)
            raise CommandError(
                f"{len(report.unreadable)} credential(s) could not be decrypted with any configured key "
                f"(ids {ids}): put back the key they were encrypted with, or have them entered again."
            )
