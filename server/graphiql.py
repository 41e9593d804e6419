"""GraphiQL, served by the app itself: government intranets have no internet access, so the
page references no outside host. The JS and CSS come from the npm registry at set-up time,
pinned by `server/graphiql/package-lock.json` (`make` runs `npm ci` there)."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

ASSETS_DIR = Path(__file__).resolve().parent / "graphiql" / "node_modules"
ASSETS = {
    "react.js": ASSETS_DIR / "react" / "umd" / "react.production.min.js",
    "react-dom.js": ASSETS_DIR / "react-dom" / "umd" / "react-dom.production.min.js",
    "graphiql.js": ASSETS_DIR / "graphiql" / "graphiql.min.js",
    "graphiql.css": ASSETS_DIR / "graphiql" / "graphiql.min.css",
}
DEFAULT_TENANT = "wanqinglu"

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>万家 GraphQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/graphiql/graphiql.css">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">正在加载 GraphiQL…</div>
  <script src="/graphiql/react.js"></script>
  <script src="/graphiql/react-dom.js"></script>
  <script src="/graphiql/graphiql.js"></script>
  <script>
    const headers = {headers};
    const fetcher = GraphiQL.createFetcher({{ url: "/graphql", headers }});
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{
        fetcher,
        defaultEditorToolsVisibility: true,
        headers: JSON.stringify(headers, null, 2),
        defaultQuery: "query {{\\n  tenant {{ name }}\\n  communities(first: 10) {{\\n    edges {{ node {{ name grids(first: 3) {{ edges {{ node {{ name }} }} }} }} }}\\n  }}\\n}}\\n",
      }})
    );
  </script>
</body>
</html>
"""


def graphiql_page(default_tenant: str | None = None) -> str:
    headers = {"X-Tenant": default_tenant or DEFAULT_TENANT}
    # Escaped for a <script> block: a tenant slug from the query string must not close it.
    return PAGE.format(headers=json.dumps(headers).replace("<", "\\u003c"))


async def graphiql_asset(request: Request) -> Response:
    path = ASSETS.get(request.path_params["name"])
    if path is None or not path.is_file():
        return PlainTextResponse("Not Found", status_code=404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


__all__ = ["graphiql_asset", "graphiql_page"]
