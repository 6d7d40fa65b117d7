"""Checks of file paths given on the command line, made before any work starts."""

from __future__ import annotations

import os
from pathlib import Path

from wenti.cli.base import CliError
from wenti.i18n import _

# A path the user gave that cannot be used is a wrong command line (see docs/cli.md).
EXIT_BAD_PATH = 2


def check_output_path(path: Path, option_name: str) -> None:
    """Raise `CliError` unless a file can be written at `path`.

    The folder must exist and be writable, and `path` must not be a folder. An
    existing file is fine because commands replace it.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise CliError(
            _("{option} {file} is a folder; give a file name such as {example}.").format(
                option=option_name, file=path, example=path / "out.csv"
            ),
            EXIT_BAD_PATH,
        )
    if not folder.is_dir():
        raise CliError(
            _("{option} {file}: the folder {folder} does not exist. Create it first or choose another path.").format(
                option=option_name, file=path, folder=folder
            ),
            EXIT_BAD_PATH,
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(
            _("{option} {file}: the folder {folder} is not writable. Choose a folder you can write to.").format(
                option=option_name, file=path, folder=folder
            ),
            EXIT_BAD_PATH,
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise CliError(
            _("{option} {file}: the file exists and is not writable. Choose another path or change its permissions.").format(
                option=option_name, file=path
            ),
            EXIT_BAD_PATH,
        )
