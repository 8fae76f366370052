-- bayes_read.lua - the counts of a message's tokens in one shard
--
-- KEYS[1..]   PREFIX{bayes:SHARD}:tok:BUCKET   hash: token -> "SPAM:HAM:DAY"
-- ARGV        for each bucket KEYS[i]: a count n, then n token fields
--
-- Keys touched: KEYS only, read only.
-- Returns one value per token field, in order: "SPAM:HAM:DAY", or nil for
-- a token never learned.
--
-- unpack() is bounded by Lua's stack (about 8000 values), and a bucket
-- may be asked for more tokens than that: HMGET is sent in slices.
local SLICE = 1000
local out, a = {}, 1
for k = 1, #KEYS do
  local n = tonumber(ARGV[a])
  local fields = {}
  for j = 1, n do fields[j] = ARGV[a + j] end
  a = a + n + 1
  for i = 1, n, SLICE do
    local values = redis.call('HMGET', KEYS[k], unpack(fields, i, math.min(n, i + SLICE - 1)))
    for j = 1, #values do out[#out + 1] = values[j] end
  end
end
return out
