"""The submit-once record moves to accounts, shared by every app; recent keys come along."""

from django.db import migrations


def copy_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    Old = apps.get_model("referrals", "IdempotencyKey")
    New = apps.get_model("accounts", "IdempotencyKey")
    for k in Old.objects.all().iterator():
        row = New.objects.create(
            user_id=k.user_id,
            key=k.key,
            scope=k.scope,
            status_code=k.status_code,
            response=k.response,
        )
        New.objects.filter(pk=row.pk).update(created_at=k.created_at)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0002_case_internal_ref"),
        ("accounts", "0004_idempotency_key"),
    ]

    operations = [
        migrations.RunPython(copy_keys, migrations.RunPython.noop),
        migrations.DeleteModel(name="IdempotencyKey"),
    ]
