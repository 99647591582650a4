"""Applications' retry keys move to the platform's one submit-once record (accounts)."""

from django.db import migrations


def copy_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    Application = apps.get_model("events", "Application")
    IdempotencyKey = apps.get_model("accounts", "IdempotencyKey")
    IdempotencyKey.objects.bulk_create(
        [
            IdempotencyKey(
                user=None,
                key=a.idempotency_key,
                scope=f"events:{a.event_id}:apply",
                fingerprint=a.request_hash,
                status_code=201,
                response={"application": a.pk},
            )
            for a in Application.objects.exclude(idempotency_key="").only(
                "pk", "event_id", "idempotency_key", "request_hash"
            )
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0003_resident_needs"),
        ("accounts", "0004_idempotency_key"),
    ]

    operations = [
        migrations.RunPython(copy_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="application", name="uniq_event_idempotency_key"),
        migrations.RemoveField(model_name="application", name="idempotency_key"),
        migrations.RemoveField(model_name="application", name="request_hash"),
    ]
