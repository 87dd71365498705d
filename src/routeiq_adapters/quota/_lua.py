"""Lua scripts of the Redis quota store, run atomically inside Redis.

They mirror the sliding-window arithmetic of :mod:`routeiq_core.access.quota_window` line by line.

A counter is a hash: ``lo`` (lowest bucket still counted), ``total`` (sum of counted buckets) and
one field per bucket index. Amounts change only through ``HINCRBY`` with the exact integers sent by
the client, so totals stay exact integers.
"""

_ADVANCE = """
local now = tonumber(ARGV[1])

-- Forget buckets older than the window; return the effective bucket, lo and total.
local function advance(key, bucket_ms, n)
  local cur = math.floor(now / bucket_ms)
  local lo = tonumber(redis.call('HGET', key, 'lo'))
  if not lo then
    redis.call('HSET', key, 'lo', cur - n, 'total', 0)
    return cur, cur - n, 0
  end
  if cur < lo + n then cur = lo + n end
  local total = tonumber(redis.call('HGET', key, 'total')) or 0
  local cutoff = cur - n
  if cutoff > lo then
    if cutoff > lo + n then
      redis.call('DEL', key)
      redis.call('HSET', key, 'lo', cutoff, 'total', 0)
      total = 0
    else
      for i = lo, cutoff - 1 do
        local field = tostring(i)
        local v = redis.call('HGET', key, field)
        if v then
          redis.call('HDEL', key, field)
          redis.call('HINCRBY', key, 'total', -tonumber(v))
          total = total - tonumber(v)
        end
      end
      redis.call('HSET', key, 'lo', cutoff)
    end
    lo = cutoff
  end
  return cur, lo, total
end
"""

RESERVE = (
    _ADVANCE
    + """
-- KEYS[1]: reservation marker; KEYS[1 + i]: counter of item i.
-- ARGV: now_ms, reservation_ttl_ms, then per item: amount, limit, bucket_ms, buckets.
local count = (#ARGV - 2) / 4
local cur = {}
local refused, refused_current, refused_retry = 0, 0, -1

local function retry_after(key, lo, top, total, amount, limit, bucket_ms, n)
  if amount > limit then return n * bucket_ms end
  local remaining = total
  for i = lo, top do
    local v = redis.call('HGET', key, tostring(i))
    if v then remaining = remaining - tonumber(v) end
    if remaining + amount <= limit then
      local wait = (i + n + 1) * bucket_ms - now
      if wait < 0 then wait = 0 end
      return wait
    end
  end
  return n * bucket_ms
end

for i = 1, count do
  local base = 3 + (i - 1) * 4
  local key = KEYS[i + 1]
  local amount, limit = tonumber(ARGV[base]), tonumber(ARGV[base + 1])
  local bucket_ms, n = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  local top, lo, total = advance(key, bucket_ms, n)
  cur[i] = top
  if total + amount > limit then
    local wait = retry_after(key, lo, top, total, amount, limit, bucket_ms, n)
    if wait > refused_retry then
      refused, refused_current, refused_retry = i, total, wait
    end
  end
end

for i = 1, count do
  local base = 3 + (i - 1) * 4
  local key = KEYS[i + 1]
  if refused == 0 then
    redis.call('HINCRBY', key, tostring(cur[i]), ARGV[base])
    redis.call('HINCRBY', key, 'total', ARGV[base])
  end
  redis.call('PEXPIRE', key, (tonumber(ARGV[base + 3]) + 2) * tonumber(ARGV[base + 2]))
end

if refused > 0 then
  return {0, refused, refused_current, refused_retry}
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
local out = {1}
for i = 1, count do out[i + 1] = cur[i] end
return out
"""
)

SETTLE = (
    _ADVANCE
    + """
-- KEYS[1]: reservation marker; KEYS[1 + i]: counter of item i.
-- ARGV: now_ms, then per item: bucket index, delta, bucket_ms, buckets.
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
local count = (#ARGV - 1) / 4
for i = 1, count do
  local base = 2 + (i - 1) * 4
  local key = KEYS[i + 1]
  if redis.call('EXISTS', key) == 1 then
    local bucket_ms, n = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
    local _, lo = advance(key, bucket_ms, n)
    local index = tonumber(ARGV[base])
    local v = tonumber(redis.call('HGET', key, ARGV[base]))
    if index >= lo and v then
      local delta = tonumber(ARGV[base + 1])
      if delta < -v then delta = -v end
      if delta ~= 0 then
        redis.call('HINCRBY', key, ARGV[base], delta)
        redis.call('HINCRBY', key, 'total', delta)
      end
    end
    redis.call('PEXPIRE', key, (n + 2) * bucket_ms)
  end
end
return 1
"""
)
