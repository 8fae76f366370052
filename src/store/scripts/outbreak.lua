-- outbreak.lua - count one copy of a fingerprint, and say whether it is an outbreak
--
-- KEYS[1]  PREFIX{ob:FP}:n:W       string: copies in window W; TTL 2 windows
-- KEYS[2]  PREFIX{ob:FP}:n:W-1     the same for the window before
-- KEYS[3]  PREFIX{ob:FP}:net:W     HLL: client networks of window W; TTL 2 windows
-- KEYS[4]  PREFIX{ob:FP}:net:W-1
-- KEYS[5]  PREFIX{ob:FP}:from:W    HLL: envelope sender domains of window W; TTL 2 windows
-- KEYS[6]  PREFIX{ob:FP}:from:W-1
-- KEYS[7]  PREFIX{ob:FP}:first     string: when the fleet first saw FP (s); TTL 2 windows
-- KEYS[8]  PREFIX{ob:FP}:hit       hash: kind, since, messages, networks, domains; TTL ARGV[9]
-- KEYS[9]  PREFIX{ob:FP}:clear     string: cleared by hand; TTL ARGV[9]
-- ARGV[1]  now, seconds since 1970
-- ARGV[2]  window length (s)
-- ARGV[3]  share of the window before still inside the sliding window, in thousandths
-- ARGV[4]  the client network
-- ARGV[5]  the envelope sender's domain ("<>" for the null sender)
-- ARGV[6]  copies that make an outbreak (over the sliding window)
-- ARGV[7]  distinct client networks that make an outbreak (over the two windows)
-- ARGV[8]  distinct sender domains that make an outbreak (over the two windows)
-- ARGV[9]  how long an outbreak, or a hand's clearing of it, is remembered (s)
-- ARGV[10] the fingerprint's kind
-- ARGV[11] "1": keep and read KEYS[7] (for outbreak.delay_s), else leave it
--
-- Keys touched: KEYS. The copies are counted first. The networks and
-- domains are counted only once the copies (over the sliding window) are
-- half of ARGV[6], and read only once they are all of it: most
-- fingerprints are seen once, and cost an INCR, an EXPIRE, an EXISTS and
-- a GET.
-- Returns {state, age, messages, networks, domains}: state 0 (none), 1 (a
-- known outbreak) or 2 (an outbreak from this copy on); age the seconds
-- since the fleet first saw FP (0 unless ARGV[11] is "1"); the counts 0
-- when not read.
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local ttl = 2 * window
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ttl) end
local age = 0
if ARGV[11] == '1' then
  local first = tonumber(redis.call('GET', KEYS[7]))
  if first == nil then
    redis.call('SET', KEYS[7], ARGV[1], 'EX', ttl)
    first = now
  end
  age = now - first
end
if redis.call('EXISTS', KEYS[8]) == 1 then return {1, age, 0, 0, 0} end
local messages = n + math.floor((tonumber(redis.call('GET', KEYS[2])) or 0) * tonumber(ARGV[3]) / 1000)
-- Networks and domains are counted from half the copies on: most
-- fingerprints never get a second copy, and cost two commands less.
local gate = math.ceil(tonumber(ARGV[6]) / 2)
if messages < gate then return {0, age, messages, 0, 0} end
redis.call('PFADD', KEYS[3], ARGV[4])
redis.call('PFADD', KEYS[5], ARGV[5])
if n == 1 or messages - 1 < gate then
  redis.call('EXPIRE', KEYS[3], ttl)
  redis.call('EXPIRE', KEYS[5], ttl)
end
if messages < tonumber(ARGV[6]) then return {0, age, messages, 0, 0} end
local networks = redis.call('PFCOUNT', KEYS[3], KEYS[4])
if networks < tonumber(ARGV[7]) then return {0, age, messages, networks, 0} end
local domains = redis.call('PFCOUNT', KEYS[5], KEYS[6])
if domains < tonumber(ARGV[8]) then return {0, age, messages, networks, domains} end
if redis.call('EXISTS', KEYS[9]) == 1 then return {0, age, messages, networks, domains} end
redis.call('HSET', KEYS[8], 'kind', ARGV[10], 'since', ARGV[1], 'messages', messages,
           'networks', networks, 'domains', domains)
redis.call('EXPIRE', KEYS[8], tonumber(ARGV[9]))
return {2, age, messages, networks, domains}
