"""Which files `ade extract` of folders and globs reads, and the output folder of each.

Rules (the README and `ade extract --help` say the same):

- A path that names a file is taken as it is, whatever the filters say (you named it).
- A folder is walked recursively; a file in it is taken when its name (or its path relative to
  the folder, for a pattern with a "/") matches one `--include` pattern (default: the spreadsheet
  and CSV extensions, so a README next to the exports is not a failed file) and no `--exclude`
  pattern. An exclude pattern that matches a sub-folder's name skips the whole sub-folder.
- Office lock files (`~$*`) and hidden files and folders (`.*`) are always skipped in folders.
- An argument that does not exist and contains `*`, `?` or `[` is a glob (for when the shell did
  not expand it, e.g. quoted or on Windows); `**` crosses folders. Its files are filtered like a
  folder's.
- The output folder itself is never read (`ade extract . -o out` must not read its own CSVs).
- Patterns match case-insensitively (`*.xlsx` takes `REPORT.XLSX`).

Each file gets `OUTPUT/<its file name>`; a name met again (case-insensitively, so the folders do
not merge on macOS or Windows) gets `~2`, `~3`, ... in the order the files were found, which is
the order of the arguments and, inside a folder, of the sorted relative paths: the same command
on the same files always gives the same folders. Pure standard library: imported at start-up.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

DEFAULT_INCLUDE = ("*.csv", "*.tsv", "*.txt", "*.xlsx", "*.xlsm", "*.xlsb", "*.xls", "*.ods")
ALWAYS_EXCLUDE = ("~$*", ".*")
BATCH_CSV = "batch.csv"
_MAGIC = frozenset("*?[")


class InputError(ValueError):
    """An argument names nothing (a missing path, a glob without a match): a usage error."""


@dataclass(frozen=True)
class Job:
    """One file to extract and the folder its outputs go to."""

    file: Path
    output: Path


def is_glob(argument: str) -> bool:
    return any(char in _MAGIC for char in argument)


def _matches(patterns: Iterable[str], name: str, relative: str) -> bool:
    name, relative = name.lower(), relative.lower()
    return any(fnmatchcase(relative if "/" in p else name, p.lower().rstrip("/")) for p in patterns)


def _walk(root: Path, include: Sequence[str], exclude: Sequence[str], skip: Path) -> Iterable[Path]:
    excluded = (*ALWAYS_EXCLUDE, *exclude)
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel_folder = here.relative_to(root).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = [
            d
            for d in dirs
            if not _matches(excluded, d, prefix + d) and (here / d).resolve() != skip
        ]
        for name in files:
            relative = prefix + name
            if _matches(include, name, relative) and not _matches(excluded, name, relative):
                found.append((relative, here / name))
    return [path for _, path in sorted(found)]


def _filtered(paths: Iterable[Path], include: Sequence[str], exclude: Sequence[str]) -> list[Path]:
    excluded = (*ALWAYS_EXCLUDE, *exclude)
    kept = []
    for path in paths:
        parts = path.parts
        if any(_matches(excluded, part, part) for part in parts[:-1] if part not in (".", "..")):
            continue
        if _matches(include, path.name, path.as_posix()) and not _matches(
            excluded, path.name, path.as_posix()
        ):
            kept.append(path)
    return kept


def find_inputs(
    arguments: Sequence[str],
    output: Path,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[Job]:
    """The files the arguments name, each with its output folder under `output`."""
    include = tuple(include) or DEFAULT_INCLUDE
    skip = output.resolve()
    files: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files.extend(_walk(path, include, exclude, skip))
        elif path.exists():
            files.append(path)
        elif is_glob(argument):
            matches = sorted(glob.glob(argument, recursive=True))
            if not matches:
                raise InputError(f"no file matches {argument!r}")
            candidates = [Path(m) for m in matches if Path(m).is_file()]
            files.extend(p for p in _filtered(candidates, include, exclude) if not _under(p, skip))
        else:
            raise InputError(f"no such file or folder: {argument}")
    unique = list(dict.fromkeys(files))  # a file named twice (a folder and a glob) runs once
    return [Job(file, output / name) for file, name in zip(unique, _names(unique), strict=True)]


def _under(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder)


def _names(files: Sequence[Path]) -> list[str]:
    taken = {BATCH_CSV.lower()}  # a file called batch.csv must not become a folder over it
    names = []
    for file in files:
        name, number = file.name, 1
        while name.lower() in taken:
            number += 1
            name = f"{file.name}~{number}"
        taken.add(name.lower())
        names.append(name)
    return names
