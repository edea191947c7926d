"""The commands an operation sends, as tests that count them see them."""

from __future__ import annotations


def without_row_claims(sent: list[str]) -> list[str]:
    """``sent`` without FerretDB's row claims (backends/mongodb/row_claims.py).

    There each write first claims its rows and releases them after, reading the
    keys its filter does not name just before the claim; what is left is what
    every server runs.
    """
    kept = []
    for index, command in enumerate(sent):
        claims_next = index + 1 < len(sent) and "row_claims.insertMany" in sent[index + 1]
        if "django_nonrel_row_claims" in command or (claims_next and ".find(" in command):
            continue
        kept.append(command)
    return kept
