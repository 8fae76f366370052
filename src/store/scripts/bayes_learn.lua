-- bayes_learn.lua - learn one message as spam or ham, or forget it, in one shard
--
-- KEYS[1]     PREFIX{bayes:SHARD}:seen:DIGEST  string: "spam" or "ham", the
--             class this message was learned as (in this shard)
-- KEYS[2]     PREFIX{bayes:SHARD}:meta         hash: spam, ham (messages learned), buckets
-- KEYS[3..]   PREFIX{bayes:SHARD}:tok:BUCKET   hash: token -> "SPAM:HAM:DAY"
-- ARGV[1]     "spam", "ham" or "forget"
-- ARGV[2]     TTL of the seen record, in seconds
-- ARGV[3]     TTL of the buckets and the meta hash, in seconds
-- ARGV[4]     today, in days since 1970-01-01
-- ARGV[5]     the number of buckets (bayes.buckets), recorded in the meta hash
-- ARGV[6..]   for each bucket KEYS[2+i]: a count n, then n token fields
--
-- Keys touched: KEYS only (one hash tag). A message already learned as
-- ARGV[1] changes nothing; one learned as the other class is moved (its
-- old counts taken back); "forget" takes back what it was learned as.
-- Counts never go below zero; a token with no count left is deleted. Each
-- token learned gets DAY = ARGV[4], for the expiry of rare stale tokens.
-- Returns {changed, previous}: changed 1 when counts moved, 0 when not;
-- previous the class it was learned as before ("" when none).
--
-- unpack() is bounded by Lua's stack (about 8000 values), and a bucket
-- may be sent more tokens than that: every call with a list of fields is
-- made in slices of at most SLICE.
local SLICE = 1000
local function hmget(key, fields)
  local values = {}
  for i = 1, #fields, SLICE do
    local part = redis.call('HMGET', key, unpack(fields, i, math.min(#fields, i + SLICE - 1)))
    for j = 1, #part do values[i + j - 1] = part[j] end
  end
  return values
end
local function each_slice(command, key, args, step)
  for i = 1, #args, step do
    redis.call(command, key, unpack(args, i, math.min(#args, i + step - 1)))
  end
end

local prev = redis.call('GET', KEYS[1]) or ''
local class = ARGV[1]
if class == prev or (class == 'forget' and prev == '') then
  return {0, prev}
end
local ds, dh = 0, 0
if prev == 'spam' then ds = -1 elseif prev == 'ham' then dh = -1 end
if class == 'spam' then ds = ds + 1 elseif class == 'ham' then dh = dh + 1 end
local ttl, day = tonumber(ARGV[3]), ARGV[4]
local a = 6
for k = 3, #KEYS do
  local n = tonumber(ARGV[a])
  local fields = {}
  for j = 1, n do fields[j] = ARGV[a + j] end
  a = a + n + 1
  local values = hmget(KEYS[k], fields)
  local set, del = {}, {}
  for j = 1, n do
    local s, h = 0, 0
    if values[j] then
      local vs, vh = string.match(values[j], '^(%d+):(%d+)')
      s, h = tonumber(vs) or 0, tonumber(vh) or 0
    end
    s, h = math.max(0, s + ds), math.max(0, h + dh)
    if s + h == 0 then
      del[#del + 1] = fields[j]
    else
      set[#set + 1] = fields[j]
      set[#set + 1] = s .. ':' .. h .. ':' .. day
    end
  end
  each_slice('HDEL', KEYS[k], del, SLICE)
  if #set > 0 then
    each_slice('HSET', KEYS[k], set, 2 * SLICE) -- field, value pairs
    redis.call('EXPIRE', KEYS[k], ttl)
  end
end
local counts = redis.call('HMGET', KEYS[2], 'spam', 'ham')
local spam = math.max(0, (tonumber(counts[1]) or 0) + ds)
local ham = math.max(0, (tonumber(counts[2]) or 0) + dh)
redis.call('HSET', KEYS[2], 'spam', spam, 'ham', ham, 'buckets', ARGV[5])
redis.call('EXPIRE', KEYS[2], ttl)
if class == 'forget' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], class, 'EX', tonumber(ARGV[2]))
end
return {1, prev}
