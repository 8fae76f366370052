-- reputation_read.lua - decayed clean/spam verdict counts of an IP and its network
--
-- KEYS[1]  PREFIX{NET}:rep:ip:IP  hash: c (clean), s (spam), t (last update, s)
-- KEYS[2]  PREFIX{NET}:rep:net    same fields
-- ARGV[1]  half-life in seconds
--
-- Keys touched: KEYS, read only.
-- Returns {ip_clean, ip_spam, net_clean, net_spam}, each decayed to now and
-- multiplied by 1000 (Redis replies carry integers).
local now = tonumber(redis.call('TIME')[1])
local half_life = tonumber(ARGV[1])
local out = {}
for _, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'c', 's', 't')
  local c, s, t = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or now
  local f = 0.5 ^ (math.max(0, now - t) / half_life)
  out[#out + 1] = math.floor(c * f * 1000)
  out[#out + 1] = math.floor(s * f * 1000)
end
return out
