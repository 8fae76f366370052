-- account_count.lua - count one message of an authenticated account and judge the account
--
-- KEYS[1]  PREFIX{acct:USER}:stat         hash: w (window), m, r, d, i (its messages, recipients,
--                                         domains, addresses), bm, br, bd, bi (baselines), tw (a
--                                         window in which it was blocked), sc, ss, st (decayed
--                                         clean and spam verdicts, when), nw (window last notified)
-- KEYS[2]  PREFIX{acct:USER}:dom:WINDOW   HyperLogLog of recipient domains
-- KEYS[3]  PREFIX{acct:USER}:ip:WINDOW    HyperLogLog of client addresses
-- KEYS[4]  PREFIX{acct:USER}:block        hash: kind, reason, since
-- ARGV[1]  now, seconds since 1970          ARGV[2]  window length in seconds
-- ARGV[3]  recipients of the message        ARGV[4]  client address, "" when none
-- ARGV[5]  TTL of the stat hash (s)         ARGV[6..9]  limits: messages, recipients, domains, addresses
-- ARGV[10] baseline factor                  ARGV[11] baseline weight of a new window (0..1)
-- ARGV[12] spam share limit (0: off)        ARGV[13] verdicts needed for it
-- ARGV[14] verdict half-life (s)            ARGV[15] action: notify, throttle, hold or lock
-- ARGV[16..] the message's recipient domains
--
-- Keys touched: KEYS. The stat hash gets ARGV[5] as TTL, the HyperLogLogs
-- two windows. When the account's last active window is over, its counts
-- feed the baselines (decayed averages; a window in which it was blocked,
-- ARGV[15] not being notify, does not). A count over max(limit, factor * baseline), a limit of 0
-- being off, makes the account a suspect; so does a spam share over ARGV[12].
-- A suspect gets a block (unless ARGV[15] is notify, or it has one): kind
-- ARGV[15], with no TTL for lock and until the window's end otherwise.
-- Returns {suspect, value, limit, new, m, r, d, i, reason}: suspect is 0, or
-- 1..4 for the count over its limit (value, limit) or 5 for the spam share
-- (value and limit in thousandths); new is 1 when this call made the block
-- (or, for notify, is the window's first).
local now, win = tonumber(ARGV[1]), tonumber(ARGV[2])
local w = math.floor(now / win)
local f = redis.call('HMGET', KEYS[1], 'w', 'm', 'r', 'd', 'i', 'bm', 'br', 'bd', 'bi', 'tw', 'sc', 'ss', 'st', 'nw')
local cw = tonumber(f[1])
local cur = {tonumber(f[2]) or 0, tonumber(f[3]) or 0, tonumber(f[4]) or 0, tonumber(f[5]) or 0}
local base = {tonumber(f[6]), tonumber(f[7]), tonumber(f[8]), tonumber(f[9])}
local tw = tonumber(f[10])
if cw ~= nil and w > cw then
  if tw ~= cw then
    local alpha = tonumber(ARGV[11])
    for k = 1, 4 do
      if base[k] == nil then base[k] = cur[k] else base[k] = base[k] + alpha * (cur[k] - base[k]) end
    end
  end
  cur = {0, 0, 0, 0}
elseif cw ~= nil then
  w = cw -- a node whose clock is a little behind counts into the window under way
end
cur[1] = cur[1] + 1
cur[2] = cur[2] + tonumber(ARGV[3])
for k = 16, #ARGV, 500 do
  redis.call('PFADD', KEYS[2], unpack(ARGV, k, math.min(k + 499, #ARGV)))
end
cur[3] = redis.call('PFCOUNT', KEYS[2])
if ARGV[4] ~= '' then redis.call('PFADD', KEYS[3], ARGV[4]) end
cur[4] = redis.call('PFCOUNT', KEYS[3])
redis.call('EXPIRE', KEYS[2], 2 * win)
redis.call('EXPIRE', KEYS[3], 2 * win)

local names = {'messages', 'recipients', 'domains', 'addresses'}
local factor = tonumber(ARGV[10])
local suspect, value, limit, reason = 0, 0, 0, ''
for k = 1, 4 do
  local l = tonumber(ARGV[5 + k])
  if l > 0 then
    if base[k] ~= nil and factor * base[k] > l then l = math.floor(factor * base[k]) end
    if suspect == 0 and cur[k] > l then
      suspect, value, limit = k, cur[k], l
      reason = string.format('%d %s in the window, over %d', cur[k], names[k], l)
    end
  end
end
local sc, ss, st = tonumber(f[11]) or 0, tonumber(f[12]) or 0, tonumber(f[13]) or now
local decay = 0.5 ^ (math.max(0, now - st) / tonumber(ARGV[14]))
sc, ss = sc * decay, ss * decay
local share = tonumber(ARGV[12])
if suspect == 0 and share > 0 and sc + ss >= tonumber(ARGV[13]) and ss / (sc + ss) > share then
  suspect, value, limit = 5, math.floor(1000 * ss / (sc + ss)), math.floor(1000 * share)
  reason = string.format('%.0f%% of %.1f recent verdicts spam, over %.0f%%', 100 * ss / (sc + ss), sc + ss, 100 * share)
end

local new = 0
if suspect > 0 then
  local action = ARGV[15]
  if action ~= 'notify' then tw = w end
  if action == 'notify' then
    if tonumber(f[14]) ~= w then
      new = 1
      redis.call('HSET', KEYS[1], 'nw', w)
    end
  elseif redis.call('EXISTS', KEYS[4]) == 0 then
    new = 1
    redis.call('HSET', KEYS[4], 'kind', action, 'reason', reason, 'since', now)
    if action ~= 'lock' then redis.call('EXPIRE', KEYS[4], math.max(1, (w + 1) * win - now)) end
  end
end
redis.call('HSET', KEYS[1], 'w', w, 'm', cur[1], 'r', cur[2], 'd', cur[3], 'i', cur[4])
for k, field in ipairs({'bm', 'br', 'bd', 'bi'}) do
  if base[k] ~= nil then redis.call('HSET', KEYS[1], field, tostring(base[k])) end
end
if tw ~= nil then redis.call('HSET', KEYS[1], 'tw', tw) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {suspect, value, limit, new, cur[1], cur[2], cur[3], cur[4], reason}
