"""Reading a TabularDataset into pandas: the readers, column types, and row transformations.

Every parser here is pandas' or pyarrow's; this module only chooses options, names the file and
line when a reader fails, and applies the definition's transformations in order. pandas and numpy
are imported inside the functions.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal

from headwater.data.definition import DatasetArgumentError, partition_values, python_encoding
from headwater.data.files import DataAccess, DatasetFile
from headwater.data.partitions import needed_files
from headwater.errors import DataAccessError, did_you_mean
from headwater.sdk.dataset_expr import evaluate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_dataframe"]

_BAD_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def read_dataframe(
    definition: dict[str, Any],
    files: list[DatasetFile],
    access: DataAccess,
    *,
    on_error: str = "null",
    out_of_range_datetime: str = "null",
) -> pd.DataFrame:
    """Read ``files`` as the definition's reader says, concatenate, type and transform them."""
    import pandas as pd

    if on_error not in ("null", "fail") or out_of_range_datetime not in ("null", "fail"):
        raise DatasetArgumentError(
            f"on_error={on_error!r}, out_of_range_datetime={out_of_range_datetime!r}: each must be 'null' or 'fail'."
        )
    reader = definition["reader"]
    files = needed_files(definition, files, lambda f: f.path)
    transformations = definition.get("transformations", [])
    # a leading take(n) needs the first n rows only: the files after them are not read
    limit = transformations[0]["count"] if transformations and transformations[0]["op"] == "take" else None
    frames: list[pd.DataFrame] = []
    first_columns: list[str] | None = None
    rows = 0
    for f in files:
        if limit is not None and frames and rows >= limit:
            break
        frame = _read_one(reader, f, access, first_columns)
        if first_columns is None:
            first_columns = [str(c) for c in frame.columns]
        fmt = definition.get("partition_format")
        if fmt:
            for key, value in partition_values(fmt, f.path).items():
                frame[key] = value
        if reader.get("include_path"):
            frame.insert(0, "Path", f.display)
        frames.append(frame)
        rows += len(frame)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    types = reader.get("set_column_types")
    if types:
        df = _set_types(df, types, on_error=on_error, out_of_range=out_of_range_datetime)
    return apply_row_transformations(df, transformations)


# -- readers -----------------------------------------------------------------------------------


def _read_one(reader: dict[str, Any], f: DatasetFile, access: DataAccess, first_columns: list[str] | None) -> Any:
    kind = reader["type"]
    local = access.local_path(f)
    if kind == "delimited":
        return _read_delimited(reader, f, access, local, first_columns)
    if kind == "parquet":
        import pandas as pd

        try:
            if local is not None:
                return pd.read_parquet(local)
            if f.datastore is None:  # a URL
                with access.open(f) as stream:
                    return pd.read_parquet(stream)
            import pyarrow.parquet as pq

            fs, path = access.filesystem(f)  # pyarrow reads the footer, then the column chunks it needs
            return pq.read_table(path, filesystem=fs).to_pandas()
        except FileNotFoundError as exc:
            raise DataAccessError(f"File {f.where} does not exist (any more).", path=f.path) from exc
        except (OSError, ValueError) as exc:
            if isinstance(exc, DataAccessError):
                raise
            raise DataAccessError(
                f"Cannot read {f.where} as Parquet: {exc}",
                path=f.path,
                hint="Check that the file is a Parquet file (from_delimited_files reads CSV).",
            ) from exc
    if kind == "json_lines":
        with access.open(f) as stream:
            return _read_json_lines(reader, f, stream.read())
    raise DatasetArgumentError(f"Unknown reader {kind!r} in the dataset definition.")


def _read_delimited(
    reader: dict[str, Any], f: DatasetFile, access: DataAccess, local: Any, first_columns: list[str] | None
) -> Any:
    import pandas as pd

    mode = reader["header"]
    uses_header = mode in ("all_files_same", "combine") or (mode == "first_file" and first_columns is None)
    options: dict[str, Any] = {
        "sep": reader["separator"],
        "header": 0 if uses_header else None,
        "encoding": python_encoding(reader["encoding"]),
        "on_bad_lines": "error",
        "engine": "python" if len(reader["separator"]) > 1 else "c",
    }
    if not reader.get("infer_column_types", True):
        options["dtype"] = str
    elif reader.get("set_column_types"):  # typed columns are converted from their text, not a guess
        options["dtype"] = _text_columns(reader["set_column_types"], uses_header, first_columns)
    if reader.get("empty_as_string"):
        options["keep_default_na"] = False
        options["na_values"] = []
    try:
        if local is not None:
            df = pd.read_csv(local, **options)
        else:
            with access.open(f) as stream:
                df = pd.read_csv(stream, **options)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        m = _BAD_ROW.search(str(exc))
        detail = f"line {m[2]} has {m[3]} fields where {m[1]} were expected" if m else str(exc).strip()
        raise DataAccessError(
            f"Bad row in {f.where}: {detail}.",
            path=f.path,
            hint=f"Fix or remove that row; check the separator ({reader['separator']!r}) and quote fields "
            "that contain it.",
        ) from exc
    except UnicodeDecodeError as exc:
        raise DataAccessError(
            f"Cannot decode {f.where} as {reader['encoding']}: {exc}.",
            path=f.path,
            hint="Pass the file's encoding, e.g. encoding='iso88591' or 'utf16'.",
        ) from exc
    if not uses_header:
        if mode == "first_file" and first_columns is not None and len(first_columns) == len(df.columns):
            df.columns = first_columns
        else:
            df.columns = [f"Column{i + 1}" for i in range(len(df.columns))]
    return df


def _text_columns(types: dict[str, str], uses_header: bool, first_columns: list[str] | None) -> dict[str | int, type]:
    """``read_csv``'s ``dtype`` for reading typed columns as text: by name, or by position without a header."""
    out: dict[str | int, type] = {}
    for name in types:
        if uses_header:
            out[name] = str
        elif first_columns is not None and name in first_columns:
            out[first_columns.index(name)] = str
        elif (m := re.fullmatch(r"Column(\d+)", name)) and int(m[1]) > 0:
            out[int(m[1]) - 1] = str
    return out


def _read_json_lines(reader: dict[str, Any], f: DatasetFile, data: bytes) -> Any:
    import pandas as pd

    try:
        text = data.decode(python_encoding(reader["encoding"]))
    except UnicodeDecodeError as exc:
        raise DataAccessError(
            f"Cannot decode {f.where} as {reader['encoding']}: {exc}.",
            path=f.path,
            hint="Pass the file's encoding, e.g. encoding='iso88591'.",
        ) from exc
    records: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
            if not isinstance(value, dict):
                raise ValueError(f"a JSON {type(value).__name__}, not an object")
        except ValueError as exc:
            if reader.get("invalid_lines") == "drop":
                continue
            raise DataAccessError(
                f"Bad line in {f.where}: line {number} is not a JSON object ({exc}).",
                path=f.path,
                hint="Fix that line, or pass invalid_lines='drop' to skip such lines.",
            ) from exc
        records.append(value)
    return pd.json_normalize(records, max_level=0) if records else pd.DataFrame()


# -- column types ------------------------------------------------------------------------------


def _set_types(df: Any, types: dict[str, str], *, on_error: str, out_of_range: str) -> Any:
    import pandas as pd

    df = df.copy()
    for column, kind in types.items():
        if column not in df.columns:
            raise DataAccessError(
                f"set_column_types names column {column!r}, which the data does not have."
                + did_you_mean(column, [str(c) for c in df.columns]),
                hint=f"Columns: {', '.join(map(str, df.columns))}.",
            )
        try:
            df[column] = _convert(df[column], kind, on_error=on_error, out_of_range=out_of_range)
        except (ValueError, TypeError, pd.errors.OutOfBoundsDatetime) as exc:
            raise DataAccessError(
                f"Column {column!r} cannot be converted to {kind}: {exc}",
                hint="Fix the values, or read with on_error='null' to turn them into nulls.",
            ) from exc
    return df


def _convert(s: Any, kind: str, *, on_error: str, out_of_range: str) -> Any:
    import pandas as pd

    errors: Literal["coerce", "raise"] = "coerce" if on_error == "null" else "raise"
    if kind == "string":
        return s.astype("string")
    if kind == "int":
        numbers = pd.to_numeric(s, errors=errors)
        if errors == "coerce":  # 1.5 is an error value too: null it rather than truncate it
            numbers = numbers.where(numbers.isna() | (numbers % 1 == 0))
        return numbers.astype("Int64")
    if kind == "float":
        return pd.to_numeric(s, errors=errors).astype("float64")
    if kind == "bool":
        return _to_bool(s, on_error=on_error)
    if kind.startswith("datetime"):
        fmt = kind.partition(":")[2] or None
        try:
            return pd.to_datetime(s, format=fmt, errors="raise")
        except pd.errors.OutOfBoundsDatetime:
            if out_of_range == "fail":
                raise
            return pd.to_datetime(s, format=fmt, errors="coerce")
        except (ValueError, TypeError):
            if errors == "raise":
                raise
            return pd.to_datetime(s, format=fmt, errors="coerce")
    return s.astype(kind)


def _to_bool(s: Any, *, on_error: str) -> Any:
    import pandas as pd

    def one(value: Any) -> Any:
        if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
            return pd.NA
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if on_error == "fail":
            raise ValueError(f"{value!r} is not a boolean")
        return pd.NA

    return s.map(one).astype("boolean")


# -- row transformations -----------------------------------------------------------------------


def apply_row_transformations(df: Any, transformations: list[dict[str, Any]]) -> Any:
    """Apply the recorded transformations (take, skip, samples, splits, columns, filters) in order."""
    import numpy as np

    for t in transformations:
        op = t["op"]
        if op == "take":
            df = df.iloc[: t["count"]]
        elif op == "skip":
            df = df.iloc[t["count"] :]
        elif op == "take_sample":
            df = df[np.random.default_rng(t["seed"]).random(len(df)) < t["probability"]]
        elif op == "random_split":
            below = np.random.default_rng(t["seed"]).random(len(df)) < t["percentage"]
            df = df[below if t["part"] == 0 else ~below]
        elif op == "keep_columns":
            missing = [c for c in t["columns"] if c not in df.columns]
            if missing:
                raise DataAccessError(
                    f"keep_columns names {missing}, which the data does not have."
                    + did_you_mean(missing[0], [str(c) for c in df.columns]),
                    hint=f"Columns: {', '.join(map(str, df.columns))}.",
                )
            df = df[list(t["columns"])]
        elif op == "drop_columns":
            df = df.drop(columns=[c for c in t["columns"] if c in df.columns])
        elif op == "filter":
            df = df[evaluate(t["expression"], df)]
        else:
            raise DatasetArgumentError(f"Unknown transformation {op!r} in the dataset definition.")
    return df.reset_index(drop=True)
