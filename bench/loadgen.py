"""Drive a URL with wrk (bounded in time) and read throughput and latency percentiles."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

LUA = r"""
local method, body, headers = "%(method)s", %(body)s, {}
%(headers)s
local ok = {%(ok)s}
local limit = %(limit)d
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
init = function(args)
  bad = 0
  seen = 0
  sent = 0
end
request = function()
  -- A form key per request (UNIQUE in the body): each filing is a new one, not a resend.
  sent = sent + 1
  local b = body and (body:gsub("__UNIQUE__", string.format("bench%%02d%%012d", tid or 0, sent)))
  return wrk.format(method, nil, headers, b)
end
response = function(status, hdrs, resp_body)
  seen = seen + 1
  if not ok[status] then bad = bad + 1 end
  if seen >= limit then wrk.thread:stop() end
end
done = function(summary, latency, requests)
  local s = summary
  local bad_total = 0
  for _, thread in ipairs(threads) do bad_total = bad_total + thread:get("bad") end
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "p50": %%d, "p95": %%d, "p99": %%d, "errors_status": %%d, "errors_socket": %%d}\n',
    s.requests, s.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    bad_total, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout))
end
"""


@dataclass
class LoadResult:
    name: str
    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def run_wrk(name: str, url: str, cookie: str, *, method: str = "GET", body: str | None = None,
            content_type: str | None = None, seconds: int = 10, connections: int = 4,
            threads: int = 1, max_requests: int = 20000,
            ok_status: tuple[int, ...] = (200,),
            extra_headers: dict[str, str] | None = None) -> LoadResult:
    """Load *url* for at most *seconds* and about *max_requests* responses per thread.

    A response whose status is not in *ok_status* counts as an error, as do socket errors.
    ``__UNIQUE__`` in *body* becomes a value of its own in every request (a form key).
    """
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `apt-get install wrk` (make bench installs it)")
    headers = [f'headers["Cookie"] = {_lua_string(cookie)}'] if cookie else []
    headers += [f'headers[{_lua_string(k)}] = {_lua_string(v)}'
                for k, v in (extra_headers or {}).items()]
    if content_type:
        headers.append(f'headers["Content-Type"] = {_lua_string(content_type)}')
    script = LUA % {"method": method, "body": _lua_string(body) if body is not None else "nil",
                    "headers": "\n".join(headers),
                    "ok": ", ".join(f"[{code}] = true" for code in ok_status),
                    "limit": max(1, max_requests // threads)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        path = handle.name
    try:
        output = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
             "--timeout", "10s", "-s", path, url],
            capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(path)
    line = next(l for l in output.splitlines() if l.startswith("RESULT "))
    data = json.loads(line[len("RESULT "):])
    duration = data["duration_us"] / 1e6
    return LoadResult(name, data["requests"], data["requests"] / duration if duration else 0.0,
                      data["p50"] / 1000, data["p95"] / 1000, data["p99"] / 1000,
                      data["errors_status"] + data["errors_socket"])
