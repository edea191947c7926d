"""The tour itself: each step prints what it does and the commands it sent."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.db import NotSupportedError, connection
from django.test.utils import CaptureQueriesContext

WIDTH = 100


def say(text: str = "") -> None:
    print(textwrap.fill(text, WIDTH) if text else "")


def step(title: str) -> None:
    print(f"\n== {title} ==")


def run(label: str, action: Callable[[], Any]) -> Any:
    """Run ``action``, print its result and every command it sent."""
    with CaptureQueriesContext(connection) as captured:
        result = action()
    print(f"  {label}")
    if result is not None:
        print(f"    -> {result}")
    for query in captured.captured_queries:
        print(textwrap.indent(textwrap.fill(query["sql"], WIDTH - 8), "       $ "))
    return result


def tour() -> None:
    from django_nonrel.demo.models import Chef, Ingredient, Recipe

    # The demo owns its database: start from empty collections and fresh key counters.
    call_command("flush", interactive=False, verbosity=0)
    step("1. A model with nonrel fields")
    say(
        "Recipe has title (CharField), tags = ListField(CharField()), chef = "
        "EmbeddedModelField(Chef), ingredients = ListField(EmbeddedModelField(Ingredient)) "
        "and nutrition = DictField(). Each recipe is one document."
    )
    pesto = Recipe(
        title="Pesto",
        tags=["quick", "vegetarian", "italian"],
        chef=Chef(name="Lia", country="Italy"),
        ingredients=[Ingredient(name="basil", grams=50), Ingredient(name="pine nuts", grams=30)],
        nutrition={"kcal": 420, "per": {"unit": "portion"}},
    )
    run("Recipe(...).save()  # a new row: one insert", pesto.save)
    say(
        "(The first new row also reserves a block of 20 integer keys with one $inc; the next "
        "19 saves need none.)"
    )
    Recipe.objects.bulk_create(
        [
            Recipe(
                title="Ramen",
                tags=["soup"],
                chef=Chef(name="Ken", country="Japan"),
                ingredients=[Ingredient(name="noodles", grams=120)],
                nutrition={"kcal": 650},
            ),
            Recipe(
                title="Tabbouleh",
                tags=["quick", "vegan"],
                chef=Chef(name="Rami", country="Lebanon"),
                ingredients=[
                    Ingredient(name="parsley", grams=80),
                    Ingredient(name="bulgur", grams=60),
                ],
                nutrition={"kcal": 310},
            ),
        ]
    )

    step("2. save() of an existing row is one upsert")
    pesto.tags.append("summer")
    run("pesto.save()", pesto.save)
    say("Only the model's fields are $set: fields other programs added to the document survive.")

    step("3. Lookups through Django's own syntax")
    for label, query in [
        ('tags="vegan"  (list membership)', {"tags": "vegan"}),
        ('tags__contains=["quick", "italian"]  (all of)', {"tags__contains": ["quick", "italian"]}),
        ("tags__len__gt=2", {"tags__len__gt": 2}),
        ('tags__0="quick"  (by index)', {"tags__0": "quick"}),
        ('chef__country__istartswith="it"  (embedded path)', {"chef__country__istartswith": "it"}),
        (
            'ingredients__name="bulgur"  (inside a list of embedded models)',
            {"ingredients__name": "bulgur"},
        ),
        ("nutrition__kcal__lt=500  (dict key path)", {"nutrition__kcal__lt": 500}),
    ]:
        run(label, lambda q=query: [r.title for r in Recipe.objects.filter(**q)])

    step("4. A structured row: what the backend hands Django")
    compiler = (
        Recipe.objects.filter(title="Ramen")
        .only("title", "tags")
        .query.get_compiler(connection=connection)
    )
    row = next(compiler.results_iter())
    print(textwrap.indent(textwrap.fill(repr(row), WIDTH - 4), "    "))
    say(
        "Model instances and values() dicts are built straight from it; deferred fields stay "
        "deferred."
    )

    step("5. count(limit=N): an upper bound counted by the database")
    run("Recipe.objects.count(limit=2)", lambda: Recipe.objects.count(limit=2))

    step("6. User values are data; unsupported shapes say what to do")
    run(
        'filter(title={"$ne": None}).count()  # a dict is compared, never run as an operator',
        lambda: Recipe.objects.filter(title={"$ne": None}).count(),
    )
    run(
        'filter(tags="vegan").union(filter(tags="quick"))  # combined on the client',
        lambda: sorted(
            Recipe.objects.filter(tags="vegan")
            .union(Recipe.objects.filter(tags="quick"))
            .values_list("title", flat=True)
        ),
    )
    try:
        list(Recipe.objects.distinct("title"))
    except NotSupportedError as error:
        print(f'  distinct("title")\n    -> NotSupportedError: {error}')
    say()
    say("Done. Point --database-url at a mongodb:// server to run the same tour there.")
