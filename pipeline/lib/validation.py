"""Input records as pydantic models (the manifest, the catalogues, the forecast inputs): a model refuses keys it
does not declare, and its `ValidationError`s become `Problem`s naming the file, the line, the key, the value found
and what would be accepted."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.lib.errors import Problem

M = TypeVar("M", bound=BaseModel)


class InputModel(BaseModel):
    """A record read from a file in sources/: unknown keys are refused, the record cannot change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel]:
    """The model that holds the last key of `loc` (a nested record's, for a key inside a list of records)."""
    for part in loc:
        if isinstance(part, int) or part not in model.model_fields:
            continue
        inner = [model.model_fields[part].annotation]
        while inner:
            candidate = inner.pop()
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                model = candidate
                break
            inner += typing.get_args(candidate)
    return model


def _choices(annotation: Any) -> list[str]:
    """The values a `Literal` annotation (also inside `X | None`) accepts."""
    if typing.get_origin(annotation) is Literal:
        return [str(value) for value in typing.get_args(annotation)]
    return [value for arg in typing.get_args(annotation) for value in _choices(arg)]


def _place(loc: Sequence[str | int]) -> str:
    """`accept_outliers item 2` for the location of a value inside a list, '' at the top level."""
    return " ".join(f"item {p + 1}" if isinstance(p, int) else str(p) for p in loc)


def message(error: Mapping[str, Any], model: type[BaseModel], noun: str = "key") -> str:
    """One pydantic error in words: the key, the value found and what is accepted."""
    loc = tuple(error["loc"])
    kind, found = error["type"], error.get("input")
    key = str(loc[-1]) if loc else ""
    owner = _model_at(model, loc[:-1])
    if kind == "extra_forbidden":
        text = f"unknown {noun} {key!r}; the {noun}s are {', '.join(owner.model_fields)}"
    elif kind == "missing":
        info = owner.model_fields.get(key)
        about = f" ({info.description})" if info is not None and info.description else ""
        text = f"missing required {noun} {key!r}{about}"
    elif kind in ("value_error", "assertion_error"):
        text = str(error["ctx"]["error"])
    elif kind == "literal_error" and key in owner.model_fields:
        text = f"{key} {found!r} is not one of {', '.join(_choices(owner.model_fields[key].annotation))}"
    elif kind == "string_too_short":
        text = f"{key} is empty; it needs a value"
    else:
        text = f"{key} {found!r} is not valid: {error['msg']}"
    inside = _place(loc[:-1]) if len(loc) > 1 else ""
    return f"{inside}: {text}" if inside else text


def validate(
    model: type[M],
    values: object,
    where: str,
    row: int | None,
    *,
    noun: str = "key",
    label: str = "",
    key_rows: Mapping[str, int] | None = None,
) -> tuple[M | None, list[Problem]]:
    """`values` as a `model` record, or the problems that stop it: each names `where`, the `row` (the line of its
    key when `key_rows` maps keys to lines) and the key at fault; `label` leads each message."""
    try:
        return model.model_validate(values), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else None
            text = message(error, model, noun)
            line = key_rows.get(key or "", row) if key_rows is not None else row
            problems.append(Problem(where, f"{label}: {text}" if label else text, row=line, column=key))
        return None, problems


def header_problems(model: type[BaseModel], header: Sequence[str], where: str) -> list[Problem]:
    """A CSV header against the columns of `model`: every required column present, no column it does not know."""
    missing = [name for name, info in model.model_fields.items() if info.is_required() and name not in header]
    problems = [Problem(where, f"missing column(s) {missing}", 1)] if missing else []
    known = ", ".join(model.model_fields)
    problems += [
        Problem(where, f"unknown column {name!r}; the columns are {known}", 1, name)
        for name in header
        if name not in model.model_fields
    ]
    return problems
