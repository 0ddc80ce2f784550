r"""`{{name}}`: an orderdesk-mcp tool component in Python, written by
`orderdesk-mcp component new {{name}} --lang python`.

One tool, `{{name}}_items`, reads the store's inventory (`GET /inventory-items`, page by
page) and answers the items whose name or SKU contains `search`. Build it with
componentize-py against `wit/world/world.wit`, which narrows the host's WIT
(`wit/host/`) to the `orderdesk` import: componentize-py imports every interface of
the world it builds against, and the host refuses imports that are not granted.

    componentize-py -d wit/host -d wit/world -w {{package}}/{{world}} componentize app -o {{name}}.wasm
"""

import json

from componentize_py_types import Err

from wit_world import exports
from wit_world.exports import tools
from wit_world.imports import orderdesk, types

TOOL_NAME = "{{name}}_items"
MAX_LIMIT = 500  # OrderDesk's largest page

INPUT_SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "search": {
                "type": "string",
                "minLength": 1,
                "description": 'Text to find in the name or SKU, e.g. "mug".',
            },
            "store": {
                "type": "string",
                "minLength": 1,
                "description": "Store name or id (default: the session's active store).",
            },
        },
        "additionalProperties": False,
    }
)


def _tool_error(error: types.HostError) -> tools.ToolError:
    """The tool error the model reads for a host error."""
    if isinstance(error, types.HostError_NotFound):
        return tools.ToolError_NotFound(error.value)
    if isinstance(error, types.HostError_RateLimited):
        return tools.ToolError_RateLimited(error.value)
    if isinstance(error, types.HostError_InvalidInput):
        return tools.ToolError_InvalidInput(error.value)
    if isinstance(error, types.HostError_Unauthenticated):
        return tools.ToolError_Unauthorized(error.value)
    if isinstance(error, types.HostError_AccessDenied):
        return tools.ToolError_Unauthorized(f"{error.value}; ask the operator to grant it")
    if isinstance(error, types.HostError_Upstream):
        return tools.ToolError_Upstream(
            f"OrderDesk answered HTTP {error.value.status}: {error.value.message}"
        )
    if isinstance(error, types.HostError_OutcomeUnknown):
        return tools.ToolError_OutcomeUnknown(error.value)
    return tools.ToolError_Internal(str(getattr(error, "value", error)))


def _page(search, store, offset: int) -> dict:
    query = [("limit", str(MAX_LIMIT)), ("offset", str(offset))]
    if search:
        query.append(("search", search))
    request = orderdesk.ApiRequest(
        method=orderdesk.Method.GET,
        path="/inventory-items",
        query=query,
        body=None,
        store=store,
        cache=orderdesk.CacheMode.USE_CACHE,
    )
    try:
        return json.loads(orderdesk.send(request).body)
    except Err as e:
        raise Err(_tool_error(e.value))


def _stock(value):
    """Stock arrives as 11 or "11" (PHP): a whole number, or None."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _items(arguments: dict) -> dict:
    search, store = arguments.get("search"), arguments.get("store")
    found, offset = [], 0
    while True:
        page = _page(search, store, offset)
        items = page.get("inventory_items") or []
        if isinstance(items, dict):  # PHP writes a keyed list as an object
            items = list(items.values())
        for item in items:
            found.append(
                {
                    "id": str(item.get("id")),
                    "code": item.get("code"),
                    "name": item.get("name"),
                    "stock": _stock(item.get("stock")),
                }
            )
        # More pages exist while offset + records_returned < total_records.
        offset += int(page.get("records_returned") or len(items))
        if not items or offset >= int(page.get("total_records") or 0):
            break
    return {"count": len(found), "items": found}


class Tools(exports.Tools):
    def list(self) -> list[tools.Tool]:
        return [
            tools.Tool(
                name=TOOL_NAME,
                title="Find inventory items",
                description=(
                    "List the store's inventory items whose name or SKU contains `search` "
                    "(every item without it): id, SKU (`code`), name and stock of each. "
                    "Changes nothing."
                ),
                input_schema=INPUT_SCHEMA,
                output_schema=None,
                annotations=tools.Annotations(
                    read_only=True, destructive=False, idempotent=True, open_world=True
                ),
            )
        ]

    def call(self, name: str, arguments: str) -> str:
        if name != TOOL_NAME:
            raise Err(tools.ToolError_InvalidInput(f"no tool named {name!r}"))
        parsed = json.loads(arguments) if arguments else {}
        return json.dumps(_items(parsed))
