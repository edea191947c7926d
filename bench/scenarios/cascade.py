"""Deleting one parent with many children (CASCADE, no signals connected)."""

from __future__ import annotations

from bench.models import Child, Parent
from bench.scenarios import Context


def cases(ctx: Context):
    count = ctx.sizes.children

    def make_family(alias: str) -> int:
        ctx.empty(Child)
        ctx.empty(Parent)
        parent = Parent.objects.using(alias).create(name="parent")
        Child.objects.using(alias).bulk_create(
            Child(parent=parent, name=f"child {i}", position=i) for i in range(count)
        )
        return parent.pk

    def orm_setup(alias):
        return Parent.objects.using(alias).get(pk=make_family(alias))

    def orm(alias, parent):
        deleted, _ = parent.delete()
        return deleted

    if ctx.kind == "mongodb":

        def raw_setup(db):
            return make_family("default")

        def raw(db, pk):
            children = db["bench_child"].delete_many({"parent_id": pk}).deleted_count
            return children + db["bench_parent"].delete_one({"_id": pk}).deleted_count
    else:

        def raw_setup(conn):
            alias = "default" if conn is ctx.opened.raw["raw"] else "singlestore"
            return make_family(alias)

        def raw(conn, pk):
            cursor = conn.cursor()
            cursor.execute("DELETE FROM bench_child WHERE parent_id = %s", [pk])
            deleted = cursor.rowcount
            cursor.execute("DELETE FROM bench_parent WHERE id = %s", [pk])
            deleted += cursor.rowcount
            cursor.close()
            return deleted

    case = ctx.case(
        "cascade",
        f"delete a parent with {count:,} children",
        orm=orm,
        raw=raw,
        orm_setup=orm_setup,
        raw_setup=raw_setup,
    )
    case.cleanup = lambda: (ctx.forget(Child), ctx.forget(Parent))
    return [case]
