"""Relations over several columns (``ForeignObject`` with two from/to fields) and
multi-column lookups (``Tuple``/``ColPairs`` exact, in, lt, lte, gt, gte, isnull).

Each query runs on the tier under test and on stock SQLite over the same rows;
both must agree, and the answer is checked against the data. A player whose
key pair has no team (``uk``, 2) and one without a key show the LEFT OUTER
join's NULLs; NULL in a pair compares as SQL's UNKNOWN.
"""

import pytest
from django.db import NotSupportedError, connection
from django.db.models import F, Q
from django.db.models.fields.tuple_lookups import (
    TupleExact,
    TupleGreaterThan,
    TupleIn,
    TupleIsNull,
    TupleLessThanOrEqual,
)
from django.db.models.sql.where import WhereNode

from django_nonrel.relations import restriction_filters
from tests.relations.models import Player, Team

pytestmark = pytest.mark.django_db(databases=["default", "sqlite"])

ALIASES = ("default", "sqlite")


@pytest.fixture
def league():
    for using in ALIASES:
        teams = Team.objects.using(using)
        teams.create(country_code="fr", number=1, name="Lyon")
        teams.create(country_code="fr", number=2, name="Paris")
        teams.create(country_code="uk", number=1, name="Leeds")
        players = Player.objects.using(using)
        players.create(name="Ana", rating=5, team_country="fr", team_number=1)
        players.create(name="Bo", rating=9, team_country="fr", team_number=1)
        players.create(name="Cy", rating=3, team_country="fr", team_number=2)
        players.create(name="Di", rating=7, team_country="uk", team_number=1)
        players.create(name="Ed", rating=1)
        players.create(name="Fa", rating=2, team_country="uk", team_number=2)  # no such team


def agree(make):
    """``make(alias)`` on the tier under test, after checking stock SQLite agrees."""
    ours, sqlite = (make(using) for using in ALIASES)
    assert ours == sqlite, f"tier gives {ours!r}, SQLite gives {sqlite!r}"
    return ours


def names(using, *args, **kwargs):
    players = Player.objects.using(using).filter(*args, **kwargs)
    return sorted(players.values_list("name", flat=True))


def team(using, country, number):
    return Team.objects.using(using).get(country_code=country, number=number)


# -- filters across the relation ------------------------------------------------------
def test_filter_across_forward_relation(league):
    assert agree(lambda using: names(using, team__name="Lyon")) == ["Ana", "Bo"]
    assert agree(lambda using: names(using, team__name__startswith="L")) == ["Ana", "Bo", "Di"]


def test_exclude_across_forward_relation_keeps_rows_without_a_team(league):
    def excluded(using):
        players = Player.objects.using(using).exclude(team__name="Lyon")
        return sorted(players.values_list("name", flat=True))

    assert agree(excluded) == ["Cy", "Di", "Ed", "Fa"]


def test_missing_related_row_matches_isnull(league):
    assert agree(lambda using: names(using, team__name__isnull=True)) == ["Ed", "Fa"]


def test_filter_across_reverse_relation(league):
    def teams(using, **kwargs):
        found = Team.objects.using(using).filter(**kwargs).distinct()
        return sorted(found.values_list("name", flat=True))

    assert agree(lambda using: teams(using, players__rating__gte=7)) == ["Leeds", "Lyon"]
    assert agree(lambda using: teams(using, players__isnull=True)) == []
    assert agree(lambda using: teams(using, players__name="Cy")) == ["Paris"]


def test_reverse_filter_repeats_rows_per_match(league):
    """As a JOIN: Lyon once per matching player (the repeats of a key over two
    columns are counted per team row)."""

    def teams(using, **kwargs):
        found = Team.objects.using(using).filter(**kwargs)
        return sorted(found.values_list("name", flat=True))

    assert agree(lambda using: teams(using, players__rating__gt=0)) == [
        "Leeds",
        "Lyon",
        "Lyon",
        "Paris",
    ]
    assert agree(lambda using: Team.objects.using(using).filter(players__rating__gt=4).count()) == 3


# -- reading across the relation ------------------------------------------------------
#: Each player of the ``league`` fixture with its team's name (None: no team, or a
#: key pair pointing at no team), sorted by player.
PLAYER_TEAMS = [
    ("Ana", "Lyon"),
    ("Bo", "Lyon"),
    ("Cy", "Paris"),
    ("Di", "Leeds"),
    ("Ed", None),
    ("Fa", None),
]


def test_values_across_relation(league):
    def pairs(using):
        rows = Player.objects.using(using).values_list("name", "team__name")
        return sorted(rows, key=lambda row: row[0])

    assert agree(pairs) == PLAYER_TEAMS


def test_select_related_and_descriptors(league):
    def loaded(using):
        players = Player.objects.using(using).select_related("team").order_by("name")
        return [(p.name, p.team.name if p.team else None) for p in players]

    assert agree(loaded) == PLAYER_TEAMS
    lyon = Team.objects.get(name="Lyon")
    assert sorted(p.name for p in lyon.players.all()) == ["Ana", "Bo"]
    assert Player.objects.get(name="Di").team == Team.objects.get(name="Leeds")


def test_prefetch_related_both_ways(league):
    def teams(using):
        found = Team.objects.using(using).prefetch_related("players").order_by("name")
        return [(t.name, sorted(p.name for p in t.players.all())) for t in found]

    def players(using):
        found = Player.objects.using(using).prefetch_related("team").order_by("name")
        return [(p.name, p.team.name if p.team else None) for p in found]

    assert agree(teams) == [("Leeds", ["Di"]), ("Lyon", ["Ana", "Bo"]), ("Paris", ["Cy"])]
    assert agree(players)[:2] == [("Ana", "Lyon"), ("Bo", "Lyon")]


# -- multi-column lookups --------------------------------------------------------------
def test_related_exact_and_in(league):
    assert agree(lambda using: names(using, team=team(using, "fr", 1))) == ["Ana", "Bo"]
    assert agree(
        lambda using: names(using, team__in=[team(using, "fr", 2), team(using, "uk", 1)])
    ) == ["Cy", "Di"]
    assert agree(lambda using: names(using, team__in=[])) == []


def test_related_comparisons(league):
    def compared(lookup):
        return agree(lambda using: names(using, **{f"team__{lookup}": team(using, "fr", 2)}))

    # Lexicographic on (country, number): ("fr", 2) sits between ("fr", 1) and ("uk", 1).
    assert compared("lt") == ["Ana", "Bo"]
    assert compared("lte") == ["Ana", "Bo", "Cy"]
    assert compared("gt") == ["Di", "Fa"]
    assert compared("gte") == ["Cy", "Di", "Fa"]


def test_related_isnull(league):
    assert agree(lambda using: names(using, team__isnull=True)) == ["Ed"]
    assert agree(lambda using: names(using, team__isnull=False)) == [
        "Ana",
        "Bo",
        "Cy",
        "Di",
        "Fa",
    ]


def test_tuple_lookups_on_columns(league):
    pair = (F("team_country"), F("team_number"))
    assert agree(lambda using: names(using, TupleExact(pair, ("uk", 2)))) == ["Fa"]
    assert agree(lambda using: names(using, TupleGreaterThan(pair, ("fr", 1)))) == [
        "Cy",
        "Di",
        "Fa",
    ]
    assert agree(lambda using: names(using, TupleLessThanOrEqual(pair, ("fr", 2)))) == [
        "Ana",
        "Bo",
        "Cy",
    ]
    assert agree(lambda using: names(using, TupleIsNull(pair, True))) == ["Ed"]
    assert agree(lambda using: names(using, ~Q(TupleIn(pair, [("fr", 1), ("uk", 1)])))) == [
        "Cy",
        "Fa",
    ]


def test_tuple_in_a_queryset(league):
    def in_teams(using):
        pairs = Team.objects.using(using).filter(name__startswith="L")
        rhs = pairs.values_list("country_code", "number").query
        return names(using, TupleIn((F("team_country"), F("team_number")), rhs))

    assert agree(in_teams) == ["Ana", "Bo", "Di"]
    assert agree(
        lambda using: names(using, team__in=Team.objects.using(using).filter(name="Paris"))
    ) == ["Cy"]


def test_null_in_a_pair_is_unknown(league):
    """(a, b) = ("fr", NULL) is UNKNOWN: true for no row, under NOT neither."""
    pair = (F("team_country"), F("team_number"))
    assert agree(lambda using: names(using, TupleExact(pair, ("fr", None)))) == []
    assert agree(lambda using: names(using, ~Q(TupleExact(pair, ("fr", None))))) == [
        "Di",
        "Fa",
    ]


def test_user_values_stay_data(league, on_mongodb):
    pair = (F("team_country"), F("team_number"))
    for value in ({"$gt": ""}, "$gt"):
        assert names("default", TupleIn(pair, [(value, 1)])) == []
        assert names("default", TupleGreaterThan(pair, (value, 0))) == names(
            "sqlite", TupleGreaterThan(pair, (value, 0))
        )


def test_comparison_with_a_queryset_is_djangos_error(league):
    with pytest.raises(ValueError, match="doesn't support multi-column subqueries"):
        list(Player.objects.filter(team__lt=Team.objects.filter(name="Lyon")[:1]))


# -- join restrictions a backend cannot run ---------------------------------------------
class SqlOnly:
    """A join condition of a third-party relation that only renders SQL."""

    def as_sql(self, compiler, connection):
        return "x = 1", []


class RestrictedRelation:
    name = "restricted"

    def __init__(self, restriction):
        self.restriction = restriction

    def get_extra_restriction(self, alias, related_alias):
        return self.restriction


@pytest.mark.parametrize(
    "restriction", [SqlOnly(), WhereNode([SqlOnly()]), WhereNode([WhereNode([SqlOnly()])])]
)
def test_sql_only_join_restriction_is_refused(restriction, on_mongodb):
    with pytest.raises(NotSupportedError, match="SqlOnly, which only renders SQL"):
        restriction_filters(connection, RestrictedRelation(restriction), "T2", "T1")


def test_ordering_by_a_relation_over_two_columns(league):
    # Team has no Meta.ordering: the relation sorts by its local columns in turn.
    def ordered(using, *ordering):
        return list(Player.objects.using(using).order_by(*ordering).values_list("name", flat=True))

    assert agree(lambda using: ordered(using, "team", "name")) == [
        "Ed",
        "Ana",
        "Bo",
        "Cy",
        "Di",
        "Fa",
    ]
    assert agree(lambda using: ordered(using, "-team", "name"))[0] == "Fa"
