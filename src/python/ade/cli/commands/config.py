"""`ade config init [FILE]` and `ade config validate FILE`: start and check a configuration.

`init` writes the shipped default configuration (src/python/ade/db/default_configuration.json)
and, beside it, `<name>.README.md` explaining each key. Why a companion README and not `$comment`
keys in the JSON: the configuration model is strict (`extra="forbid"`) and the API stores,
returns and publishes the schema of exactly that model, so accepting comment keys would either
change the API's contract or lose the comments on the first round trip. The file `init` writes
is a configuration as it is: `ade extract -c FILE`, `ade config validate FILE` and the API's
POST .../configurations take it unchanged.

`validate` prints the located errors the API answers for the same spec (the same code,
:func:`ade.api.field_errors.located_errors`), one per line, and exits 1; `--json` prints them
as the API's `errors` list. Only Typer at module level: pydantic loads inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Configurations: write a commented starting one, check one.")

# One line per key of the configuration (tests/cli/test_config_cli.py fails when a key of the
# model has none, so this cannot fall behind the model).
KEY_NOTES: dict[str, str] = {
    "version": "Format version; always 1.",
    "name": "A name for the configuration, shown in summaries and on the run page.",
    "fields": "The target columns of the normalized output, in order (at least one).",
    "fields[].name": "Identifier of the field (letters, digits, _), e.g. `employee_id`.",
    "fields[].label": "Column title written to the outputs (default: the name).",
    "fields[].aliases": "Other header spellings that mean this field (case, accents and "
    "punctuation ignored).",
    "fields[].required": "true: a row without a value gets a `missing_required` issue, and a "
    "table without the column is reported.",
    "fields[].type": "How values are checked and normalized: text, email, date, number, "
    "integer, phone, name, full_name, name_prefix (Mr., Dr) or name_suffix (Jr., PhD).",
    "derive_names": "Keep a full-name field and its parts consistent (split, join or both).",
    "derive_names[].full_name": "The field holding the whole name.",
    "derive_names[].first_name": "The field holding the first name.",
    "derive_names[].last_name": "The field holding the last name.",
    "derive_names[].middle_name": "Optional: the field holding the middle name.",
    "derive_names[].name_prefix": "Optional: the field holding a title such as Mr. or Dr.",
    "derive_names[].name_suffix": "Optional: the field holding a suffix such as Jr.",
    "derive_names[].direction": "split (parts from the full name), join (full name from the "
    "parts) or both (whichever a row needs).",
    "match_threshold": "A header maps to a field when its score reaches this (0-1; exact "
    "matches score 1).",
    "date_order": "mdy or dmy: the order of ambiguous dates (03/04/2020) when a column gives "
    "no evidence itself.",
    "include_hidden_columns": "false: ignore hidden spreadsheet columns (reported either way).",
    "default_phone_country_code": "Country code given to 10-digit phone numbers without a "
    'leading +, e.g. "1"; null: none.',
    "header_overrides": "Corrections applied before scoring: header text -> field name, or "
    'null for "never maps".',
    "keep_unmapped_columns": "true: source columns that map to no field are written after "
    "the fields, under their own header.",
    "map_by_values": "true: a column with a blank or placeholder header may map by its values "
    "alone when they leave no doubt.",
    "value_match_threshold": "Share of a column's sampled values that must fit the field's "
    "type for a header match to be taken (0-1).",
    "csv_defuse_formulas": "true: CSV cells a spreadsheet would run as a formula get a "
    "leading ' (CSV injection defence).",
    "csv_byte_order_mark": "true: output CSVs start with a UTF-8 byte-order mark (Excel reads "
    "accents right).",
    "csv_max_field_chars": "Longest field a CSV input may hold, in characters; a longer one "
    "fails the run (too_large).",
    "sheets": "Which sheets to read, in order: names as strings, 1-based positions as "
    'integers, e.g. ["Staff", 3]; empty: every worksheet.',
    "active_sheet_only": "true: read only the sheet the workbook opens on (XLSX/ODS: the active "
    "tab; XLS/XLSB: the first visible sheet). Not with `sheets`.",
}


def readme_text(config_name: str) -> str:
    """The companion README of a configuration file written by `init`."""
    lines = [
        f"# {config_name}: what each key means",
        "",
        f"`{config_name}` is ADE's default configuration (people rosters), written by",
        "`ade config init`. JSON has no comments, so they are here. Edit the file, then check it",
        f"with `ade config validate {config_name}` and try it with",
        f"`ade extract FILE -c {config_name} -o out/`.",
        "",
        "| key | meaning |",
        "| --- | --- |",
    ]
    lines.extend(f"| `{key}` | {note} |" for key, note in KEY_NOTES.items())
    return "\n".join(lines) + "\n"


def readme_path(file: Path) -> Path:
    return file.with_name(f"{file.stem}.README.md")


@app.command("init")
def init(
    file: Path = typer.Argument(
        Path("configuration.json"), help="Where to write the configuration."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite FILE and its README."),
) -> None:
    """Write the default configuration to FILE and what each key means to <FILE stem>.README.md.

    \b
    Example:
      ade config init roster.json    # roster.json and roster.README.md
      ade config validate roster.json && ade extract export.xlsx -c roster.json -o out/
    """
    from importlib import resources

    readme = readme_path(file)
    existing = [str(p) for p in (file, readme) if p.exists()]
    if existing and not force:
        typer.echo(
            f"error: {' and '.join(existing)} already exist(s); --force overwrites", err=True
        )
        raise typer.Exit(1)
    text = resources.files("ade.db").joinpath("default_configuration.json").read_text("utf-8")
    try:
        file.write_text(text, "utf-8")
        readme.write_text(readme_text(file.name), "utf-8")
    except OSError as exc:
        typer.echo(f"error: cannot write {exc.filename}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {file} and {readme}")


@app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="Configuration JSON to check.", show_default=False),
    as_json: bool = typer.Option(
        False, "--json", help="Print the errors as the API's `errors` list (JSON)."
    ),
) -> None:
    """Check a configuration file as the API would; print each error with its location.

    Exit 0 when valid, 1 with one line per error otherwise (FILE: location: message).

    \b
    Example:
      ade config validate roster.json
    """
    import json

    from pydantic import ValidationError

    from ade.api.field_errors import located_errors
    from ade.db.configuration_spec import parse_configuration

    try:
        text = file.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    try:
        spec = parse_configuration(text)
    except ValidationError as exc:
        errors = located_errors(exc.errors())
        if as_json:
            typer.echo(json.dumps({"errors": errors}, ensure_ascii=False, indent=2))
        else:
            for error in errors:
                where = ".".join(error["location"]) or "(top level)"
                typer.echo(f"{file}: {where}: {error['message']}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"errors": []}))
    else:
        typer.echo(f"{file}: valid ({spec.name!r}, {len(spec.fields)} field(s))")
