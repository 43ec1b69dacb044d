-- The Redis API and sandbox, built once per interpreter (relica's own code).
-- Arguments: R (the table that holds the real globals), raw (Rust helpers),
-- ctx (per-run functions, set by Rust for the length of a run).
local R, raw, ctx = ...
local G = _G
local ipairs, error, type, select, tostring, tonumber, rawget, rawset, next, unpack =
  ipairs, error, type, select, tostring, tonumber, rawget, rawset, next, unpack
local raw_setmetatable, raw_pcall, floor, ceil = setmetatable, pcall, math.floor, math.ceil

local RO = 'Attempt to modify a readonly table'
local protected = raw_setmetatable({}, {__mode = 'k'})
-- A read-only view -> the table it shows (next, pairs and rawget see
-- through it, as they see Redis's read-only tables' contents).
local under = raw_setmetatable({}, {__mode = 'k'})
-- The library tables' views: getmetatable gives nil for them, as for
-- Redis's library tables, which have no metatable.
local libviews = raw_setmetatable({}, {__mode = 'k'})
local function ro_newindex() error(RO, 2) end

-- A read-only view of t: reads go to t, writes fail as on Redis's
-- read-only tables, and its metatable (as getmetatable shows it) is
-- read-only too.
local function readonly(t)
  local mt = {__index = t, __newindex = ro_newindex}
  local mt_view = {}
  raw_setmetatable(mt_view, {__index = mt, __newindex = ro_newindex, __metatable = false})
  mt.__metatable = mt_view
  local p = raw_setmetatable({}, mt)
  protected[p] = true
  protected[mt_view] = true
  under[p] = t
  libviews[p] = true
  return p
end

local function toint(x)
  if x >= 0 then return floor(x) end
  return ceil(x)
end

local function op(...)
  local f = rawget(ctx, 'op')
  if f == nil then
    error({err = 'ERR redis.call/pcall can only be called inside a script invocation'})
  end
  return f(...)
end

local function trim(s)
  return (s:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', ''))
end

-- Redis's luaPushErrorBuff: "-CODE msg" or "msg" to {err = "CODE msg"}.
local function error_table(s)
  local code, msg
  if s:sub(1, 1) == '-' then
    local sp = s:find(' ', 1, true)
    if sp then
      code, msg = s:sub(2, sp - 1), s:sub(sp + 1)
    else
      code, msg = 'ERR', s:sub(2)
    end
  else
    code, msg = 'ERR', s
  end
  return {err = code .. ' ' .. trim(msg)}
end

local redis = {}

-- redis.call and redis.pcall are Rust functions set for each run: a
-- C function keeps its caller's frame even in a tail call, so errors
-- point at the user's line as in Redis.

function redis.setresp(...)
  if select('#', ...) ~= 1 then error({err = 'ERR redis.setresp() requires one argument.'}) end
  local n = toint(tonumber((...)) or 0)
  if n ~= 2 and n ~= 3 then error({err = 'ERR RESP version must be 2 or 3.'}) end
  op(3, n)
end

function redis.set_repl(...)
  if select('#', ...) ~= 1 then error({err = 'ERR redis.set_repl() requires two arguments.'}) end
  local n = toint(tonumber((...)) or 0)
  if n < 0 or n > 3 then
    error({err = 'ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.'})
  end
  op(4, n)
end

function redis.acl_check_cmd(...)
  local r, raise = op(5, ...)
  if raise then error(r, 0) end
  return r
end

function redis.replicate_commands() return true end
function redis.breakpoint() return false end
function redis.debug() end

redis.sha1hex = raw.sha1hex

function redis.error_reply(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  if s:sub(1, 1) ~= '-' then s = '-' .. s end
  return error_table(s)
end

function redis.status_reply(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = s}
end

function redis.log(...)
  local argc = select('#', ...)
  if argc < 2 then error({err = 'ERR redis.log() requires two arguments or more.'}) end
  local level = tonumber((...))
  if level == nil then error({err = 'ERR First argument must be a number (log level).'}) end
  level = toint(level)
  if level < 0 or level > 3 then error({err = 'ERR Invalid debug level.'}) end
  local parts = {}
  for i = 2, argc do
    local v = select(i, ...)
    if type(v) == 'string' or type(v) == 'number' then parts[#parts + 1] = tostring(v) end
  end
  raw.log(level, table.concat(parts, ' '))
end

redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION = raw.version
redis.REDIS_VERSION_NUM = raw.version_num

-- The table again, its fields set in the order Redis sets them
-- (luaRegisterRedisAPI, then eval.c's debugger functions), so that pairs
-- walks it in Redis's order. call and pcall are set by Rust over the
-- placeholders.
do
  local ordered = {}
  for _, k in ipairs({'call', 'pcall', 'log', 'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE',
      'LOG_WARNING', 'REDIS_VERSION_NUM', 'REDIS_VERSION', 'setresp', 'sha1hex',
      'error_reply', 'status_reply', 'set_repl', 'REPL_NONE', 'REPL_AOF', 'REPL_SLAVE',
      'REPL_REPLICA', 'REPL_ALL', 'acl_check_cmd', 'breakpoint', 'debug',
      'replicate_commands'}) do
    local v = redis[k]
    if v == nil then v = true end
    ordered[k] = v
  end
  redis = ordered
end

-- Redis 7.0's pcall: an error table with an 'err' string comes back as that
-- string, as in earlier versions.
local function pack(...) return select('#', ...), {...} end
G.pcall = function(...)
  local n, r = pack(raw_pcall(...))
  if r[1] then return unpack(r, 1, n) end
  local e = r[2]
  if type(e) == 'userdata' then
    -- An error table raised from Rust waits in ctx.err.
    local t = rawget(ctx, 'err')
    if t ~= nil then
      rawset(ctx, 'err', nil)
      e = t
    end
  end
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then e = m end
  end
  return false, e
end

-- Redis's Lua parses every chunk as text (it refuses precompiled code):
-- a binary chunk fails as the text parser fails on its first byte.
local raw_loadstring, raw_load, concat = loadstring, load, table.concat
local function binary_refused(s, name)
  local id = name or s
  if type(id) == 'string' and id:sub(1, 1) ~= '=' and id:sub(1, 1) ~= '@' then
    id = id:match('^[^\r\n]*')
    if #id > 42 or id ~= (name or s) then id = id:sub(1, 42) .. '...' end
    id = '[string "' .. id .. '"]'
  elseif type(id) == 'string' then
    id = id:sub(2)
  end
  return nil, tostring(id) .. ":1: unexpected symbol near 'char(27)'"
end
G.loadstring = function(s, name)
  if type(s) == 'string' and s:byte(1) == 27 then return binary_refused(s, name) end
  return raw_loadstring(s, name)
end
G.load = function(f, name)
  if type(f) ~= 'function' then return raw_load(f, name) end
  local parts = {}
  while true do
    local piece = f()
    if piece == nil or piece == '' then break end
    if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
    parts[#parts + 1] = piece
  end
  local s = concat(parts)
  if s:byte(1) == 27 then return binary_refused(s, name or '=(load)') end
  return raw_loadstring(s, name or '=(load)')
end

-- math.random and math.randomseed on Redis's own generator (redisLrand48).
local function checkint(n, v, fname, present)
  local x = tonumber(v)
  if x == nil then
    local got = present and type(v) or 'no value'
    error(("bad argument #%d to '%s' (number expected, got %s)"):format(n, fname, got), 3)
  end
  return toint(x)
end
math.random = function(...)
  local r = raw.rand()
  local n = select('#', ...)
  if n == 0 then return r end
  if n == 1 then
    local u = checkint(1, (...), 'random', true)
    if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 2) end
    return floor(r * u) + 1
  end
  if n == 2 then
    local l = checkint(1, (...), 'random', true)
    local u = checkint(2, (select(2, ...)), 'random', true)
    if l > u then error("bad argument #2 to 'random' (interval is empty)", 2) end
    return floor(r * (u - l + 1)) + l
  end
  error('wrong number of arguments', 2)
end
math.randomseed = function(...)
  raw.srand(checkint(1, (...), 'randomseed', select('#', ...) > 0))
end

G.redis = redis
local api = redis

-- next, pairs, rawget and getmetatable see through the read-only views.
-- Argument errors are raised at the caller's line with the C functions'
-- texts (luaL_checktype / luaL_checkany).
local raw_next, raw_getmetatable = next, getmetatable
local function want(fname, n, got, v, what)
  if got < n then
    if what == 'value' then error(("bad argument #%d to '%s' (value expected)"):format(n, fname), 3) end
    error(("bad argument #%d to '%s' (%s expected, got no value)"):format(n, fname, what), 3)
  end
  if what ~= 'value' and type(v) ~= what then
    error(("bad argument #%d to '%s' (%s expected, got %s)"):format(n, fname, what, type(v)), 3)
  end
end
G.next = function(...)
  local t, k = ...
  want('next', 1, select('#', ...), t, 'table')
  return raw_next(under[t] or t, k)
end
-- pairs returns its own next, as Lua's pairs returns an upvalue that is
-- not the global next.
local function pairs_next(t, k)
  return raw_next(under[t] or t, k)
end
G.pairs = function(...)
  local t = ...
  want('pairs', 1, select('#', ...), t, 'table')
  if under[t] == nil then return raw_next, t, nil end
  return pairs_next, t, nil
end
G.rawget = function(...)
  local t, k = ...
  local n = select('#', ...)
  want('rawget', 1, n, t, 'table')
  want('rawget', 2, n, k, 'value')
  return rawget(under[t] or t, k)
end
G.getmetatable = function(...)
  local t = ...
  want('getmetatable', 1, select('#', ...), t, 'value')
  if libviews[t] then return nil end
  return raw_getmetatable(t)
end

-- setmetatable and rawset refuse the read-only tables, with Redis's text.
G.setmetatable = function(t, m)
  if protected[t] then error(RO, 0) end
  return raw_setmetatable(t, m)
end
G.rawset = function(t, k, v)
  if protected[t] then error(RO, 0) end
  return rawset(t, k, v)
end

-- Keep only Redis's allowed globals (script_lua.c's allow lists): the
-- libraries, `redis`, and the base library's functions but `print`,
-- `dofile` and `loadfile` (its deny list) and `getfenv`, `setfenv` and
-- `newproxy`, which Redis's fix for CVE-2025-46818 (7.2.11, 7.4.6, 8.2.2,
-- and the 7.0.15 of Debian's security updates that the tests run) leaves
-- out unless `lua-enable-deprecated-api` is set, which relica does not
-- have. Scripts that read the others get "Script attempted to access
-- nonexistent global variable".
local allowed = {}
for _, k in ipairs({'string', 'cjson', 'bit', 'cmsgpack', 'math', 'table', 'struct',
    'redis', 'xpcall', 'tostring', 'setmetatable', 'next', 'assert',
    'tonumber', 'rawequal', 'collectgarbage', 'getmetatable', 'rawset', 'pcall',
    'coroutine', 'type', '_G', 'select', 'unpack', 'gcinfo', 'pairs', 'rawget',
    'loadstring', 'ipairs', '_VERSION', 'load', 'error'}) do
  allowed[k] = true
end
local names = {}
for k in next, G do names[#names + 1] = k end
for _, k in ipairs(names) do
  if allowed[k] then R[k] = rawget(G, k) end
  rawset(G, k, nil)
end
for _, lib in ipairs({'string', 'math', 'table', 'coroutine', 'redis', 'cjson', 'bit',
    'cmsgpack', 'struct'}) do
  if type(R[lib]) == 'table' then R[lib] = readonly(R[lib]) end
end
R._G = G

-- Where global reads go: R, or while a function library loads, the
-- library-load API (set_source below), as Redis's function engine swaps
-- its globals' __index between GLOBALS_API and LIBRARY_API. The globals'
-- __index is that table itself, so that reading a global is a table
-- lookup (as in Redis, whose globals are a real table), not a call; the
-- table's own __index raises for a name it does not have.
local function missing(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local missing_mt = {__index = missing}
raw_setmetatable(R, missing_mt)

local gmt = {__index = R, __newindex = ro_newindex}
local function set_source(t)
  if t ~= nil then raw_setmetatable(t, missing_mt) end
  gmt.__index = t or R
end
local gmt_view = raw_setmetatable({}, {__index = gmt, __newindex = ro_newindex, __metatable = false})
protected[gmt_view] = true
gmt.__metatable = gmt_view
raw_setmetatable(G, gmt)
protected[G] = true
under[G] = R

-- The `redis` table a function library sees while it loads: only
-- register_function, log and the constants (Redis's LIBRARY_API); other
-- names raise as nonexistent globals do. `collect(name, callback,
-- description, flags)` registers a function and returns nil, or the
-- error ("ERR ...") to raise.
local lower = string.lower
local function load_api(collect)
  local function fail(msg) error({err = 'ERR ' .. msg}) end
  local function is_str(v) return type(v) == 'string' or type(v) == 'number' end
  local function register_function(...)
    local e = collect()
    if e ~= nil then error({err = e}) end
    local argc = select('#', ...)
    if argc < 1 or argc > 2 then fail('wrong number of arguments to redis.register_function') end
    local name, callback, desc, flags
    if argc == 1 then
      local t = ...
      if type(t) ~= 'table' then
        fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
      end
      for k, v in next, t do
        if not is_str(k) then fail('named argument key given to redis.register_function is not a string') end
        local key = lower(tostring(k))
        if key == 'function_name' then
          if not is_str(v) then fail('function_name argument given to redis.register_function must be a string') end
          name = tostring(v)
        elseif key == 'description' then
          if not is_str(v) then fail('description argument given to redis.register_function must be a string') end
          desc = tostring(v)
        elseif key == 'callback' then
          if type(v) ~= 'function' then fail('callback argument given to redis.register_function must be a function') end
          callback = v
        elseif key == 'flags' then
          if type(v) ~= 'table' then fail('flags argument to redis.register_function must be a table representing function flags') end
          flags = {}
          local i = 1
          while true do
            local f = v[i]
            if f == nil then break end
            if not is_str(f) then fail('unknown flag given') end
            flags[i] = tostring(f)
            i = i + 1
          end
        else
          fail('unknown argument given to redis.register_function')
        end
      end
      if name == nil then fail('redis.register_function must get a function name argument') end
      if callback == nil then fail('redis.register_function must get a callback argument') end
    else
      name, callback = ...
      if not is_str(name) then fail('first argument to redis.register_function must be a string') end
      name = tostring(name)
      if type(callback) ~= 'function' then fail('second argument to redis.register_function must be a function') end
    end
    local e = collect(name, callback, desc, flags)
    if e ~= nil then error({err = e}) end
  end
  local r = {register_function = register_function, log = redis.log,
    LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE,
    LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
    REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM}
  raw_setmetatable(r, missing_mt)
  local p = raw_setmetatable({}, {__index = r, __newindex = ro_newindex, __metatable = false})
  protected[p] = true
  return {redis = p}
end

return api, set_source, load_api
