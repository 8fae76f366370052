-- gcra.lua - atomic rate limit check over one or more counters (GCRA)
--
-- KEYS[1..n]  rate counters, all under one hash tag; each holds the
--             "theoretical arrival time" (TAT) in microseconds of Redis time
-- ARGV[2i-1]  emission interval of KEYS[i] in microseconds (period / count)
-- ARGV[2i]    burst of KEYS[i]: how many events may arrive at once
--
-- Keys touched: KEYS only. Each is written with a PX TTL that ends when the
-- counter is back to idle, so idle clients leave nothing behind.
-- Returns {refused, wait_1, ..., wait_n}: refused is 0 when every counter
-- had room (all are advanced), or i, the first counter over its limit (none
-- is advanced); wait_i is how many milliseconds until KEYS[i] has room for
-- one more event (0: it has room now).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tats, refused = {}, 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  tats[i] = tat
  if refused == 0 and tat + interval - interval * burst > now then
    refused = i
  end
end
if refused == 0 then
  for i, key in ipairs(KEYS) do
    tats[i] = tats[i] + tonumber(ARGV[2 * i - 1])
    redis.call('SET', key, string.format('%d', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000) + 1000)
  end
end
local out = {refused}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local wait = tats[i] + interval - interval * tonumber(ARGV[2 * i]) - now
  out[i + 1] = wait > 0 and math.ceil(wait / 1000) or 0
end
return out
