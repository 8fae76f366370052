-- outbreak.lua - count how widely a fingerprint is spread, and make it an outbreak
--
-- Run in the background, after the end of a message, for a fingerprint
-- whose copies over the sliding window (counted with plain commands in the
-- message's own pipeline) are at least half of outbreak.messages.
--
-- KEYS[1]  PREFIX{ob:FP}:net:W     HLL: client networks of window W; TTL 2 windows
-- KEYS[2]  PREFIX{ob:FP}:net:W-1
-- KEYS[3]  PREFIX{ob:FP}:from:W    HLL: envelope sender domains of window W; TTL 2 windows
-- KEYS[4]  PREFIX{ob:FP}:from:W-1
-- KEYS[5]  PREFIX{ob:FP}:hit       hash: kind, since, messages, networks, domains; TTL ARGV[9]
-- KEYS[6]  PREFIX{ob:FP}:clear     string: cleared by hand; TTL ARGV[9]
-- ARGV[1]  now, seconds since 1970
-- ARGV[2]  TTL of the window's keys (s): two windows
-- ARGV[3]  the client network
-- ARGV[4]  the envelope sender's domain ("<>" for the null sender)
-- ARGV[5]  the copies over the sliding window, this one included
-- ARGV[6]  copies that make an outbreak (over the sliding window)
-- ARGV[7]  distinct client networks that make an outbreak (over the two windows)
-- ARGV[8]  distinct sender domains that make an outbreak (over the two windows)
-- ARGV[9]  how long an outbreak, or a hand's clearing of it, is remembered (s)
-- ARGV[10] the fingerprint's kind
--
-- Keys touched: KEYS. The network and the domain are added to the
-- window's HyperLogLogs; once the copies are all of ARGV[6], both are
-- read over the two windows, and a fingerprint over every threshold, not
-- cleared by hand, gets its hit hash: the copies that follow, on any
-- node, find it.
-- Returns 1 when the fingerprint became an outbreak here, else 0.
if redis.call('EXISTS', KEYS[5]) == 1 then return 0 end
redis.call('PFADD', KEYS[1], ARGV[3])
redis.call('PFADD', KEYS[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[2])
local messages = tonumber(ARGV[5])
if messages < tonumber(ARGV[6]) then return 0 end
local networks = redis.call('PFCOUNT', KEYS[1], KEYS[2])
if networks < tonumber(ARGV[7]) then return 0 end
local domains = redis.call('PFCOUNT', KEYS[3], KEYS[4])
if domains < tonumber(ARGV[8]) then return 0 end
if redis.call('EXISTS', KEYS[6]) == 1 then return 0 end
redis.call('HSET', KEYS[5], 'kind', ARGV[10], 'since', ARGV[1], 'messages', messages,
           'networks', networks, 'domains', domains)
redis.call('EXPIRE', KEYS[5], tonumber(ARGV[9]))
return 1
