r"""`order_summary`: an orderdesk-mcp tool component written in Python.

Built with componentize-py (components/python/requirements.txt) from the repository
root against the host's WIT (`components/kit/wit/orderdesk-mcp.wit`), narrowed by `wit/world.wit`
beside this file to the one host interface it uses:

    componentize-py -d components/kit/wit -d components/python/order_summary/wit \
        -w orderdesk:order-summary/order-summary componentize app \
        -p components/python/order_summary -o target/python/order_summary.wasm

(componentize-py imports every interface of the targeted world; built against the
whole `tool-group` world the component would import `session`, `vault` and `log` as
well and the host would refuse it under an `orderdesk = "read"` grant.)

It exports `tools` with one tool, `order_summary_recent`, and imports only the host's
`orderdesk` interface (plus the shared `types`), so its manifest `order_summary.toml`
needs just:

    [grants]
    orderdesk = "read"

Python names of the WIT items (see `componentize-py ... bindings DIR`): the module
`wit_world.imports.orderdesk` (`send`, `ApiRequest`, `Method.GET`,
`CacheMode.USE_CACHE`), `wit_world.imports.types` (`HostError_*` variants),
`wit_world.exports.tools` (`Tool`, `Annotations`, `ToolError_*` variants); the export
is the class `Tools` below implementing `wit_world.exports.Tools`. A WIT `result`'s
error arrives as the exception `componentize_py_types.Err` and is answered by raising
it.
"""

import json

from componentize_py_types import Err

from wit_world import exports
from wit_world.exports import tools
from wit_world.imports import orderdesk, types

TOOL_NAME = "order_summary_recent"
DEFAULT_LIMIT = 10

INPUT_SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "store": {"type": "string"},
        },
        "additionalProperties": False,
    }
)


def _tool_error(error: types.HostError) -> tools.ToolError:
    """Map a host error to the tool error the model reads."""
    if isinstance(error, types.HostError_AccessDenied):
        return tools.ToolError_Unauthorized(f"access denied: {error.value}")
    if isinstance(error, types.HostError_Unauthenticated):
        return tools.ToolError_Unauthorized(error.value)
    if isinstance(error, types.HostError_InvalidInput):
        return tools.ToolError_InvalidInput(error.value)
    if isinstance(error, types.HostError_NotFound):
        return tools.ToolError_NotFound(error.value)
    if isinstance(error, types.HostError_RateLimited):
        return tools.ToolError_RateLimited(error.value)
    if isinstance(error, types.HostError_Upstream):
        return tools.ToolError_Upstream(
            f"OrderDesk answered {error.value.status}: {error.value.message}"
        )
    if isinstance(error, types.HostError_OutcomeUnknown):
        return tools.ToolError_OutcomeUnknown(error.value)
    if isinstance(error, types.HostError_Conflict):
        return tools.ToolError_InvalidInput(f"conflict: {error.value}")
    if isinstance(error, types.HostError_NotAvailable):
        return tools.ToolError_Internal(f"not available: {error.value}")
    # HostError_Internal and anything a later WIT version adds.
    return tools.ToolError_Internal(str(getattr(error, "value", error)))


def _recent(arguments: dict) -> dict:
    limit = arguments.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
        raise Err(tools.ToolError_InvalidInput("limit: an integer from 1 to 100"))
    store = arguments.get("store")
    if store is not None and not isinstance(store, str):
        raise Err(tools.ToolError_InvalidInput("store: a store id or name"))

    request = orderdesk.ApiRequest(
        method=orderdesk.Method.GET,
        path="/orders",
        query=[("limit", str(limit))],
        body=None,
        store=store,
        cache=orderdesk.CacheMode.USE_CACHE,
    )
    try:
        response = orderdesk.send(request)
    except Err as e:
        raise Err(_tool_error(e.value))

    try:
        body = json.loads(response.body)
        orders = body.get("orders") or []
        summary = []
        total = 0.0
        for order in orders:
            total += float(order.get("order_total") or 0)
            summary.append(
                {
                    "id": order.get("id"),
                    "email": order.get("email"),
                    "order_total": order.get("order_total"),
                }
            )
    except (ValueError, TypeError, AttributeError) as e:
        raise Err(tools.ToolError_Upstream(f"unexpected OrderDesk answer: {e}"))

    return {"count": len(summary), "total_value": total, "orders": summary}


class Tools(exports.Tools):
    def list(self) -> list[tools.Tool]:
        return [
            tools.Tool(
                name=TOOL_NAME,
                title="Recent orders summary",
                description=(
                    "Summarise the most recent orders of a store: how many, their summed "
                    "order_total, and each order's id, email and total. Reads only. "
                    "`limit` (1-100, default 10) bounds the orders; `store` names the "
                    "store (id or name), else the session's active store."
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
            raise Err(tools.ToolError_NotFound(f"no tool named {name!r}"))
        try:
            parsed = json.loads(arguments) if arguments else {}
        except ValueError as e:
            raise Err(tools.ToolError_InvalidInput(f"arguments are not JSON: {e}"))
        if not isinstance(parsed, dict):
            raise Err(tools.ToolError_InvalidInput("arguments must be a JSON object"))
        return json.dumps(_recent(parsed))
