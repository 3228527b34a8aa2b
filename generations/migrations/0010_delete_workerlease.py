# The dispatcher's lease: several dispatchers now share the due rows by claiming them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0009_ledger_submit_keys"),
    ]

    operations = [
        migrations.DeleteModel(
            name="WorkerLease",
        ),
    ]
