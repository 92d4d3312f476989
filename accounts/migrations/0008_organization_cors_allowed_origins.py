from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_organization_timezone'),
    ]

    operations = [
        migrations.AddField(
            model_name='organization',
            name='cors_allowed_origins',
            field=models.JSONField(blank=True, default=list),
        ),
    ]
