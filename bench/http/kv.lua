-- kv.lua: the wrk script of keyva's HTTP bench (bench/http/run.sh). One script for every server
-- and workload, so all servers get the same key choice, value size and request rate logic.
--
-- Usage: wrk -t T -c C -d D -s kv.lua URL -- STYLE OP KEYS VALUE_SIZE C T
--   STYLE  keyva    GET /kv/K, PUT /kv/K (body = value)
--          etcd     GET /v2/keys/K, PUT /v2/keys/K (form body value=V: etcd's v2 keys API)
--          webdis   GET /GET/K, PUT /SET/K (body = value: webdis's file-upload form of SET)
--          nginx    GET /kv/K, PUT /kv/K (the server answers a fixed 200 to anything)
--   OP     get | put | mix (90% GET, 10% PUT, drawn per request) | preload
--   KEYS   keys are "key" .. 7 decimal digits, 0 <= i < KEYS; get/put/mix draw i uniformly
--   preload: thread t of T PUTs keys t, t+T, t+2T, ... (then from t again), and stops itself
--          after 2C/T+1 more responses than it has keys, so every key's PUT has been answered
--          (a connection has at most one request in flight; the GET runs count any 404). Run it
--          with a long -d and KEYVA_BENCH_PRELOAD=1 in the environment (that defines response(),
--          which would slow the measured runs down: wrk parses bodies only when it exists); a
--          thread that stops creates the file $KEYVA_BENCH_PRELOAD_DONE.<thread index>.
-- Values are VALUE_SIZE printable ASCII letters and digits (no encoding needed in any style).
-- done() prints one JSON line starting with "KVJSON " that run.sh parses: requests, duration,
-- errors (status = non-2xx/3xx answers), latency percentiles (microseconds), gets and puts.
-- Thread-safety: wrk gives each thread its own Lua state; setup() and done() run in the main one.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads - 1)
end

local style, op, keys, value, get_path, put_path, put_headers, put_body
local first_key, next_key, stride, last_key, stop_after, responses_seen

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

function init(args)
  style, op = args[1], args[2]
  keys = tonumber(args[3])
  local value_size = tonumber(args[4])
  local connections = tonumber(args[5])
  local nthreads = tonumber(args[6])
  local id = wrk.thread:get("id")
  value = MakeValue(value_size, 7919 * (id + 1))
  math.randomseed(104729 * (id + 1) + os.time())
  gets, puts = 0, 0
  if style == "keyva" or style == "nginx" then
    get_path = function(k) return "/kv/" .. k end
    put_path = get_path
    put_headers = {["Content-Type"] = "text/plain"}
    put_body = value
  elseif style == "etcd" then
    get_path = function(k) return "/v2/keys/" .. k end
    put_path = get_path
    put_headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
    put_body = "value=" .. value
  elseif style == "webdis" then
    get_path = function(k) return "/GET/" .. k end
    put_path = function(k) return "/SET/" .. k end
    put_headers = {["Content-Type"] = "text/plain"}
    put_body = value
  else
    error("kv.lua: unknown style " .. tostring(style))
  end
  if op == "preload" then
    stride = nthreads
    first_key, next_key, last_key = id, id, keys - 1
    -- wrk calls request() of thread 0 once to check the script and drops that request (its
    -- first key): the +1 and the wrap-around to the first key make up for it.
    local own_keys = math.floor((keys - 1 - id) / stride) + 1
    stop_after = own_keys + 2 * math.floor(connections / stride) + 1
    responses_seen = 0
  elseif op ~= "get" and op ~= "put" and op ~= "mix" then
    error("kv.lua: unknown op " .. tostring(op))
  end
end

local function Key(i) return string.format("key%07d", i) end

local function Get(i)
  gets = gets + 1
  return wrk.format("GET", get_path(Key(i)))
end

local function Put(i)
  puts = puts + 1
  return wrk.format("PUT", put_path(Key(i)), put_headers, put_body)
end

function request()
  if op == "get" then return Get(math.random(0, keys - 1)) end
  if op == "put" then return Put(math.random(0, keys - 1)) end
  if op == "mix" then
    if math.random(1, 10) == 1 then return Put(math.random(0, keys - 1)) end
    return Get(math.random(0, keys - 1))
  end
  -- preload: own keys in order, then again from the first until stopped
  local i = next_key
  next_key = next_key + stride
  if next_key > last_key then next_key = first_key end
  return Put(i)
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
