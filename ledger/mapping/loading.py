"""Reading a mapping: a YAML file, or a mapping shipped with creditrisk by name.

Loading validates the mapping completely; a :class:`MappingError` names the key that is wrong.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from creditrisk.ledger.errors import MappingError
from creditrisk.ledger.mapping.spec import LedgerMapping

SHIPPED_MAPPINGS_PACKAGE = "creditrisk.ledger.mappings"


def _format_errors(source: str, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"  {where}: {message}" if where else f"  {message}")
    return f"mapping {source} is invalid:\n" + "\n".join(lines)


def parse_mapping(data: Any, *, base_dir: Path, source: str = "<mapping>") -> LedgerMapping:
    """Validate a mapping already read from YAML (a dict); relative files resolve to base_dir."""
    if not isinstance(data, dict):
        raise MappingError(f"mapping {source} is invalid: expected a YAML mapping with 'tables'")
    try:
        return LedgerMapping.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise MappingError(_format_errors(source, exc)) from None


def shipped_mappings() -> dict[str, Path]:
    """Mappings shipped with creditrisk, by name (``canonical``, ``ibm_accounts_receivable``)."""
    folder = resources.files(SHIPPED_MAPPINGS_PACKAGE)
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def resolve_mapping_path(name_or_path: str | Path) -> Path:
    """A mapping file path, or the name of a shipped mapping (``ibm_accounts_receivable``)."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    shipped = shipped_mappings()
    if path.stem in shipped and path.parent == Path("."):
        return shipped[path.stem]
    raise MappingError(
        f"mapping file not found: {str(name_or_path)!r} "
        f"(shipped mappings: {', '.join(sorted(shipped))})"
    )


def load_mapping(name_or_path: str | Path) -> LedgerMapping:
    """Read and validate a mapping file (or a shipped mapping by name)."""
    path = resolve_mapping_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping {path} is not valid YAML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"cannot read mapping {path}: {exc}") from None
    return parse_mapping(data, base_dir=path.resolve().parent, source=str(path))


# ---------------------------------------------------------------- applying a column spec
