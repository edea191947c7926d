"""count(limit=N): an upper bound the database computes, vs the raw limited count and count()."""

from __future__ import annotations

from bench import data
from bench.models import SmallFlat
from bench.scenarios import Context


def cases(ctx: Context):
    rows, limit = ctx.sizes.count_rows, ctx.sizes.count_limit

    def prepare():
        ctx.fill(SmallFlat, rows, lambda i: SmallFlat(**data.small_flat(i)))

    def orm_limited(alias, state):
        return SmallFlat.objects.using(alias).count(limit=limit)

    def orm_full(alias, state):
        return SmallFlat.objects.using(alias).count()

    if ctx.kind == "mongodb":

        def raw_limited(db, state):
            return db["bench_smallflat"].count_documents({}, limit=limit)

        def raw_full(db, state):
            return db["bench_smallflat"].count_documents({})
    else:

        def scalar(conn, sql):
            cursor = conn.cursor()
            cursor.execute(sql)
            value = cursor.fetchone()[0]
            cursor.close()
            return value

        def raw_limited(conn, state):
            sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM bench_smallflat LIMIT {limit}) AS t"
            return scalar(conn, sql)

        def raw_full(conn, state):
            return scalar(conn, "SELECT COUNT(*) FROM bench_smallflat")

    limited = ctx.case(
        "count", f"count(limit={limit}) over {rows:,} rows", orm=orm_limited, raw=raw_limited
    )
    full = ctx.case("count", f"count() over {rows:,} rows", orm=orm_full, raw=raw_full)
    limited.prepare = full.prepare = prepare
    return [limited, full]
