"""Model instances as the value of an EmbeddedModelField in updates.

Wraps ``django.db.models.sql.UpdateQuery.add_update_fields``. Django's SQL
update compiler refuses a model instance as the value of a field that is not a
relation ("Tried to update field ... with a model instance"), but the value of
an ``EmbeddedModelField`` *is* a model instance: ``update(address=Address(...))``
and the raw saves of ``loaddata`` hit that check on SQL backends. Such values
are wrapped in ``EmbeddedSaveValue``, which the field stores; values of every
other field pass through untouched, so Django's behaviour is unchanged for them.
"""

from django.db.models import Model
from django.db.models.sql.subqueries import UpdateQuery

from django_nonrel.fields.embedded import EmbeddedModelField, EmbeddedSaveValue
from django_nonrel.patches.versions import wrap

PATCH = "embedded_values"


def _make_add_update_fields(original):
    def add_update_fields(self, values_seq):
        values_seq = [
            (field, model, EmbeddedSaveValue(value))
            if isinstance(field, EmbeddedModelField) and isinstance(value, Model)
            else (field, model, value)
            for field, model, value in values_seq
        ]
        return original(self, values_seq)

    return add_update_fields


def apply() -> None:
    wrap(UpdateQuery, "add_update_fields", PATCH, _make_add_update_fields)
