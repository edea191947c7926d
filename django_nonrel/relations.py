"""Relations without JOINs: key lookups and batched follow-up fetches.

Django describes a relation-spanning query with table aliases joined to the
base table (``Query.alias_map``: ``Join`` objects saying which column of the
parent alias equals which column of the joined table). A document store runs
no JOIN, so this module answers the two questions a join answers, one batched
command per relation hop:

- *which base rows qualify* (filters): the condition on the joined table runs
  against that collection and yields the set of join keys that satisfy it
  (``distinct``); the base query then filters ``column IN keys``. A chain of
  hops runs from the deepest table up, one command each.
- *what the joined row holds* (``values("author__name")``, ``select_related``,
  multi-table inheritance): after the base rows are fetched, the join keys they
  hold are collected and the related rows fetched with one ``$in`` command per
  hop, then matched in Python.

Key sets are bounded by ``features.max_keys_per_command``: a lookup producing
more keys than one command can carry raises ``NotSupportedError`` (narrow the
related condition, or store the value you filter on in the base document).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import NotSupportedError
from django.db.models import ForeignObjectRel
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql.constants import LOUTER
from django.db.models.sql.datastructures import Join
from django.db.models.sql.where import WhereNode

from django_nonrel.described_reads import StepValue
from django_nonrel.leaves import LeafBuilder, conjunction
from django_nonrel.paths import hashable
from django_nonrel.query import AND, OR, Filter, Leaf, Node, NonrelQuery
from django_nonrel.sql_restrictions import as_lookups, side_models


def join_of(query, alias: str) -> Join:
    """The ``Join`` that brought ``alias`` into ``query``, checked for what we emulate."""
    join = query.alias_map[alias]
    if not isinstance(join, Join):
        raise NotSupportedError(
            f"The table alias {alias!r} is not a join this backend can emulate."
        )
    if not join.join_cols:
        if join.join_field.get_extra_restriction(join.table_alias, join.parent_alias) is None:
            raise ValueError("Join generated an empty ON clause.")  # as Join.as_sql
        raise NotSupportedError(
            f"The relation joining {alias!r} has no key columns (its whole join condition "
            "is get_extra_restriction()); this backend follows relations by key lookups. "
            "Filter the related model directly instead."
        )
    return join


def is_composite(join: Join) -> bool:
    """Whether the join matches several column pairs (``ForeignObject`` over
    ``from_fields=[a, b]``, a composite primary key)."""
    return len(join.join_cols) > 1


def tuple_condition(join: Join, tuples: list[tuple[Any, ...]]) -> Filter:
    """Parent rows whose key columns equal one of ``tuples``."""
    fields = [pair[0] for pair in join.join_fields] if join.join_fields else None
    return tuples_filter([pair[0] for pair in join.join_cols], tuples, fields)


def tuples_filter(
    columns: Sequence[str], tuples: Sequence[Sequence[Any]], fields: list[Any] | None = None
) -> Filter:
    """Rows whose ``columns`` hold one of ``tuples`` (stored values): an OR of ANDs
    of equalities, as a document filter has no row values."""
    alternatives = [
        Node(
            AND,
            [
                Leaf(path=(column,), lookup="exact", value=value, field=fields and fields[i])
                for i, (column, value) in enumerate(zip(columns, values, strict=True))
            ],
        )
        for values in tuples
    ]
    if not alternatives:
        return False
    return alternatives[0] if len(alternatives) == 1 else Node(OR, alternatives)


def row_key(document: dict[str, Any] | None, columns: Sequence[str]) -> Any:
    """The join key a stored row holds in ``columns``: the value of one column, a
    tuple of several (None when a column is NULL: it joins nothing)."""
    if document is None:
        return None
    if len(columns) == 1:
        return hashable(document.get(columns[0]))
    values = tuple(hashable(document.get(column)) for column in columns)
    return None if None in values else values


def chain_to(query, base_alias: str, alias: str) -> list[str]:
    """Aliases from the one joined to ``base_alias`` down to ``alias`` (inclusive)."""
    chain = []
    while alias != base_alias:
        chain.append(alias)
        join = query.alias_map.get(alias)
        if join is None or not isinstance(join, Join) or join.parent_alias is None:
            raise NotSupportedError(
                f"The table alias {alias!r} is not reachable from the queried table; "
                "references to outer queries (OuterRef) are not supported here."
            )
        alias = join.parent_alias
    chain.reverse()
    return chain


def join_restriction(connection, join: Join) -> tuple[Filter, Filter]:
    """The extra ON condition of a join (a generic relation's content type), or True.

    Returned as (condition on the joined table, condition on the parent table):
    ``Animal.tags`` restricts the tagged items' content type, the reverse join
    from a tagged item to its animal restricts the item itself. The restriction
    must be Django lookups (a WhereNode, as GenericRelation's, or one lookup)
    or a class that renders a column compared with parameters (django-taggit's,
    read back by ``sql_restrictions``); other SQL cannot be run and is refused.

    A ``FilteredRelation()`` join adds its condition to the joined table's side:
    as in SQL's ON clause, it decides which related rows the join finds.
    """
    joined, parent = restriction_filters(
        connection, join.join_field, join.table_alias, join.parent_alias
    )
    if join.filtered_relation is None:
        return joined, parent
    return conjunction([joined, filtered_relation_condition(connection, join)]), parent


def filtered_relation_condition(connection, join: Join) -> Filter:
    """A ``FilteredRelation()``'s condition on the table it joins (True: none).

    Django resolves the condition when it makes the join
    (``FilteredRelation.resolved_condition``: lookups on the join's alias). A
    condition on another table of the relation's path (``FilteredRelation("a__b",
    condition=Q(a__x=1))``) is a condition between two joined tables, which key
    lookups cannot run, and is refused.
    """
    condition = join.filtered_relation.resolved_condition
    if condition is None:
        return True
    aliases = {
        part.alias
        for member in _members(condition)
        if not isinstance(member, WhereNode)
        for part in member.flatten()
        if isinstance(part, Col)
    }
    if not aliases <= {join.table_alias}:
        raise NotSupportedError(
            f"The condition of FilteredRelation({join.filtered_relation.relation_name!r}) "
            "reads fields of a table other than the one it joins; this backend follows "
            "relations by key lookups and can only filter the joined rows themselves. "
            "Filter the queryset on those fields instead."
        )

    def no_subqueries(subquery):
        raise NotSupportedError("Subqueries in a FilteredRelation() condition are not supported.")

    return LeafBuilder(connection, join.table_alias, no_subqueries).build_tree(condition)


def restriction_filters(
    connection, field, table_alias: str, parent_alias: str
) -> tuple[Filter, Filter]:
    """``join_restriction`` of the relation ``field`` (a forward field or a reverse
    rel) joining ``table_alias`` to ``parent_alias``."""
    restriction = field.get_extra_restriction(table_alias, parent_alias)
    if restriction is None:
        return True, True
    if isinstance(restriction, Lookup):
        restriction = WhereNode([restriction], connector=AND)
    models = side_models(field, table_alias, parent_alias)
    restriction = as_lookups(restriction, connection, models.get)
    for part in [restriction, *_members(restriction)]:
        if not isinstance(part, (WhereNode, Lookup)):
            raise NotSupportedError(
                f"The relation {field.name!r} restricts its join with "
                f"{type(part).__name__}, which only renders SQL; this backend follows "
                "relations by key lookups and needs the restriction as Django lookups (a "
                "WhereNode, as GenericRelation.get_extra_restriction() returns) or SQL of "
                'the form "alias"."column" = %s or IN (%s, ...), joined by AND. Filter the '
                "related model directly instead (its content type and object id)."
            )

    def no_subqueries(subquery):
        raise NotSupportedError("Subqueries in a relation's join condition are not supported.")

    sides: dict[str, list[Any]] = {table_alias: [], parent_alias: []}
    for child in restriction.children:
        aliases = {part.alias for part in child.flatten() if isinstance(part, Col)}
        if len(aliases) != 1 or not aliases <= sides.keys():
            raise NotSupportedError(
                f"The join condition of the relation {field.name!r} compares columns of both "
                "tables; this backend follows relations by key lookups only."
            )
        sides[aliases.pop()].append(child)
    split = all(sides.values())
    if split and (restriction.connector != AND or restriction.negated):
        raise NotSupportedError(
            f"The join condition of the relation {field.name!r} combines conditions on "
            "both tables with OR or NOT; this backend can only AND them."
        )
    joined, parent = (
        LeafBuilder(connection, alias, no_subqueries).build_tree(
            WhereNode(children, connector=restriction.connector, negated=restriction.negated)
        )
        if children
        else True
        for alias, children in sides.items()
    )
    return joined, parent


def _members(node: Any) -> list[Any]:
    """The conditions inside a WhereNode, at any depth (nothing for anything else)."""
    if not isinstance(node, WhereNode):
        return []
    return [member for child in node.children for member in [child, *_members(child)]]


#: Stored types MongoDB compares by numeric value: keys of one pass as the other's.
NUMERIC_TYPES = frozenset({"int", "long", "double", "decimal"})

#: A join key as the other side of the join stores it (None: it cannot match there).
KeyCast = Callable[[Any], Any]


def key_casts(connection, join: Join) -> tuple[KeyCast | None, KeyCast | None]:
    """(a joined-side key as the parent column stores it, a parent key as the joined
    column stores it), each None where the two columns store keys alike.

    A generic relation joins a text ``object_id`` to an integer (or UUID) key;
    SQL casts one side (PostgreSQL's ``prepare_join_on_clause``), and a
    document store compares types strictly, so the keys are converted with
    the receiving field's own conversions. A key the receiving column cannot
    hold (``"abc"`` for an integer key) matches nothing.
    """
    parent_field, joined_field = join.join_fields[0]
    kinds = [_stored_kind(field.db_type(connection)) for field in (parent_field, joined_field)]
    if kinds[0] == kinds[1]:
        return None, None
    return _caster(connection, parent_field), _caster(connection, joined_field)


def _stored_kind(db_type: str | None) -> str | None:
    return "number" if db_type in NUMERIC_TYPES else db_type


def _caster(connection, field) -> KeyCast:
    def cast(value: Any) -> Any:
        if value is None or isinstance(value, StepValue):
            return value
        try:
            return field.get_db_prep_value(field.to_python(value), connection)
        except (ValidationError, TypeError, ValueError):
            return None

    return cast


def cast_keys(cast: KeyCast | None, keys: Iterable[Any]) -> list[Any]:
    """``keys`` converted by ``cast`` (when given), without the ones that cannot match."""
    if cast is None:
        return list(keys)
    return [key for key in map(cast, keys) if key is not None]


def restricted(condition: Filter, restriction: Filter) -> Filter:
    """``condition AND restriction`` with constants folded."""
    if restriction is True or condition is False:
        return condition
    if condition is True:
        return restriction
    return Node(AND, [condition, restriction])


def is_forward(join: Join) -> bool:
    """Whether the join follows a key stored on the parent row (at most one match)."""
    return not isinstance(join.join_field, ForeignObjectRel)


def is_single_valued(join: Join) -> bool:
    """At most one joined row per parent row (forward FK/one-to-one, reverse one-to-one)."""
    return is_forward(join) or join.join_field.one_to_one


def matches_missing_row(condition: Filter) -> bool:
    """Whether ``condition`` holds for a related row that does not exist (all NULL).

    LEFT OUTER JOIN semantics: ``author__age__isnull=True`` also matches books
    without an author. Comparisons with NULL are false; Django's own negation
    guards (``IS NOT NULL`` added under exclude) make two-valued logic agree
    with SQL here.
    """
    if isinstance(condition, bool):
        return condition
    if isinstance(condition, Leaf):
        result = condition.lookup == "isnull" and condition.value is True
    else:
        parts = [matches_missing_row(child) for child in condition.children]
        result = all(parts) if condition.connector == AND else any(parts)
    return not result if isinstance(condition, Node) and condition.negated else result


class KeyLookups:
    """Runs the per-hop key lookups of one query against ``connection.store``."""

    def __init__(self, connection, query, reads: dict[tuple, list] | None = None) -> None:
        self.connection = connection
        self.query = query
        self.store = connection.store
        self.limit = connection.features.max_keys_per_command
        #: Rows read by a counting lookup, kept for a selection of the same alias.
        self.kept: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
        #: What the lookups of one filter build read, by command: conditions that
        #: reach the same rows by different joins (a search over two paths
        #: through one relation) send each lookup once.
        self.reads = {} if reads is None else reads

    def _distinct(self, lookup: NonrelQuery, column: str) -> list[Any]:
        key = ("distinct", column, self.store.describe(lookup))
        if key not in self.reads:
            self.reads[key] = self.store.distinct_values(lookup, column)
        return list(self.reads[key])

    def _rows(self, lookup: NonrelQuery) -> list[dict[str, Any]]:
        key = ("find", self.store.describe(lookup))
        if key not in self.reads:
            self.reads[key] = list(self.store.fetch(lookup))
        return list(self.reads[key])

    def keys(self, table: str, pk_column: str, column: str, condition: Filter) -> list[Any]:
        """Distinct non-null ``column`` values of ``table`` rows matching ``condition``."""
        if condition is False:
            return []
        where = Node() if condition is True else _as_node(condition)
        lookup = NonrelQuery(table=table, pk_column=pk_column, where=where)
        keys = [key for key in self._distinct(lookup, column) if key is not None]
        self._check_size(len(keys), table)
        return keys

    def key_tuples(
        self, table: str, pk_column: str, columns: list[str], condition: Filter
    ) -> list[tuple[Any, ...]]:
        """Distinct ``columns`` value tuples without NULLs of ``table`` rows matching
        ``condition`` (one ``find`` projected on them)."""
        if condition is False:
            return []
        where = Node() if condition is True else _as_node(condition)
        lookup = NonrelQuery(table=table, pk_column=pk_column, where=where, columns=columns)
        found = {}
        for row in self._rows(lookup):
            values = tuple(row.get(column) for column in columns)
            if None not in values:
                found.setdefault(tuple(hashable(v) for v in values), values)
        self._check_size(len(found), table)
        return list(found.values())

    def resolve(self, alias: str, condition: Filter) -> Filter:
        """The condition on the parent of ``alias`` equivalent to ``condition`` on ``alias``."""
        join = join_of(self.query, alias)
        joined_side, parent_side = join_restriction(self.connection, join)
        keys = self.join_keys(join, restricted(condition, joined_side))
        return self._on_parent(join, condition, keys, parent_side)

    def join_keys(self, join: Join, condition: Filter) -> list[Any]:
        """The keys (as the parent stores them) of the joined rows matching
        ``condition``: values of the key column, tuples of several."""
        opts = joined_opts(join)
        if is_composite(join):
            columns = [column for _, column in join.join_cols]
            return self.key_tuples(join.table_name, opts.pk.column, columns, condition)
        keys = self.keys(join.table_name, opts.pk.column, join.join_cols[0][1], condition)
        return cast_keys(key_casts(self.connection, join)[0], keys)

    def _on_parent(self, join: Join, condition: Filter, keys: list[Any], parent_side: Filter):
        """``parent key IN keys`` (as the parent column stores them) and the join's
        parent-side restriction, plus, for a LEFT OUTER join whose condition holds
        for a missing row, the rows without one."""
        result = restricted(parent_key_in(join, keys), parent_side) if keys else False
        if join.join_type == LOUTER and matches_missing_row(condition):
            missing = self.missing(join)
            if parent_side is not True:
                outside = Node(AND, [parent_side], negated=True)
                missing = outside if missing is True else Node(OR, [outside, missing])
            result = missing if result is False else Node(OR, [result, missing])
        return result

    def resolve_weighted(
        self,
        alias: str,
        condition: Filter,
        weights: dict[Any, int] | None,
        weight_column: str | None,
        keep: Sequence[str] | None = None,
    ) -> tuple[Filter, dict[Any, int] | None, str]:
        """``resolve()``, also counting the matching rows of ``alias`` per parent key.

        A single-valued hop with no counts below it is a plain key lookup
        (``distinct``). Otherwise the matching rows' keys are read (one
        ``find``, projected on the key columns) and each row counts as many
        times as it matched below (``weights`` of its ``weight_column``).
        Returns (condition on the parent, counts or None when all are 1,
        the parent column the counts are keyed by). With ``keep`` (columns a
        selection of ``alias`` reads) the rows are read with those columns and
        kept in ``self.kept``, so the selection needs no second command.
        """
        join = join_of(self.query, alias)
        parent_column, column = join.join_cols[0]
        simple = weights is None and is_single_valued(join) and keep is None
        if simple or isinstance(condition, bool):
            return self.resolve(alias, condition), None, parent_column
        composite = is_composite(join)
        opts = joined_opts(join)
        joined_side, parent_side = join_restriction(self.connection, join)
        key_columns = [pair[1] for pair in join.join_cols]
        columns = [*key_columns] if weights is None else [*key_columns, weight_column]
        columns += list(keep or ())
        lookup = NonrelQuery(
            table=join.table_name,
            pk_column=opts.pk.column,
            where=_as_node(restricted(condition, joined_side)),
            columns=list(dict.fromkeys(columns)),
        )
        counts: dict[Any, int] = {}
        rows = self._rows(lookup)
        if keep is not None:
            self.kept[alias] = (lookup.columns, rows)
        as_parent_key = None if composite else key_casts(self.connection, join)[0]
        for row in rows:
            key = row_key(row, key_columns) if composite else row.get(column)
            if as_parent_key is not None:
                key = as_parent_key(key)
            if key is not None:
                weight = 1 if weights is None else weights.get(row.get(weight_column), 1)
                counts[key] = counts.get(key, 0) + weight
        self._check_size(len(counts), join.table_name)
        result = self._on_parent(join, condition, list(counts), parent_side)
        repeated = any(count > 1 for count in counts.values())
        if composite and repeated and not self.query.distinct:
            return (result, *self._counts_by_parent_pk(join, result, counts))
        return result, (counts if repeated else None), parent_column

    def _counts_by_parent_pk(
        self, join: Join, condition: Filter, counts: dict[tuple[Any, ...], int]
    ) -> tuple[dict[Any, int], str]:
        """``counts`` per key tuple as counts per primary key of the parent rows
        holding it (one command reading them): row repetitions are keyed by one
        column, and a composite key is several."""
        parent = self.query.alias_map[join.parent_alias]
        opts = (
            joined_opts(parent) if isinstance(parent, Join) else self.query.get_meta()
        ).concrete_model._meta
        columns = [pair[0] for pair in join.join_cols]
        lookup = NonrelQuery(
            table=opts.db_table,
            pk_column=opts.pk.column,
            where=_as_node(condition),
            columns=[opts.pk.column, *columns],
        )
        by_pk = {
            hashable(row.get(opts.pk.column)): counts.get(row_key(row, columns), 1)
            for row in self._rows(lookup)
        }
        self._check_size(len(by_pk), opts.db_table)
        return by_pk, opts.pk.column

    def _check_size(self, count: int, table: str) -> None:
        if self.limit is not None and count > self.limit:
            raise NotSupportedError(
                f"A filter across a relation matched {count} keys of {table!r}, more "
                f"than one command may carry ({self.limit}). Narrow the condition on the "
                "related model, or store the value you filter on in this model's documents."
            )

    def missing(self, join: Join) -> Filter:
        """Parent rows with no joined row: a NULL key, or (reverse) a key nobody references."""
        if is_forward(join) and not is_composite(join):
            return key_present(join, False)
        # Reverse: keys nobody references. A ForeignObject over several columns has
        # no database constraint, so a forward key may also point at no row.
        referenced = self.join_keys(join, join_restriction(self.connection, join)[0])
        unmatched = (
            Node(AND, [parent_key_in(join, referenced)], negated=True) if referenced else True
        )
        if not is_forward(join) or unmatched is True:
            return unmatched
        return Node(OR, [key_present(join, False), unmatched])


def parent_key_in(join: Join, keys: list[Any]) -> Filter:
    """Parent rows whose key (column, or columns of a composite join) is one of ``keys``."""
    if is_composite(join):
        return tuple_condition(join, keys)
    parent_field = join.join_fields[0][0] if join.join_fields else None
    return Leaf(path=(join.join_cols[0][0],), lookup="in", value=keys, field=parent_field)


def key_present(join: Join, present: bool = True) -> Filter:
    """Parent rows whose key is set (every column of it), or not (``present=False``:
    any column NULL)."""
    fields = [pair[0] for pair in join.join_fields] if join.join_fields else None
    leaves = [
        Leaf(path=(column,), lookup="isnull", value=not present, field=fields and fields[i])
        for i, (column, _) in enumerate(join.join_cols)
    ]
    if len(leaves) == 1:
        return leaves[0]
    return Node(AND if present else OR, leaves)


def fetch_by_keys(
    store,
    limit: int | None,
    opts,
    column: str | tuple[str, ...],
    keys: Iterable[Any],
    columns: Sequence[str] | None = None,
    condition: Filter = True,
) -> dict[Any, list[dict[str, Any]]]:
    """Rows of ``opts``' table with ``column`` in ``keys`` (and ``condition``), by key.

    ``column`` may be several columns (a composite join): ``keys`` are then
    tuples, matched as an OR of ANDs of equalities, and the rows are keyed by
    the tuple they hold (``row_key``).
    """
    unique = list(dict.fromkeys(k for k in keys if k is not None))
    grouped: dict[Any, list[dict[str, Any]]] = {}
    if not unique or condition is False:
        return grouped
    key_columns = (column,) if isinstance(column, str) else column
    step = limit or len(unique)
    if columns is not None:
        columns = list(dict.fromkeys([*key_columns, *columns]))
    for offset in range(0, len(unique), step):
        chunk = unique[offset : offset + step]
        if len(key_columns) == 1:
            leaf: Filter = Leaf(path=key_columns, lookup="in", value=chunk)
        else:
            leaf = tuples_filter(key_columns, chunk)
        where = Node(AND, [leaf] if condition is True else [leaf, condition])
        lookup = NonrelQuery(
            table=opts.db_table, pk_column=opts.pk.column, where=where, columns=columns
        )
        for row in store.fetch(lookup):
            grouped.setdefault(row_key(row, key_columns), []).append(row)
    return grouped


def _as_node(condition: Node | Leaf) -> Node:
    return condition if isinstance(condition, Node) else Node(AND, [condition])


def joined_opts(join: Join):
    """The model options of the joined table: the owner of the join's right-hand field.

    (A reverse join's ``join_field`` is a rel whose ``related_model`` is the
    joined model, except for GenericRel, whose field lives on the other side.)
    """
    return join.join_fields[0][1].model._meta.concrete_model._meta
