"""Write the operator API's OpenAPI document to console/openapi.json (the console's API
client is generated from it), or with --check say whether the file is current.

    python scripts/openapi.py          # write it
    python scripts/openapi.py --check  # exit 1 if console/openapi.json is stale
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from hotline.app import federation_app, init_node

TARGET = Path(__file__).resolve().parents[1] / "console" / "openapi.json"


def current() -> str:
    """The document of this checkout's API, as the file holds it."""
    with tempfile.TemporaryDirectory() as home:
        node = init_node({}, Path(home) / "node", "US", "United States")
        try:
            app = federation_app(node)
            document: dict[str, Any] = app.state.contract()
        finally:
            node.close()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = current()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text("utf-8") != text:
            print(f"{TARGET} is stale: run python scripts/openapi.py", file=sys.stderr)
            return 1
        print(f"{TARGET} is current")
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, "utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
