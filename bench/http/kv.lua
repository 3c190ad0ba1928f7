-- kv.lua: the wrk script of keyva's HTTP bench (bench/http/run.sh). One script for every server
-- and workload, so all servers get the same key choice, value size and request mix.
--
-- Usage: wrk -t T -c C -d D -s kv.lua URL -- STYLE OP KEYS VALUE_SIZE C T
--   STYLE  keyva    GET /kv/K, PUT /kv/K (body = value)
--          etcd     GET /v2/keys/K, PUT /v2/keys/K (form body value=V: etcd's v2 keys API)
--          webdis   GET /GET/K.txt, PUT /SET/K (body = value: webdis's file-upload form of SET)
--          nginx    GET /kv/K, PUT /kv/K (the server answers a fixed 200 to anything)
--   OP     get | put | mix (90% GET, 10% PUT, drawn per request) | preload
--          Two more for run.sh's calibration line against nginx's fixed 200 only:
--          get-fixed  no request(): wrk sends one fixed request (URL's path) on its C path, the
--                     client's own ceiling
--          get-format get, but every request formatted in request() by string.format and
--                     wrk.format, as this script did before, to show what that costs
--   KEYS   keys are "key" .. 7 decimal digits, 0 <= i < KEYS; get/put/mix draw i uniformly
--   preload: thread t of T PUTs keys t, t+T, t+2T, ... (then from t again), and stops itself
--          after 2C/T+1 more responses than it has keys, so every key's PUT has been answered
--          (a connection has at most one request in flight; the GET runs count any 404). Run it
--          with a long -d and KEYVA_BENCH_PRELOAD=1 in the environment (that defines response(),
--          which would slow the measured runs down: wrk parses bodies only when it exists); a
--          thread that stops creates the file $KEYVA_BENCH_PRELOAD_DONE.<thread index>.
--
-- Cost per request: wrk calls request() for every request once a script defines it, and the
-- bench shares the machine's cores with the server, so whatever the client spends per request
-- is taken from the server. Every request a thread can send is therefore formatted once, in
-- init() (one string per key and method, KEYS x ~200 bytes per thread for PUTs), and request()
-- only draws a key and returns that string: one random number and a table index. That costs
-- wrk 4-12% more CPU per request than a fixed request; formatting in request() (wrk.format,
-- string.format) cost 19-33% more (bench/README.md has the measurements).
--
-- Values are VALUE_SIZE printable ASCII letters and digits (no encoding needed in any style).
-- done() prints one JSON line starting with "KVJSON " that run.sh parses: requests, duration,
-- errors (status = non-2xx/3xx answers), latency percentiles (microseconds), gets and puts
-- (requests sent; the 10% of mix are drawn, so its split is counted).
-- Thread-safety: wrk gives each thread its own Lua state; setup() and done() run in the main one.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads - 1)
end

local random = math.random
local op, keys, last, get_reqs, put_reqs
local first_key, next_key, stride, stop_after, responses_seen

local function MakeValue(n, seed)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
  local out = {}
  math.randomseed(seed)
  for i = 1, n do
    local c = math.random(1, #alphabet)
    out[i] = alphabet:sub(c, c)
  end
  return table.concat(out)
end

-- Returns get_path(key), put_path(key), put headers and put body for STYLE.
local function Style(style, value)
  if style == "keyva" or style == "nginx" then
    local path = function(k) return "/kv/" .. k end
    return path, path, {["Content-Type"] = "text/plain"}, value
  elseif style == "etcd" then
    local path = function(k) return "/v2/keys/" .. k end
    return path, path, {["Content-Type"] = "application/x-www-form-urlencoded"}, "value=" .. value
  elseif style == "webdis" then
    return function(k) return "/GET/" .. k .. ".txt" end, function(k) return "/SET/" .. k end,
        {["Content-Type"] = "text/plain"}, value
  end
  error("kv.lua: unknown style " .. tostring(style))
end

-- Every request string for keys 0..KEYS-1 (index i is key i), formatted once: wrk.format makes
-- one request with a marker for the key, and each key's string is the text around it joined
-- with the key (keys are fixed-width, so this is the same string wrk.format would make).
local function Requests(method, path, headers, body)
  local marker = "\1KEY\1"
  local whole = wrk.format(method, path(marker), headers, body)
  local at = whole:find(marker, 1, true)
  local head, tail = whole:sub(1, at - 1), whole:sub(at + #marker)
  local out = {}
  collectgarbage("stop")  -- everything built here is kept: collecting meanwhile is wasted work
  for i = 0, keys - 1 do out[i] = head .. string.format("key%07d", i) .. tail end
  collectgarbage("restart")
  return out
end

function init(args)
  local style = args[1]
  op = args[2]
  keys = tonumber(args[3])
  last = keys - 1
  local value_size = tonumber(args[4])
  local connections = tonumber(args[5])
  local nthreads = tonumber(args[6])
  local id = wrk.thread:get("id")
  local value = MakeValue(value_size, 7919 * (id + 1))
  local get_path, put_path, put_headers, put_body = Style(style, value)
  if op == "get" or op == "mix" then get_reqs = Requests("GET", get_path) end
  if op == "put" or op == "mix" or op == "preload" then
    put_reqs = Requests("PUT", put_path, put_headers, put_body)
  end
  math.randomseed(104729 * (id + 1) + os.time())
  gets, puts = 0, 0
  if op == "preload" then
    stride = nthreads
    first_key, next_key = id, id
    -- wrk calls request() of thread 0 once to check the script and drops that request (its
    -- first key): the +1 and the wrap-around to the first key make up for it.
    local own_keys = math.floor((keys - 1 - id) / stride) + 1
    stop_after = own_keys + 2 * math.floor(connections / stride) + 1
    responses_seen = 0
  elseif op == "get-fixed" then
    return  -- no request(): wrk.init formats the URL's request once, wrk sends it every time
  elseif op ~= "get" and op ~= "put" and op ~= "mix" and op ~= "get-format" then
    error("kv.lua: unknown op " .. tostring(op))
  end
  -- One request() per op, chosen here (wrk looks for it after init()), so the per-request path
  -- has no branch on op.
  if op == "get-format" then
    request = function()
      gets = gets + 1
      return wrk.format("GET", get_path(string.format("key%07d", random(0, last))))
    end
  elseif op == "get" then
    request = function()
      gets = gets + 1
      return get_reqs[random(0, last)]
    end
  elseif op == "put" then
    request = function()
      puts = puts + 1
      return put_reqs[random(0, last)]
    end
  elseif op == "mix" then
    -- One draw picks both: below KEYS is a PUT of that key (1 in 10), else a GET of it mod KEYS.
    local span = 10 * keys - 1
    request = function()
      local r = random(0, span)
      if r < keys then
        puts = puts + 1
        return put_reqs[r]
      end
      gets = gets + 1
      return get_reqs[r % keys]
    end
  else
    -- preload: own keys in order, then again from the first until stopped
    request = function()
      local i = next_key
      next_key = next_key + stride
      if next_key > last then next_key = first_key end
      puts = puts + 1
      return put_reqs[i]
    end
  end
end

if os.getenv("KEYVA_BENCH_PRELOAD") == "1" then
  function response(status, headers, body)
    responses_seen = responses_seen + 1
    if responses_seen == stop_after then
      -- wrk's main thread sleeps for all of -d even when every thread has stopped: run.sh
      -- waits for one marker file per thread, then ends wrk with SIGINT.
      local marker = os.getenv("KEYVA_BENCH_PRELOAD_DONE")
      if marker then io.open(marker .. "." .. wrk.thread:get("id"), "w"):close() end
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local g, p = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("gets")
    p = p + t:get("puts")
  end
  local e = summary.errors
  io.write(string.format(
      'KVJSON {"requests":%d,"duration_us":%d,"bytes":%d,"gets":%d,"puts":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes, g, p, e.connect, e.read, e.write,
      e.status, e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), latency.max))
end
