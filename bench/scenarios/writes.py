"""bulk_create vs insert_many per shape; save() of existing and new rows vs single upserts."""

from __future__ import annotations

from bench import data
from bench.models import SmallFlat
from bench.peers import Work
from bench.scenarios import Context


def _bulk_create(ctx: Context, shape: str):
    model, _ = data.SHAPES[shape]
    count = ctx.sizes.rows
    rows = data.values(shape, count)
    table = model._meta.db_table

    def orm_setup(alias):
        ctx.empty(model)
        return [data.instance(model, row) for row in rows]

    def orm(alias, objs):
        return len(model.objects.using(alias).bulk_create(objs))

    if ctx.kind == "mongodb":

        def raw_setup(db):
            ctx.empty(model)
            return [data.document(row) for row in rows]

        def raw(db, documents):
            return len(db[table].insert_many(documents).inserted_ids)
    else:
        sql = data.insert_sql(model, list(rows[0]))

        def raw_setup(conn):
            ctx.empty(model)
            return [data.sql_params(row) for row in rows]

        def raw(conn, params):
            cursor = conn.cursor()
            cursor.executemany(sql, params)
            cursor.close()
            return len(params)

    case = ctx.case(
        "bulk_create",
        f"bulk_create {count:,} {shape}",
        work=Work("bulk_create", shape, count),
        orm=orm,
        raw=raw,
        orm_setup=orm_setup,
        raw_setup=raw_setup,
    )
    case.cleanup = lambda: ctx.forget(model)
    return case


def _save(ctx: Context, existing: bool):
    """save() one row at a time: changed existing rows, or new rows without a key."""
    count = ctx.sizes.saves
    table = SmallFlat._meta.db_table
    make = data.small_flat

    def orm_setup(alias):
        if existing:
            ctx.fill(SmallFlat, count, lambda i: SmallFlat(**make(i)))
            objs = list(SmallFlat.objects.using(alias).order_by("pk"))
            for obj in objs:
                obj.score += 1
            return objs
        ctx.empty(SmallFlat)
        return [SmallFlat(**make(i)) for i in range(count)]

    def orm(alias, objs):
        for obj in objs:
            obj.save(using=alias)
        return len(objs)

    if ctx.kind == "mongodb":
        from bson import ObjectId

        def raw_setup(db):
            if existing:
                ctx.fill(SmallFlat, count, lambda i: SmallFlat(**make(i)))
                documents = list(db[table].find().sort("_id", 1))
                for document in documents:
                    document["score"] += 1
                return documents
            ctx.empty(SmallFlat)
            return [{"_id": ObjectId(), **make(i)} for i in range(count)]

        def raw(db, documents):
            collection = db[table]
            for document in documents:
                fields = {k: v for k, v in document.items() if k != "_id"}
                collection.update_one({"_id": document["_id"]}, {"$set": fields}, upsert=True)
            return len(documents)
    else:
        columns = list(make(0))
        upsert = (
            f"INSERT INTO {table} (id, {', '.join(columns)}) "
            f"VALUES (%s, {', '.join(['%s'] * len(columns))}) ON DUPLICATE KEY UPDATE "
            + ", ".join(f"{c} = VALUES({c})" for c in columns)
        )
        insert = data.insert_sql(SmallFlat, columns)

        def raw_setup(conn):
            if existing:
                ctx.fill(SmallFlat, count, lambda i: SmallFlat(**make(i)))
                cursor = conn.cursor()
                cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id")
                rows = [list(row) for row in cursor.fetchall()]
                cursor.close()
                for row in rows:
                    row[1 + columns.index("score")] += 1
                return rows
            ctx.empty(SmallFlat)
            return [list(make(i).values()) for i in range(count)]

        def raw(conn, rows):
            cursor = conn.cursor()
            for row in rows:
                cursor.execute(upsert if existing else insert, row)
            cursor.close()
            return len(rows)

    which = "existing" if existing else "new"
    case = ctx.case(
        "save",
        f"save() {count:,} {which} rows",
        unit="save",
        work=Work("save", which, count),
        orm=orm,
        raw=raw,
        orm_setup=orm_setup,
        raw_setup=raw_setup,
    )
    # New rows leave the table with a different content each run.
    case.cleanup = lambda: ctx.forget(SmallFlat)
    return case


def cases(ctx: Context):
    result = [_bulk_create(ctx, shape) for shape in data.SHAPES]
    # An existing row is re-read each run, so the update writes the same change again.
    result.append(_save(ctx, existing=True))
    result.append(_save(ctx, existing=False))
    return result
