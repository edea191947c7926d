"""Iterating model instances or values() vs a list of dicts; filters on embedded paths and
list members, and filters returning 100 rows."""

from __future__ import annotations

import json

from bench import data
from bench.models import LargeNested
from bench.peers import FILTERS, Work
from bench.scenarios import Context

#: Columns the raw SQL reader parses from JSON text, as an application would.
JSON_COLUMNS = frozenset({"tags", "address", "items", "attributes"})


def sql_dicts(conn, sql: str, params: tuple = ()) -> list[dict]:
    """What a DB-API user writes to get dicts: fetchall, zip with the column names."""
    cursor = conn.cursor()
    cursor.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    parse = [(i, c) for i, c in enumerate(columns) if c in JSON_COLUMNS]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(columns, values, strict=True))
        for _, column in parse:
            if isinstance(row[column], str | bytes):  # drivers that parse JSON already did
                row[column] = json.loads(row[column])
        rows.append(row)
    cursor.close()
    return rows


def _iterate(ctx: Context, shape: str, scenario: str = "iterate"):
    """Every row of ``shape`` as model instances (``iterate``) or as ``values()`` dicts."""
    model, make = data.SHAPES[shape]
    count = ctx.sizes.rows
    table = model._meta.db_table

    def prepare():
        ctx.fill(model, count, lambda i: data.instance(model, make(i)))

    def orm(alias, state):
        rows = model.objects.using(alias).all()
        return len(list(rows.values() if scenario == "values" else rows))

    if ctx.kind == "mongodb":

        def raw(db, state):
            return len(list(db[table].find()))
    else:

        def raw(conn, state):
            return len(sql_dicts(conn, f"SELECT * FROM {table}"))

    case = ctx.case(
        scenario,
        f"{scenario} {count:,} {shape}",
        work=Work(scenario, shape, count),
        orm=orm,
        raw=raw,
    )
    case.prepare = prepare
    return case


#: Each filter operator (``bench.peers.FILTERS``) as a Django lookup suffix, a MongoDB
#: query on the path, and SQL on the column or JSON path (``%s`` is the parameter).
DJANGO_LOOKUPS = {"eq": "", "contains": "", "lt": "__lt"}
MONGO_QUERIES = {"eq": lambda v: v, "contains": lambda v: v, "lt": lambda v: {"$lt": v}}
SQL_CONDITIONS = {"eq": "{} = %s", "contains": "JSON_CONTAINS({}, %s)", "lt": "{} < %s"}


def _sql_filter(path: str, operator: str, value) -> tuple[str, tuple]:
    column, _, inner = path.partition(".")
    if operator == "contains":
        return SQL_CONDITIONS[operator].format(column), (json.dumps(value),)
    if inner:
        column = f"JSON_UNQUOTE(JSON_EXTRACT({column}, '$.{inner}'))"
    return SQL_CONDITIONS[operator].format(column), (value,)


def _filter(ctx: Context, what: str):
    count = ctx.sizes.rows
    table = LargeNested._meta.db_table
    path, operator, value = FILTERS[what]
    lookup = {path.replace(".", "__") + DJANGO_LOOKUPS[operator]: value}
    mongo_filter = {path: MONGO_QUERIES[operator](value)}
    where, params = _sql_filter(path, operator, value)

    def prepare():
        ctx.fill(LargeNested, count, lambda i: data.instance(LargeNested, data.large_nested(i)))

    def orm(alias, state):
        return len(list(LargeNested.objects.using(alias).filter(**lookup)))

    if ctx.kind == "mongodb":

        def raw(db, state):
            return len(list(db[table].find(mongo_filter)))
    else:

        def raw(conn, state):
            return len(sql_dicts(conn, f"SELECT * FROM {table} WHERE {where}", params))

    key = next(iter(lookup))
    case = ctx.case(
        "filter",
        f"filter {key}= over {count:,} large nested ({what})",
        work=Work("filter", what, count),
        orm=orm,
        raw=raw,
    )
    case.prepare = prepare
    return case


def cases(ctx: Context):
    result = [_iterate(ctx, shape) for shape in data.SHAPES]
    result += [_iterate(ctx, shape, "values") for shape in data.SHAPES]
    return result + [_filter(ctx, what) for what in FILTERS]
