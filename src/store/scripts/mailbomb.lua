-- mailbomb.lua - charge one message to a recipient: its rate (GCRA) and its distinct senders
--
-- KEYS[1]  PREFIX{rcpt:ADDR}:rate          string: the GCRA time in microseconds (see gcra.lua)
-- KEYS[2]  PREFIX{rcpt:ADDR}:from:WINDOW   HyperLogLog of the window's envelope senders
-- KEYS[3]  PREFIX{rcpt:ADDR}:probe         scratch: a copy of KEYS[2], deleted before the end
-- ARGV[1]  emission interval in microseconds (0: the rate is off)
-- ARGV[2]  burst
-- ARGV[3]  the envelope sender ("<>" for the null sender)
-- ARGV[4]  distinct senders allowed in the window (0: off)
-- ARGV[5]  seconds left in the window
--
-- Keys touched: KEYS. The counter expires when idle again, the
-- HyperLogLog with its window. A refused message advances neither.
-- Returns {refused, wait_ms, senders, KEYS[1]}: refused is 0, 1 (the rate
-- is full) or 2 (a new sender past the distinct senders allowed); wait_ms
-- is how long until the recipient has room again (0: it has); senders is
-- the window's count (about, when accepted: the count before, plus one if
-- this sender changed it; 0 when ARGV[4] is 0, which keeps no senders);
-- KEYS[1] says whose reply it is.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local limit, left = tonumber(ARGV[4]), tonumber(ARGV[5])
local tat = now
if interval > 0 then
  tat = tonumber(redis.call('GET', KEYS[1])) or now
  if tat < now then tat = now end
  if tat + interval - interval * burst > now then
    return {1, math.ceil((tat + interval - interval * burst - now) / 1000), redis.call('PFCOUNT', KEYS[2]), KEYS[1]}
  end
end
local senders, added = 0, 0
if limit > 0 then
  senders = redis.call('PFCOUNT', KEYS[2])
  if senders >= limit then
    -- A sender already counted adds nothing: PFADD says whether it would be new.
    redis.call('COPY', KEYS[2], KEYS[3], 'REPLACE')
    local new = redis.call('PFADD', KEYS[3], ARGV[3])
    redis.call('DEL', KEYS[3])
    if new == 1 then return {2, left * 1000, senders, KEYS[1]} end
  end
  -- The window's HyperLogLog gets its TTL when PFADD creates it (it then
  -- says it changed); a sender already counted changes nothing.
  added = redis.call('PFADD', KEYS[2], ARGV[3])
  if added == 1 then redis.call('EXPIRE', KEYS[2], left + 60) end
end
if interval > 0 then
  tat = tat + interval
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
end
local wait = 0
if interval > 0 then
  local w = tat + interval - interval * burst - now
  if w > 0 then wait = math.ceil(w / 1000) end
end
return {0, wait, senders + added, KEYS[1]}
