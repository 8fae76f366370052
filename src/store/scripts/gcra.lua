-- gcra.lua - atomic rate limit check over one or more counters (GCRA)
--
-- KEYS[1..n]  rate counters, all under one hash tag; each holds the
--             "theoretical arrival time" (TAT) in microseconds of Redis time
-- ARGV[2i-1]  emission interval of KEYS[i] in microseconds (period / count)
-- ARGV[2i]    burst of KEYS[i]: how many events may arrive at once
--
-- Keys touched: KEYS only. Each is written with a PX TTL that ends when the
-- counter is back to idle, so idle clients leave nothing behind.
-- Returns 0 when every counter has room (all are advanced), or
-- {i, retry_ms}: the first counter over its limit and how many milliseconds
-- until it has room again (no counter is advanced).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local next_tat = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - interval * burst
  if allow_at > now then
    return {i, math.ceil((allow_at - now) / 1000)}
  end
  next_tat[i] = new_tat
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, string.format('%d', next_tat[i]), 'PX', math.ceil((next_tat[i] - now) / 1000) + 1000)
end
return 0
