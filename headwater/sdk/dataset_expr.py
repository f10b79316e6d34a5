"""Filter expressions for ``TabularDataset.filter``: built with Python operators, stored as JSON.

``ds['age'] > 30`` builds an :class:`Expression`; ``&``, ``|`` and ``~`` combine them. The JSON
form is what the dataset definition records::

    {"op": ">", "column": "age", "value": 30}
    {"op": "and", "args": [<expr>, <expr>]}
    {"op": "not", "arg": <expr>}

A value is a JSON scalar, ``{"$column": name}`` (compare two columns) or ``{"$datetime": iso}``.
:func:`evaluate` applies a JSON expression to a pandas DataFrame (it never imports pandas itself).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from headwater.data.definition import DatasetArgumentError
from headwater.errors import DataAccessError, did_you_mean

__all__ = ["COMPARISONS", "ColumnReference", "Expression", "evaluate"]

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def _encode(value: object) -> Any:
    if isinstance(value, ColumnReference):
        return {"$column": value.name}
    if isinstance(value, datetime | date):
        return {"$datetime": value.isoformat()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise DatasetArgumentError(
        f"Cannot compare a column with {value!r} ({type(value).__name__}).",
        hint="Use a number, a string, a bool, None, a datetime or another column.",
    )


class Expression:
    """A boolean condition on rows; combine with ``&`` (and), ``|`` (or), ``~`` (not)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in the dataset definition."""
        return self._data

    def __and__(self, other: Expression) -> Expression:
        return Expression({"op": "and", "args": [self._data, _expression(other)]})

    def __or__(self, other: Expression) -> Expression:
        return Expression({"op": "or", "args": [self._data, _expression(other)]})

    def __invert__(self) -> Expression:
        return Expression({"op": "not", "arg": self._data})

    def __bool__(self) -> bool:
        raise DatasetArgumentError(
            "A dataset filter expression has no truth value.",
            hint="Combine conditions with & and | (with parentheses), not 'and'/'or'; "
            "write 5 < x as x > 5 and a < x < b as (x > a) & (x < b).",
        )

    def __repr__(self) -> str:
        return f"Expression({self._data!r})"


def _expression(value: object) -> dict[str, Any]:
    if not isinstance(value, Expression):
        raise DatasetArgumentError(
            f"Expected a filter expression, got {value!r}.", hint="Build one with ds['column'] > value."
        )
    return value.to_json()


class ColumnReference:
    """``ds['name']``: compare it with a value or another column to build an :class:`Expression`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _compare(self, op: str, value: object) -> Expression:
        return Expression({"op": op, "column": self.name, "value": _encode(value)})

    def __eq__(self, value: object) -> Expression:  # type: ignore[override]
        return self._compare("==", value)

    def __ne__(self, value: object) -> Expression:  # type: ignore[override]
        return self._compare("!=", value)

    def __lt__(self, value: object) -> Expression:
        return self._compare("<", value)

    def __le__(self, value: object) -> Expression:
        return self._compare("<=", value)

    def __gt__(self, value: object) -> Expression:
        return self._compare(">", value)

    def __ge__(self, value: object) -> Expression:
        return self._compare(">=", value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ColumnReference({self.name!r})"


def _column(df: Any, name: str) -> Any:
    if name not in df.columns:
        raise DataAccessError(
            f"The filter uses column {name!r}, which the data does not have."
            + did_you_mean(name, [str(c) for c in df.columns]),
            hint=f"Columns: {', '.join(map(str, df.columns))}.",
        )
    return df[name]


def _value(df: Any, value: Any) -> Any:
    if isinstance(value, dict) and "$column" in value:
        return _column(df, value["$column"])
    if isinstance(value, dict) and "$datetime" in value:
        import pandas as pd

        return pd.Timestamp(value["$datetime"])
    return value


def _as_datetimes(column: Any) -> Any:
    """A text column compared with a datetime, parsed as datetimes (as SDK v1 infers a timestamp
    column's type); values that are no datetime become missing. Other columns stay as they are."""
    import pandas as pd

    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return column
    try:
        return pd.to_datetime(column, format="ISO8601")
    except (ValueError, TypeError):
        return pd.to_datetime(column, format="mixed", errors="coerce")


def evaluate(expression: dict[str, Any], df: Any) -> Any:
    """The boolean mask (a pandas Series) of the rows of ``df`` that satisfy ``expression``.

    Comparisons with a missing value are false, as in SQL.
    """
    op = expression.get("op")
    if op == "and":
        left, right = (evaluate(e, df) for e in expression["args"])
        return left & right
    if op == "or":
        left, right = (evaluate(e, df) for e in expression["args"])
        return left | right
    if op == "not":
        return ~evaluate(expression["arg"], df)
    if op not in COMPARISONS:
        raise DatasetArgumentError(f"Unknown filter operator {op!r}.", hint=f"Use one of {COMPARISONS}.")
    column = _column(df, expression["column"])
    value = _value(df, expression["value"])
    if isinstance(expression["value"], dict) and "$datetime" in expression["value"]:
        column = _as_datetimes(column)
    try:
        if value is None:
            if op not in ("==", "!="):
                raise TypeError(f"'{op}' is not defined for None")
            mask = column.isna() if op == "==" else column.notna()
        elif op == "==":
            mask = column == value
        elif op == "!=":
            mask = column != value
        elif op == "<":
            mask = column < value
        elif op == "<=":
            mask = column <= value
        elif op == ">":
            mask = column > value
        else:
            mask = column >= value
        if value is not None:
            mask = mask & column.notna()
            if hasattr(value, "notna"):
                mask = mask & value.notna()
    except TypeError as exc:
        raise DataAccessError(
            f"Cannot evaluate filter {expression['column']!r} {op} {expression['value']!r}: {exc}.",
            hint=f"Column {expression['column']!r} has type {column.dtype}; compare it with a value of that "
            "type or convert it with set_column_types.",
        ) from exc
    return mask.fillna(False).astype(bool)
