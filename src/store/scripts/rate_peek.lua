-- rate_peek.lua - how many events a GCRA counter has room for now
--
-- KEYS[1]  a rate counter written by gcra.lua
-- ARGV[1]  emission interval in microseconds
-- ARGV[2]  burst
--
-- Keys touched: KEYS[1], read only.
-- Returns {room, backlog_ms}: events that would pass now, and how many
-- milliseconds the counter's TAT is ahead of Redis time.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local backlog = tat - now
local room = burst - math.ceil(backlog / interval)
if room < 0 then room = 0 end
return {room, math.ceil(backlog / 1000)}
