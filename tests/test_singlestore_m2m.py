"""Many-to-many tables in SingleStore's distributed layout, used through Django's API.

Auto-created through tables on distributed (or columnstore) storage get
``PRIMARY KEY (from, to)`` and an indexed ``id`` instead of Django's layout. This
runs Django's m2m API, serializers and the rows' ``id`` against such a table on
the tier's server (MariaDB in the mysql dialect; SingleStore when configured).
"""

import pytest
from django.core import serializers
from django.db import connection, models

from tests.singlestore.offline import Registry

pytestmark = pytest.mark.django_db(transaction=True)

STORAGE_ENV = "DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_SHOP"


@pytest.fixture
def shop_tables(monkeypatch):
    if not hasattr(connection, "is_singlestore"):
        pytest.skip(f"SingleStore backend behaviour; this tier runs {connection.vendor}")
    monkeypatch.setenv(STORAGE_ENV, "ROWSTORE")  # distributed: the m2m layout applies
    shop = Registry()
    tag = shop.model("Tag", {"name": models.CharField(max_length=10)})
    post = shop.model("Post", {"tags": models.ManyToManyField(tag, related_name="posts")})
    through = post._meta.get_field("tags").remote_field.through
    with connection.schema_editor() as editor:
        editor.create_model(tag)
        editor.create_model(post)  # creates the through table too
    yield tag, post, through
    with connection.schema_editor() as editor:
        editor.delete_model(post)
        editor.delete_model(tag)


def test_m2m_api_on_the_distributed_layout(shop_tables):
    tag_model, post_model, through = shop_tables
    a, b, c = (tag_model.objects.create(name=name) for name in "abc")
    post = post_model.objects.create()
    post.tags.add(a, b)
    post.tags.add(a)  # already there: no duplicate, no error
    assert sorted(t.name for t in post.tags.all()) == ["a", "b"]
    assert list(a.posts.all()) == [post]
    post.tags.set([b, c])
    assert sorted(t.name for t in post.tags.all()) == ["b", "c"]
    post.tags.remove(b)
    assert [t.name for t in post.tags.all()] == ["c"]
    row = through.objects.get()
    assert through.objects.get(pk=row.pk).tag_id == c.pk  # rows keep their id
    post.tags.clear()
    assert not through.objects.exists()


def test_m2m_rows_serialize(shop_tables):
    """dumpdata's serializer reads m2m values and through rows, ids included.

    (Deserializing needs the models in the project's app registry, which these
    throwaway models are not in; loading goes through the same tags.set().)
    """
    tag_model, post_model, through = shop_tables
    a = tag_model.objects.create(name="a")
    post = post_model.objects.create()
    post.tags.add(a)
    (dumped,) = serializers.serialize("python", post_model.objects.all())
    assert dumped["fields"]["tags"] == [a.pk]
    (row,) = serializers.serialize("python", through.objects.all())
    assert row["pk"] is not None and row["fields"] == {"post": post.pk, "tag": a.pk}
