"""The ``[recourse]`` table of a generated campaign (SPEC §8): written last in campaign.toml,
so it can be replaced or taken out again as text.

data/sample gets air and courier top-ups from 2026-09-28, five weeks before its first
warehouse's cutoff (2026-11-01); its other generated campaigns plan one stage.
"""

from __future__ import annotations

import pathlib

HEADER = "[recourse]"


def recourse_table(date: str, modes: list[str], *, scenarios: int | None = None, seed: int | None = None) -> str:
    """The table's text: top-ups decided on ``date`` by ``modes``."""
    lines = [HEADER, f"date = {date}", "modes = [" + ", ".join(f'"{m}"' for m in modes) + "]"]
    if scenarios is not None:
        lines.append(f"scenarios = {scenarios}")
    if seed is not None:
        lines.append(f"seed = {seed}")
    return "\n".join(lines) + "\n"


def without_recourse(toml_text: str) -> str:
    """campaign.toml's text without its ``[recourse]`` table (the table is the file's last)."""
    at = toml_text.find(HEADER)
    if at < 0:
        return toml_text
    tail = toml_text[at + len(HEADER):]
    if "\n[" in tail:
        raise ValueError("[recourse] is not campaign.toml's last table")
    return toml_text[:at].rstrip("\n") + "\n"


def set_recourse(folder: pathlib.Path | str, table: str | None) -> pathlib.Path:
    """Give the campaign in ``folder`` the ``[recourse]`` table ``table`` (None: none)."""
    path = pathlib.Path(folder) / "campaign.toml"
    text = without_recourse(path.read_text(encoding="utf-8"))
    if table is not None:
        text += "\n" + table
    path.write_text(text, encoding="utf-8", newline="\n")
    return pathlib.Path(folder)


__all__ = ["recourse_table", "set_recourse", "without_recourse"]
