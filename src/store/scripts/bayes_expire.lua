-- bayes_expire.lua - delete rare tokens not learned for a long time
--
-- KEYS[1..]   PREFIX{bayes:SHARD}:tok:BUCKET   hash: token -> "SPAM:HAM:DAY"
-- ARGV[1]     today, in days since 1970-01-01
-- ARGV[2]     days: a token last learned at least this long ago ...
-- ARGV[3]     count: ... with at most this many spam + ham counts is deleted
--
-- Keys touched: KEYS only. A bucket left empty disappears (Redis deletes
-- an empty hash).
-- Returns {tokens deleted, tokens kept}.
local today, days, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local deleted, kept = 0, 0
for _, key in ipairs(KEYS) do
  local all = redis.call('HGETALL', key)
  local del = {}
  for i = 1, #all, 2 do
    local s, h, d = string.match(all[i + 1], '^(%d+):(%d+):(%d+)')
    s, h, d = tonumber(s) or 0, tonumber(h) or 0, tonumber(d) or 0
    if s + h <= max and today - d >= days then
      del[#del + 1] = all[i]
    else
      kept = kept + 1
    end
  end
  -- unpack() is bounded by Lua's stack: delete in slices.
  for i = 1, #del, 1000 do
    redis.call('HDEL', key, unpack(del, i, math.min(#del, i + 999)))
  end
  deleted = deleted + #del
end
return {deleted, kept}
