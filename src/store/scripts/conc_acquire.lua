-- conc_acquire.lua - take a lease on one concurrent connection of a client address and its network
--
-- KEYS[1]  PREFIX{NET}:conc:ip:IP  sorted set: lease -> expiry (ms of Redis time)
-- KEYS[2]  PREFIX{NET}:conc:net    the same for the network
-- ARGV[1]  the lease's name (NODE:N)
-- ARGV[2]  lease length in milliseconds
-- ARGV[3]  concurrent connections allowed per address (0: not limited)
-- ARGV[4]  concurrent connections allowed per network (0: not limited)
--
-- Keys touched: KEYS. Expired leases (a node that died, or stopped
-- renewing) are dropped first, so that no count can leak. Both sets
-- expire two lease lengths after their last change.
-- Returns {refused, ip_count, net_count}: refused is 0 (the lease is
-- taken in both), 1 (the address is at its limit) or 2 (the network is);
-- the counts are before this connection.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local length = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local ip, net = redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])
local ip_limit, net_limit = tonumber(ARGV[3]), tonumber(ARGV[4])
if ip_limit > 0 and ip >= ip_limit then return {1, ip, net} end
if net_limit > 0 and net >= net_limit then return {2, ip, net} end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + length, ARGV[1])
  redis.call('PEXPIRE', key, 2 * length)
end
return {0, ip, net}
