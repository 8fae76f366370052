-- greylist.lua - greylist one message: its client network, sender and recipients
--
-- KEYS[1]     PREFIX{grey:NET}:ok:DOMAIN      string: the sender domain retried correctly
--                                              from NET; TTL ARGV[4]
-- KEYS[2..n]  PREFIX{grey:NET}:t:SENDER:RCPT  string: when the triplet was first seen (s);
--                                              TTL ARGV[3]
-- ARGV[1]  now, seconds since 1970
-- ARGV[2]  delay: seconds a triplet must wait before a retry passes
-- ARGV[3]  how long a triplet waits for its retry
-- ARGV[4]  how long a sender that retried correctly is remembered
--
-- Keys touched: KEYS. A message passes when its network and sender domain
-- are remembered, or when every triplet was first seen at least ARGV[2]
-- seconds ago; then the domain is remembered (again) for ARGV[4].
-- Returns {0, "known"}, {0, "passed"}, or {1, wait}: wait is the seconds
-- until the youngest triplet may pass (ARGV[2] for a new one).
local now, delay = tonumber(ARGV[1]), tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
  return {0, 'known'}
end
local wait = 0
for i = 2, #KEYS do
  local first = tonumber(redis.call('GET', KEYS[i]))
  if first == nil then
    redis.call('SET', KEYS[i], tostring(now), 'EX', tonumber(ARGV[3]))
    first = now
  end
  if now - first < delay and delay - (now - first) > wait then wait = delay - (now - first) end
end
if wait > 0 then return {1, wait} end
redis.call('SET', KEYS[1], '1', 'EX', tonumber(ARGV[4]))
return {0, 'passed'}
