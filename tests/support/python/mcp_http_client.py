"""One session of the official MCP Python SDK's Streamable HTTP client against a server.

Usage: python mcp_http_client.py URL TOKEN STORE
Prints one JSON object: what the session saw (tests/remote.rs checks it).
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main(url: str, token: str, store: str) -> None:
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                tools = await session.list_tools()
                info = await session.call_tool("tenant_info", {})
                listed = await session.call_tool(
                    "orders_list",
                    {"store": store, "fetch_all": True, "limit": 10,
                     "search_start_date": "2000-01-01", "search_end_date": "2099-12-31"},
                    progress_callback=on_progress,
                )
                print(
                    json.dumps(
                        {
                            "server": init.server_info.name,
                            "protocol": init.protocol_version,
                            "tools": [tool.name for tool in tools.tools],
                            "tenant": info.structured_content,
                            "listed_error": bool(listed.is_error),
                            "listed_count": len((listed.structured_content or {}).get("orders", [])),
                            "progress": len(progress),
                        }
                    )
                )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
