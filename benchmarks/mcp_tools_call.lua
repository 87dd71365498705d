-- wrk script for benchmarks/mcp_bench.py: one MCP 2026-07-28 `tools/call` per request.
-- Args (after `--`): the JSON body file, then an optional bearer token.
-- Every answer that is not HTTP 200 with a JSON-RPC `result` free of `"isError":true` counts as bad;
-- done() prints "bad answers: N" (summed over threads).

local threads = {}
local request_bytes
bad = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local body = file:read("*all")
  file:close()
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = "2026-07-28",
    ["Mcp-Method"] = "tools/call",
    ["Mcp-Name"] = "echo",
  }
  if args[2] ~= nil and args[2] ~= "" then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  request_bytes = wrk.format("POST", nil, headers, body)
end

function request()
  return request_bytes
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"result"', 1, true) or body:find('"isError":true', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
  end
  io.write(string.format("bad answers: %d\n", total))
end
