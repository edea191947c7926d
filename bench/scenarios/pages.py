"""Bookmark (keyset) pages 1 and N vs an offset page N, against the raw equivalents.

The deep page's bookmark is reached once, untimed, by walking the pages the
way a user's "next" links would.
"""

from __future__ import annotations

import importlib
from typing import Any

from bench import data
from bench.models import SmallFlat
from bench.scenarios import Context
from bench.scenarios.reads import sql_dicts


def paginator_class() -> tuple[Any, str | None]:
    """``BookmarkPaginator``, or None and why this build has none."""
    try:
        module = importlib.import_module("django_nonrel.pagination")
    except ImportError as error:
        return None, f"django_nonrel.pagination cannot be imported ({error})"
    paginator = getattr(module, "BookmarkPaginator", None)
    if paginator is None:
        return None, "django_nonrel.pagination has no BookmarkPaginator"
    return paginator, None


def cases(ctx: Context):
    per_page, deep = ctx.sizes.per_page, ctx.sizes.deep_page
    rows = per_page * deep
    paginator, missing = paginator_class()
    bookmarks: dict[str, Any] = {}

    def queryset(alias):
        return SmallFlat.objects.using(alias).order_by("pk")

    def prepare():
        if ctx.filled.get(SmallFlat) != rows:
            bookmarks.clear()  # keys change when the table is reloaded
        ctx.fill(SmallFlat, rows, lambda i: SmallFlat(**data.small_flat(i)))
        for handle in ctx.opened.raw.values():
            raw_after(handle)  # the raw keyset bookmark, found untimed and uncounted
        if paginator is None:
            return
        for alias in ctx.aliases:
            if alias in bookmarks:
                continue
            bookmark = None
            for _ in range(deep - 1):
                bookmark = paginator(queryset(alias), per_page).page(bookmark).next_bookmark
            bookmarks[alias] = bookmark

    def orm_page(number):
        def run(alias, state):
            bookmark = None if number == 1 else bookmarks[alias]
            return len(list(paginator(queryset(alias), per_page).page(bookmark).object_list))

        return run

    def orm_offset(alias, state):
        low = per_page * (deep - 1)
        return len(list(queryset(alias)[low : low + per_page]))

    if ctx.kind == "mongodb":

        def raw_page(number):
            def run(db, state):
                # The key of the last row of the previous page, as a bookmark holds it.
                after = {} if number == 1 else {"_id": {"$gt": raw_after(db)}}
                found = db["bench_smallflat"].find(after).sort("_id", 1).limit(per_page)
                return len(list(found))

            return run

        def raw_after(db):
            if "raw" not in bookmarks:
                (last,) = (
                    db["bench_smallflat"]
                    .find({}, {"_id": 1})
                    .sort("_id", 1)
                    .skip(per_page * (deep - 1) - 1)
                    .limit(1)
                )
                bookmarks["raw"] = last["_id"]
            return bookmarks["raw"]

        def raw_offset(db, state):
            found = db["bench_smallflat"].find().sort("_id", 1)
            return len(list(found.skip(per_page * (deep - 1)).limit(per_page)))
    else:

        def raw_page(number):
            def run(conn, state):
                if number == 1:
                    sql, params = "SELECT * FROM bench_smallflat ORDER BY id LIMIT %s", [per_page]
                else:
                    sql = "SELECT * FROM bench_smallflat WHERE id > %s ORDER BY id LIMIT %s"
                    params = [raw_after(conn), per_page]
                return len(sql_dicts(conn, sql, params))

            return run

        def raw_after(conn):
            key = f"raw-{id(conn)}"
            if key not in bookmarks:
                cursor = conn.cursor()
                cursor.execute(
                    "SELECT id FROM bench_smallflat ORDER BY id LIMIT 1 OFFSET %s",
                    [per_page * (deep - 1) - 1],
                )
                bookmarks[key] = cursor.fetchone()[0]
                cursor.close()
            return bookmarks[key]

        def raw_offset(conn, state):
            sql = "SELECT * FROM bench_smallflat ORDER BY id LIMIT %s OFFSET %s"
            return len(sql_dicts(conn, sql, [per_page, per_page * (deep - 1)]))

    unavailable = {}
    if missing:
        unavailable = {name: missing for name in ctx.opened.orm}
    result = []
    for number in (1, deep):
        case = ctx.case(
            "pages",
            f"bookmark page {number:,} ({per_page} rows per page)",
            orm=orm_page(number),
            raw=raw_page(number),
            skip_orm=unavailable,
        )
        case.prepare = prepare
        result.append(case)
    case = ctx.case(
        "pages",
        f"offset page {deep:,} ({per_page} rows per page)",
        orm=orm_offset,
        raw=raw_offset,
    )
    case.prepare = prepare
    result.append(case)
    return result
