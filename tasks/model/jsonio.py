"""JSON text in and out: precise parse errors and one stable output format."""

from __future__ import annotations

import json
from typing import Any

from tasks.errors import ConfigError


def loads(text: str, source: str) -> Any:
    """Parse JSON *text* read from *source*; a syntax error names file, line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}; fix the syntax there"]
        ) from None
    except RecursionError:
        raise ConfigError([f"{source}: nested too deeply to be a runenv file; check what wrote it"]) from None


def dumps(data: Any) -> str:
    """The one stable JSON form runenv writes: sorted keys, two-space indent, final newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
