"""Search queries built from registry name variants, shared by the sources that search text."""

from collections.abc import Iterable


def phrase_query(variant: str, excluded: Iterable[str] = ()) -> str:
    """``"New York" -Times``: the variant as a phrase, each exclusion word negated (the syntax
    the text-search APIs that use it share)."""
    terms = [f'"{variant.strip()}"'] + [f"-{w.strip()}" for w in excluded if w.strip()]
    return " ".join(terms)
