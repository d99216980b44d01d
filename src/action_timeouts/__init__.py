"""Change the execution timeout of Genesys Cloud data actions safely."""

import sys

__version__ = "0.1.0"

# When rich, click and pygments are installed, `import httpx` also loads httpx's own
# command line, and with it rich and pygments (about 70 ms). The library never uses
# it, so an empty entry makes httpx skip it, unless httpx was imported before us.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
