-- reputation_update.lua - add one verdict to an IP's and its network's reputation
--
-- KEYS[1]  PREFIX{NET}:rep:ip:IP  hash: c (clean), s (spam), t (last update, s)
-- KEYS[2]  PREFIX{NET}:rep:net    same fields
-- ARGV[1]  half-life in seconds
-- ARGV[2]  "spam" or "clean"
-- ARGV[3]  TTL in seconds
--
-- Keys touched: KEYS; both get ARGV[3] as TTL. Counts decay exponentially
-- with the half-life, so old history fades and a reformed sender recovers.
-- Returns 1.
local now = tonumber(redis.call('TIME')[1])
local half_life = tonumber(ARGV[1])
local spam = ARGV[2] == 'spam'
for _, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'c', 's', 't')
  local c, s, t = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or now
  local f = 0.5 ^ (math.max(0, now - t) / half_life)
  c, s = c * f, s * f
  if spam then s = s + 1 else c = c + 1 end
  redis.call('HSET', key, 'c', tostring(c), 's', tostring(s), 't', now)
  redis.call('EXPIRE', key, tonumber(ARGV[3]))
end
return 1
