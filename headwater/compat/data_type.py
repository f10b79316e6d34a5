"""``azureml.data.DataType``: SDK v1's column types for ``set_column_types``, as Headwater's type names.

``Dataset.Tabular.from_delimited_files(path, set_column_types={'age': DataType.to_long()})`` is
SDK v1's spelling; Headwater's readers take type names (``'int'``, ``'float'``, ``'string'``,
``'bool'``, ``'datetime'``, ``'datetime:<strptime format>'``), so each method returns one.
Stdlib only.
"""

from __future__ import annotations

from headwater.errors import NotSupportedError

__all__ = ["DataType"]


class DataType:
    """Column types for ``set_column_types`` (SDK v1: ``azureml.data.dataset_factory.DataType``)."""

    @staticmethod
    def to_bool() -> str:
        """A boolean column."""
        return "bool"

    @staticmethod
    def to_long() -> str:
        """A 64-bit integer column."""
        return "int"

    @staticmethod
    def to_float(decimal_mark: str = ".") -> str:
        """A floating-point column; only a dot decimal mark (SDK v1's default ``'.'``, or ``'dot'``) is supported."""
        if decimal_mark not in (".", "dot"):
            raise NotSupportedError(
                f"DataType.to_float(decimal_mark={decimal_mark!r}) is not supported by Headwater.",
                hint="Read the column as DataType.to_string() and convert it in pandas.",
            )
        return "float"

    @staticmethod
    def to_string() -> str:
        """A text column."""
        return "string"

    @staticmethod
    def to_datetime(formats: str | list[str] | None = None) -> str:
        """A date-time column, parsed with one ``strptime`` format (or inferred when none is given)."""
        if formats is None:
            return "datetime"
        if isinstance(formats, str):
            formats = [formats]
        if len(formats) != 1:
            raise NotSupportedError(
                f"DataType.to_datetime(formats={formats!r}): Headwater parses a column with one format.",
                hint="Pass one strptime format, or none to let pandas infer it.",
            )
        return f"datetime:{formats[0]}"

    @staticmethod
    def to_stream(workspace: object, escaped: bool = False) -> str:
        """SDK v1's stream columns are not supported."""
        raise NotSupportedError(
            "DataType.to_stream() is not supported by Headwater.",
            hint="Use a FileDataset (Dataset.File.from_files) for files referenced by a table.",
        )
