"""facility_vacant_idx: the radius search's covering index over the facilities with a vacancy
only (issue 12, ADR 0053). A search for vacancies reads about a third of the index entries it
read from facility_search_idx; built in about 5 s on 250,000 facilities (writes wait meanwhile).
"""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("directory", "0006_search_kind_bigrams_autovacuum")]

    operations = [
        migrations.AddIndex(
            model_name="facility",
            index=models.Index(
                condition=models.Q(("is_active", True), ("vacancy_status__in", ["available", "few"])),
                fields=["geo_cell", "kind", "capability_mask", "lat", "lng", "id"],
                name="facility_vacant_idx",
            ),
        ),
    ]
