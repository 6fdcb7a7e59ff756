--[[ A reserved login attempt succeeded: give this one attempt back to both counters (never below
0; a counter that reaches 0 is deleted, as it would be had it never been counted). Failures
stay counted until their window ends: a success never clears them, so no account's success can
reset failures counted against another spelling of its name (`ALICE` against `alice`).
KEYS[1] the ip's counter               KEYS[2] the username+ip counter (same hash tag)
ARGV[1] now ms ('' = Redis TIME)       ARGV[2] deadline ms ('' = none)
Reply: 'late' (nothing given back) after the deadline; else the ip's count after the release
]]
if isLate(nowMs(ARGV[1]), ARGV[2]) then return 'late' end
local counts = {}
for i = 1, 2 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count <= 1 then
    redis.call('DEL', KEYS[i])
    counts[i] = 0
  else
    -- DECR keeps the key's TTL: the window does not move.
    counts[i] = redis.call('DECR', KEYS[i])
  end
end
return counts[1]
