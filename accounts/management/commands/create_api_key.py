from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import SCOPE_MANAGEMENT, Organization
from accounts.services import create_api_key, create_organization


class Command(BaseCommand):
    help = "Create an API key (and its organisation if needed). The key is the last line of stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organisation name; created if missing")
        parser.add_argument("--name", required=True, help="a name for the key, unique in the org")
        parser.add_argument("--models", default="", help="comma-separated allowed models (all if empty)")
        parser.add_argument(
            "--management",
            action="store_true",
            help="let the key call the management API (/api/) as an admin of its organisation",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name or len(name) > 100:
            raise CommandError("--name must be 1 to 100 characters")
        org = Organization.objects.filter(name=options["org"]).order_by("pk").first()
        if org is None:
            org = create_organization(name=options["org"], by_operator=True)
        if org.api_keys.filter(name=name).exists():
            raise CommandError(f"organisation {org.name!r} already has a key named {name!r}")
        models = [m.strip() for m in options["models"].split(",") if m.strip()]
        scopes = [SCOPE_MANAGEMENT] if options["management"] else []
        # The operator's own key: the only way a key acts for no person.
        created = create_api_key(organization=org, name=name, allowed_models=models, scopes=scopes, is_operator=True)
        self.stderr.write(f"Created key {created.api_key.prefix}… in organisation {org.name!r}.")
        self.stdout.write(created.plaintext)
