-- account_verdict.lua - add one verdict to an authenticated account's decayed spam share
--
-- KEYS[1]  PREFIX{acct:USER}:stat  hash (see account_count.lua): sc, ss, st
-- ARGV[1]  now, seconds since 1970
-- ARGV[2]  half-life in seconds
-- ARGV[3]  "spam" or "clean"
-- ARGV[4]  TTL in seconds
--
-- Keys touched: KEYS[1], which gets ARGV[4] as TTL. Returns 1.
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'sc', 'ss', 'st')
local sc, ss, st = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or now
local decay = 0.5 ^ (math.max(0, now - st) / tonumber(ARGV[2]))
sc, ss = sc * decay, ss * decay
if ARGV[3] == 'spam' then ss = ss + 1 else sc = sc + 1 end
redis.call('HSET', KEYS[1], 'sc', tostring(sc), 'ss', tostring(ss), 'st', math.max(now, st))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
