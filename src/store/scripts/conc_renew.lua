-- conc_renew.lua - renew a lease of conc_acquire.lua on a connection still open
--
-- KEYS[1]  PREFIX{NET}:conc:ip:IP, KEYS[2]  PREFIX{NET}:conc:net
-- ARGV[1]  the lease's name
-- ARGV[2]  lease length in milliseconds
--
-- Keys touched: KEYS. The lease gets a new expiry (Redis time + ARGV[2])
-- where it still is; one already dropped (it expired) is not taken again.
-- Returns how many of the two were renewed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local length = tonumber(ARGV[2])
local renewed = 0
for _, key in ipairs(KEYS) do
  renewed = renewed + redis.call('ZADD', key, 'XX', 'CH', now + length, ARGV[1])
  redis.call('PEXPIRE', key, 2 * length)
end
return renewed
