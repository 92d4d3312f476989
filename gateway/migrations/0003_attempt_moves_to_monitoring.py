from django.db import migrations


class Migration(migrations.Migration):
    """The attempt table now belongs to monitoring (its migration 0001 takes it over, rows included)."""

    dependencies = [("gateway", "0002_attempt_cost_usd"), ("monitoring", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Attempt")], database_operations=[]
        ),
    ]
