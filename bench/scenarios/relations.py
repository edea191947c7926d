"""select_related / prefetch_related vs hand-written batched key lookups."""

from __future__ import annotations

from django.db import NotSupportedError

from bench.models import Blog, Entry
from bench.peers import ENTRIES_PER_BLOG, Work
from bench.scenarios import Context
from bench.scenarios.reads import sql_dicts


def _blogs_and_entries(ctx: Context) -> None:
    count = ctx.sizes.related
    blogs = count // ENTRIES_PER_BLOG
    ctx.fill(Blog, blogs, lambda i: Blog(id=i + 1, name=f"blog {i}"))
    ctx.fill(
        Entry,
        count,
        lambda i: Entry(blog_id=i % blogs + 1, title=f"entry {i}", rank=i),
    )


def _probe(ctx: Context, method: str) -> dict[str, str]:
    """ORM variants on which ``Entry.objects.<method>("blog")`` is refused, and why."""
    refused = {}
    for name, alias in ctx.opened.orm.items():
        try:
            list(getattr(Entry.objects.using(alias), method)("blog")[:1])
        except NotSupportedError as error:
            refused[name] = f"{method}() raises NotSupportedError: {error}"
    return refused


def _related(ctx: Context, method: str):
    count = ctx.sizes.related

    def orm(alias, state):
        entries = getattr(Entry.objects.using(alias), method)("blog").order_by("pk")
        return len([entry.blog.name for entry in entries])

    if ctx.kind == "mongodb":

        def raw(db, state):
            entries = list(db["bench_entry"].find().sort("_id", 1))
            keys = list({entry["blog_id"] for entry in entries})
            blogs = {blog["_id"]: blog for blog in db["bench_blog"].find({"_id": {"$in": keys}})}
            return len([blogs[entry["blog_id"]]["name"] for entry in entries])
    elif method == "select_related":

        def raw(conn, state):
            rows = sql_dicts(
                conn,
                "SELECT e.*, b.name AS blog_name FROM bench_entry e "
                "JOIN bench_blog b ON b.id = e.blog_id ORDER BY e.id",
            )
            return len([row["blog_name"] for row in rows])
    else:

        def raw(conn, state):
            entries = sql_dicts(conn, "SELECT * FROM bench_entry ORDER BY id")
            keys = list({entry["blog_id"] for entry in entries})
            marks = ", ".join(["%s"] * len(keys))
            blogs = sql_dicts(conn, f"SELECT * FROM bench_blog WHERE id IN ({marks})", keys)
            by_key = {blog["id"]: blog for blog in blogs}
            return len([by_key[entry["blog_id"]]["name"] for entry in entries])

    _blogs_and_entries(ctx)
    case = ctx.case(
        "relations",
        f"{method}('blog') over {count:,} rows",
        work=Work(method, "blog", count),
        orm=orm,
        raw=raw,
        skip_orm=_probe(ctx, method),
    )
    case.prepare = lambda: _blogs_and_entries(ctx)
    return case


def cases(ctx: Context):
    return [_related(ctx, "select_related"), _related(ctx, "prefetch_related")]
